// The print button of the convocation (no inline script: the CSP forbids it).
document.getElementById("print")?.addEventListener("click", () => window.print());
