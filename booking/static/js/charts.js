// Draw the dashboard's charts from its own data tables (Chart.js, served from our static files).
(function () {
  if (typeof Chart === "undefined") return; // the tables stay: they hold every figure
  // « < 5 » is a hidden count: no bar, no point (null), never the number 5.
  const number = (text) => (/</.test(text) || String(text).trim() === "" ? null
    : Number(String(text).replace(",", ".").replace(/[^\d.]/g, "")));
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const table = document.querySelector(`table[data-table="${canvas.dataset.chart}"]`);
    const headers = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
    const rows = [...table.querySelectorAll("tbody tr")].map((tr) => [...tr.children].map((c) => c.textContent));
    let config;
    if (canvas.dataset.chart === "trend") {
      config = { type: "line", data: { labels: rows.map((r) => r[0]), datasets: headers.slice(1).map((h, i) => ({
        label: h, data: rows.map((r) => number(r[i + 1])) })) } };
    } else {
      config = { type: "bar", data: { labels: headers.slice(1, -1), datasets: [{ label: rows[0][0] || "Rendez-vous",
        data: rows[0].slice(1, -1).map(number), backgroundColor: "#0b4f9c" }] } };
    }
    config.options = { animation: false, plugins: { legend: { display: true } } };
    new Chart(canvas, config);
  });
})();
