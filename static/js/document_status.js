// After a signature the PDFs are rendered by the job worker: the page says so and polls
// until both are stored, then says they are ready (no reload needed).
(function () {
  const status = document.getElementById("pdf-status");
  if (!status || status.dataset.ready === "yes") return;
  async function poll() {
    const response = await fetch(status.dataset.url, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const s = await response.json();
      if (s.withdrawn) {
        // Withdrawn as entered in error meanwhile (another tab, another doctor): it has no
        // PDF, so none is offered (its stored PDFs had been said ready; an audit, 2026-12-07).
        status.textContent = s.withdrawn;
        status.dataset.ready = "withdrawn";
        document.getElementById("clinician-pdf")?.remove();
        return;
      }
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
