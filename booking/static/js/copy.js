// The « Copier le lien » button of the calendar feed (no inline script: the CSP forbids it).
const button = document.getElementById("copy-feed");
button?.addEventListener("click", async () => {
  const field = document.getElementById(button.dataset.target);
  const done = document.getElementById("copy-feed-done");
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    done.textContent = "Lien copié.";
  } catch {
    // Without clipboard access (plain http), the selected text is left for Ctrl+C.
    done.textContent = "Le lien est sélectionné : copiez-le avec Ctrl+C.";
  }
});
