// Fill the postal code from the chosen commune, unless the person typed another one of their own.
const commune = document.getElementById("commune_insee");
const postal = document.getElementById("postal_code");
if (commune && postal && commune.dataset.postalCodes) {
  const codes = JSON.parse(commune.dataset.postalCodes);
  let filled = codes[commune.value] || "";
  commune.addEventListener("change", () => {
    if (postal.value === "" || postal.value === filled) {
      filled = codes[commune.value] || "";
      postal.value = filled;
    }
  });
}
