// Polls the job's status endpoint and updates the progress bar until the job ends.
(function () {
  const box = document.getElementById("job");
  if (!box) return;
  const bar = document.getElementById("job-progress");
  const state = document.getElementById("job-state");
  const error = document.getElementById("job-error");
  const report = document.getElementById("job-report");
  const dead = document.getElementById("job-worker-dead");
  const reportUrl = box.dataset.reportUrl.replace(/0$/, "");

  async function poll() {
    const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return setTimeout(poll, 3000);
    const s = await response.json();
    bar.value = s.progress_pct;
    state.innerHTML = "";
    const strong = document.createElement("strong");
    strong.textContent = s.state;
    state.append(strong, s.message ? ": " + s.message : "");
    if (s.error) { error.textContent = s.error; error.hidden = false; }
    if (dead) dead.hidden = !s.worker_dead;
    if (s.report_id) {
      report.querySelector("a").href = reportUrl + s.report_id;
      report.hidden = false;
    }
    if (s.state === "failed") { window.location.reload(); return; }
    if (s.state !== "succeeded") setTimeout(poll, 1000);
  }
  const initial = state.querySelector("strong").textContent;
  if (initial === "queued" || initial === "running") setTimeout(poll, 500);
})();
