// After a signature the PDFs are rendered by the job worker: the page says so and polls
// until both are stored, then says they are ready (no reload needed).
(function () {
  const status = document.getElementById("pdf-status");
  if (!status || status.dataset.ready === "yes") return;
  async function poll() {
    const response = await fetch(status.dataset.url, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const s = await response.json();
      if (Object.values(s.ready).every(Boolean)) {
        status.textContent = `PDFs of version ${s.version_no} ready`;
        status.dataset.ready = "yes";
        return;
      }
    }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 1000);
})();
