// The review page's ECG: an overview of the whole record (min/max envelope of the analysis
// lead, rhythm episodes shaded) and a window fetched on demand, drawn on ECG paper at a chosen
// speed (mm/s) and gain (mm/mV): the 12-lead sheet (3 x 4 + lead II rhythm) for a standard
// 12-lead recording, or every lead stacked. Calipers measure on the strips. SVG traces, not
// WebGL: Plotly's WebGL compiles code with eval, which the portal's Content-Security-Policy
// forbids. Layout helpers: ecg_paper.js; calipers: ecg_calipers.js.
(function () {
  const overviewDiv = document.getElementById("ecg-overview");
  const detailDiv = document.getElementById("ecg-detail");
  if (!overviewDiv || !window.Plotly || !window.EcgPaper || !window.EcgCalipers) return;
  const Paper = window.EcgPaper, Calipers = window.EcgCalipers;
  const $ = (id) => document.getElementById(id);
  const url = overviewDiv.dataset.url;
  const COLORS = { N: "#2b7a3d", S: "#c77c00", V: "#c62828", F: "#6a1b9a", Q: "#777777" };
  // A shape per class too: a class told by colour alone is lost to colour-blind readers and
  // on a grey printout (an accessibility look at the review page).
  const SYMBOLS = { N: "triangle-down", S: "diamond", V: "square", F: "star", Q: "circle-open" };
  // mode: "twelve" (the paper 12-lead) or "stacked"; chosen once the leads are known.
  const view = { mode: null, speed: 25, gain: 10, start: 0, width: 0, analysisLead: null };
  let duration = 0, episodes = [], data = null, byStandard = null, figure = null;
  let base = { shapes: [], annotations: [] }, measurement = null, magnified = 1;
  // "Next finding": the server's stops (`portal/finding_stops.py`), and the one shown (-1: none).
  let stops = [], stopIndex = -1, windowTicket = 0;
  const spanS = () => Paper.scale(1, view.speed, view.gain).spanS;
  window.ecgCaliper = () => (measurement ? { ...measurement } : null);
  window.ecgView = () => ({
    mode: view.mode, speed: view.speed, gain: view.gain, start: view.start, span_s: spanS(),
    px_per_s: figure && figure.scale.pxPerS, px_per_mv: figure && figure.scale.pxPerMv,
    rows: figure ? figure.rows.map((r) => ({ axis: r.axis, leads: r.segments.map((s) => s.lead) })) : [],
  });

  // Episodes shaded on a chart: every one on the overview; on the strip only those that
  // overlap its window (`within`), since a 24-h Holter's 2,337 rectangles on every redraw made
  // each "Next finding" step take up to 2 s (a Holter audit).
  function episodeShapes(xref, within) {
    return episodes
      .filter((e) => !/^Sinus/.test(e.label))
      .filter((e) => !within || (e.end_s >= within[0] && e.start_s <= within[1]))
      .map((e) => ({
        type: "rect", xref: xref, yref: "paper", x0: e.start_s, x1: e.end_s, y0: 0, y1: 1,
        // An episode the signed read withdrew: grey, outlined with dashes (the key below the
        // overview says so), not shaded as a call the doctor made.
        fillcolor: e.withdrawn ? "rgba(120,120,120,0.12)"
          : /^(idio)?ventricular/i.test(e.label) ? "rgba(198,40,40,0.15)" : "rgba(255,160,0,0.15)",
        line: e.withdrawn ? { width: 1, dash: "dash", color: "#777" } : { width: 0 }, layer: "below",
      }));
  }

  async function loadOverview() {
    const response = await fetch(url + "?overview=1", { headers: { Accept: "application/json" } });
    if (!response.ok) {
      // The recording's files lost from storage (410) had left a blank chart: say why.
      const answer = await response.json().catch(() => ({}));
      overviewDiv.textContent = answer.error || `The recording could not be loaded (error ${response.status}); try again.`;
      overviewDiv.classList.add("notice", "files-missing");
      return;
    }
    const overview = await response.json();
    duration = overview.duration_s;
    view.analysisLead = overview.lead;
    episodes = overview.episodes || [];
    stops = overview.stops || [];
    showStopCount();
    const o = overview.overview;
    // "none", not "skip", and hovermode "x": Plotly sends no click for a trace that skips
    // hovering, and clicking the overview did nothing (a browser audit); now a click anywhere
    // over the recording's time axis counts, with no hover label.
    Plotly.newPlot(overviewDiv, [
      { x: o.t_s, y: o.min_mv, type: "scatter", mode: "lines", line: { width: 0.5, color: "#444" }, hoverinfo: "none" },
      { x: o.t_s, y: o.max_mv, type: "scatter", mode: "lines", line: { width: 0.5, color: "#444" }, fill: "tonexty", fillcolor: "rgba(60,60,60,0.4)", hoverinfo: "none" },
    ], {
      hovermode: "x",
      height: 130, margin: { l: 40, r: 10, t: 20, b: 30 }, showlegend: false,
      title: { text: overview.lead + " · whole recording (click or drag to choose a window)", font: { size: 12 }, x: 0 },
      xaxis: { title: { text: "s" }, range: [0, duration] }, yaxis: { fixedrange: true },
      shapes: episodeShapes("x"), dragmode: "zoom",
    }, { displayModeBar: false, responsive: true });
    overviewDiv.on("plotly_relayout", (ev) => {
      if (ev["xaxis.range[0]"] !== undefined) {
        forgetStop(); leaveGoTo();
        showWindow(ev["xaxis.range[0]"]);
        Plotly.relayout(overviewDiv, { "xaxis.range": [0, duration] });
      }
    });
    overviewDiv.on("plotly_click", (ev) => { forgetStop(); leaveGoTo(); showWindow(ev.points[0].x - spanS() / 2); });
    if (overview.hr_trend && $("hr-trend")) {
      Plotly.newPlot("hr-trend", [{ x: overview.hr_trend.t_s, y: overview.hr_trend.bpm, type: "scatter", mode: "lines", line: { color: "#2a6fb0" } }], {
        height: 160, margin: { l: 40, r: 10, t: 24, b: 30 }, title: { text: "Heart rate (bpm, 10 s means of the intervals the rate counts)", font: { size: 12 }, x: 0 },
        xaxis: { title: { text: "s into the recording" } },
      }, { displayModeBar: false, responsive: true });
    }
    await showWindow(0);
  }

  // Fetch the window that fits across the strip at the current speed, starting at `from`.
  async function showWindow(from) {
    const span = spanS();
    const start = Math.max(0, Math.min(from, Math.max(0, duration - span)));
    const ticket = ++windowTicket;  // quick clicks: only the last window asked for is drawn
    const response = await fetch(`${url}?start_s=${start.toFixed(3)}&end_s=${(start + span).toFixed(3)}`, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      // A session ended elsewhere (401) had left the chart frozen on its last window with a
      // script error, and told every tab the session was alive (an audit): say so instead.
      if (response.status === 401 && window.cardioSession) window.cardioSession.ended();
      const answer = response.status === 410 ? await response.json().catch(() => ({})) : {};
      $("ecg-window").textContent = response.status === 401
        ? "Your session has ended: log in again to see the strip."
        : answer.error || `The strip could not be loaded (error ${response.status}); try again.`;
      return;
    }
    const fetched = await response.json();
    if (window.cardioSession) window.cardioSession.touched();  // a request: the idle time restarts
    if (ticket !== windowTicket) return;
    data = fetched;
    view.start = start;
    const names = data.lead_order || Object.keys(data.leads);  // I, II, III, aVR, ... V6
    byStandard = Paper.twelveLeadNames(names);
    if (view.mode === null) view.mode = byStandard ? "twelve" : "stacked";
    $("ecg-layout").hidden = !byStandard;
    await render();
  }

  // Beat markers (and reference mismatches) above the signal of the figure's marker row.
  function beatTraces(fig) {
    const row = fig.rows[fig.markerRow], lead = row.segments[0].lead, v = data.leads[lead];
    const yAt = (ts) => v[Math.max(0, Math.min(v.length - 1, Math.round((ts - data.start_s) / data.dt_s)))];
    const b = data.beats, traces = [];
    for (const cls of Object.keys(COLORS)) {
      const idx = b.class.map((c, i) => (c === cls ? i : -1)).filter((i) => i >= 0);
      if (!idx.length) continue;
      traces.push({
        x: idx.map((i) => b.t_s[i]), y: idx.map((i) => yAt(b.t_s[i]) + 0.15), xaxis: "x", yaxis: row.axis,
        type: "scatter", mode: "markers", marker: { color: COLORS[cls], size: 9, symbol: SYMBOLS[cls] },
        text: idx.map((i) => `${cls} beat, p = ${b.probability[i].toFixed(2)}`), hoverinfo: "text+x", name: "beats " + cls,
      });
    }
    const mm = data.mismatches || { t_s: [] };
    if (mm.t_s.length) {
      traces.push({
        x: mm.t_s, y: mm.t_s.map((ts) => yAt(ts) + 0.45), xaxis: "x", yaxis: row.axis, type: "scatter",
        mode: "markers", marker: { color: "#000", size: 10, symbol: "x" }, name: "mismatch",
        text: mm.t_s.map((_, i) => `reference ${mm.reference[i]}, machine ${mm.machine[i]}`), hoverinfo: "text+x",
      });
    }
    return traces;
  }

  async function render() {
    if (!data) return;
    view.width = Paper.figureWidth(detailDiv.clientWidth || 1000);
    const names = data.lead_order || Object.keys(data.leads);
    figure = view.mode === "twelve" && byStandard
      ? Paper.twelveLeadFigure(data, byStandard, view) : Paper.stackedFigure(data, names, view);
    const layout = figure.layout;
    layout.shapes = episodeShapes("x", [view.start, view.start + spanS()]).concat(stopShapes(), layout.shapes);
    base = { shapes: layout.shapes, annotations: layout.annotations };
    const row = measurement && rowFor(measurement);
    if (row) Object.assign(layout, withCaliper(measurement, row));
    magnified = 1;
    // A strip wider than its box, or a touch screen: no mode bar (on a phone it covered the
    // whole MLII strip; the page's own buttons move, scale and measure), and no drag to pan,
    // so a finger scrolls the box along the strip (Plotly keeps a drag when it has a mode).
    const compact = view.width > detailDiv.clientWidth || window.matchMedia("(hover: none)").matches;
    if (compact) layout.dragmode = false;
    await Plotly.react(detailDiv, figure.traces.concat(beatTraces(figure)), layout, { scrollZoom: true, displaylogo: false, responsive: false, displayModeBar: compact ? false : "hover" });
    const span = spanS(), stepText = `${+span.toFixed(1)} s`;
    $("ecg-window").textContent = `${view.start.toFixed(1)}–${(view.start + span).toFixed(1)} s of ${duration.toFixed(0)} s`;
    $("ecg-prev").textContent = `← ${stepText}`;
    $("ecg-next").textContent = `${stepText} →`;
    showSettings();
    $("ecg-layout-twelve").setAttribute("aria-pressed", String(view.mode === "twelve"));
    $("ecg-layout-stacked").setAttribute("aria-pressed", String(view.mode !== "twelve"));
    detailDiv.dataset.start = view.start.toFixed(3);
    detailDiv.dataset.stop = String(stopIndex);
    detailDiv.dataset.layout = view.mode;
  }

  function showSettings() {
    $("ecg-paper-settings").textContent = Paper.settingsText(view.speed, view.gain) + (magnified > 1.001 || magnified < 0.999 ? ` · magnified ×${magnified.toFixed(1)}` : "");
  }

  // Zooming the strips (wheel, or Plotly's API) magnifies time and amplitude alike, so a
  // 1 mV square keeps its proportion to a 0.2 s square; a double-click restores the paper scale.
  function keepProportion(ev) {
    if (!figure) return;
    if (ev["xaxis.autorange"]) { render(); return; }
    const range = ev["xaxis.range"] || (ev["xaxis.range[0]"] !== undefined ? [ev["xaxis.range[0]"], ev["xaxis.range[1]"]] : null);
    if (!range) return;
    const factor = spanS() / (range[1] - range[0]);
    if (Math.abs(factor - magnified) < 1e-9) return;
    magnified = factor;
    const update = {};
    figure.rows.forEach((row) => {
      const r = figure.layout["yaxis" + row.axis.slice(1)].range, mid = (r[0] + r[1]) / 2, half = (r[1] - r[0]) / 2 / factor;
      update["yaxis" + row.axis.slice(1) + ".range"] = [mid - half, mid + half];
    });
    Plotly.relayout(detailDiv, update).then(showSettings);
  }

  // Calipers: the bracket drawn on the row pressed; the readout, for screen readers and tests.
  // The row to draw a kept measurement on after a redraw: the one it was made on, if it still
  // shows that lead at that time (the sheet's lead II cell or the rhythm strip), else another.
  function rowFor(m) {
    const shows = (r) => r.segments.some((s) => s.lead === m.lead && m.t0_s >= s.t0 - 1e-9 && m.t0_s <= s.t1 + 1e-9);
    return figure.rows.find((r) => r.axis === m.axis && shows(r)) || figure.rows.find(shows);
  }
  function withCaliper(m, row) {
    const o = Calipers.overlay(m, row.axis);
    return { shapes: base.shapes.concat(o.shapes), annotations: base.annotations.concat(o.annotations) };
  }
  const caliperHooks = {
    active: () => $("ecg-calipers").getAttribute("aria-pressed") === "true",
    snap: () => $("ecg-snap").checked,
    rows: () => (figure ? figure.rows : []),
    context: () => ({ data, fsHz: Number(overviewDiv.dataset.fsHz) || 1 / data.dt_s }),
    draft: (m, row) => Plotly.relayout(detailDiv, withCaliper(m, row)),
    done: (m, row) => {
      if (!m) { Plotly.relayout(detailDiv, measurement && rowFor(measurement) ? withCaliper(measurement, rowFor(measurement)) : base); return; }
      measurement = { ...m, axis: row.axis };
      Plotly.relayout(detailDiv, withCaliper(m, row));
      $("caliper-readout").textContent = Calipers.readout(m);
    },
    // The keyboard's too: where its first end starts, the measurement it takes up, its first end.
    firstRow: () => figure.rows[figure.markerRow],
    kept: () => (measurement && rowFor(measurement) ? { measurement, row: rowFor(measurement) } : null),
    mark: (m, row) => {
      const o = Calipers.firstEnd(m, row.axis);
      Plotly.relayout(detailDiv, { shapes: base.shapes.concat(o.shapes), annotations: base.annotations });
    },
    clear: () => clearCaliper(),
  };
  Calipers.attach(detailDiv, caliperHooks);
  Calipers.attachKeys(detailDiv, caliperHooks);
  // Calipers on: the strip is a Tab stop the keys measure on (role "application", so a screen
  // reader passes it the arrows), with a focus ring; off: a figure again, out of the Tab order.
  $("ecg-calipers").addEventListener("click", (e) => {
    const on = e.currentTarget.getAttribute("aria-pressed") !== "true";
    e.currentTarget.setAttribute("aria-pressed", String(on));
    detailDiv.classList.toggle("calipers-on", on);
    detailDiv.setAttribute("role", on ? "application" : "figure");
    if (on) detailDiv.setAttribute("tabindex", "0");
    else detailDiv.removeAttribute("tabindex");
  });
  function clearCaliper() {
    measurement = null;
    $("caliper-readout").textContent = "";
    if (figure) Plotly.relayout(detailDiv, base);
  }
  $("ecg-caliper-clear").addEventListener("click", clearCaliper);

  // Paper settings and layout: redraw the same window (a slower speed fetches a longer one).
  $("ecg-gain").addEventListener("change", (e) => { view.gain = Number(e.target.value); render(); });
  $("ecg-speed").addEventListener("change", (e) => { view.speed = Number(e.target.value); leaveGoTo(); showWindow(view.start); });
  $("ecg-layout-twelve").addEventListener("click", () => { view.mode = "twelve"; render(); });
  $("ecg-layout-stacked").addEventListener("click", () => { view.mode = "stacked"; render(); });
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (Paper.figureWidth(detailDiv.clientWidth) !== view.width) render(); }, 150);
  });

  // "Next finding" and "Previous finding" walk the stops by index, so two stops at the same
  // time are two steps (judging by time alone once stuck on the first, or merged the two);
  // past the last comes the first again. Moving the window by hand forgets the stop shown:
  // the next step is then the first stop from the window on.
  function showStop(step) {
    if (!stops.length) return;
    stopIndex = stepFrom(stops, stopIndex, step, view.start);
    const stop = stops[stopIndex];
    leaveGoTo();
    // Time into the recording, and on the clock when the file gave its start (`stop.clock`).
    const onClock = stop.clock ? ` (${stop.clock})` : "";
    $("ecg-finding").textContent = `${stopIndex + 1} of ${stops.length}: ${stop.label} at ${clock(stop.t_s)} into the recording${onClock}`;
    showWindow(stop.t_s - 1);
  }
  // Leaving a stop says the count once; moving on without one says nothing here: the window's
  // own live line says where the chart is (each pan had re-announced "124 findings to step
  // through" in place of where the reader was; an accessibility audit).
  function forgetStop() {
    if (stopIndex < 0) return;
    stopIndex = -1;
    showStopCount();
  }
  function showStopCount() {
    const n = stops.length;
    $("ecg-finding").textContent = n ? `${n} finding${n === 1 ? "" : "s"} to step through` : "No findings to step through";
    $("ecg-next-finding").disabled = $("ecg-prev-finding").disabled = n === 0;
  }
  // A dashed line at the stop shown, across every row.
  function stopShapes() {
    if (stopIndex < 0) return [];
    const t = stops[stopIndex].t_s;
    return [{ type: "line", xref: "x", yref: "paper", x0: t, x1: t, y0: 0, y1: 1, line: { color: "#1565c0", width: 1.5, dash: "dash" } }];
  }
  $("ecg-prev").addEventListener("click", () => { forgetStop(); leaveGoTo(); showWindow(view.start - spanS()); });
  $("ecg-next").addEventListener("click", () => { forgetStop(); leaveGoTo(); showWindow(view.start + spanS()); });
  // "Go to": the server reads the typed time (`portal/review/go_to_time.py`, clock changes
  // and days included) and the strip shows it in its middle; a wrong time says why, in place.
  $("ecg-go-to").addEventListener("submit", async (e) => {
    e.preventDefault();
    const kind = $("ecg-go-to-kind") ? $("ecg-go-to-kind").value : "into";
    const typed = $("ecg-go-to-time").value, message = $("ecg-go-to-message");
    const response = await fetch(`${e.currentTarget.dataset.url}?${kind}=${encodeURIComponent(typed)}`, { headers: { Accept: "application/json" } });
    const answer = await response.json();
    message.classList.toggle("error", !response.ok);
    $("ecg-go-to-time").setAttribute("aria-invalid", String(!response.ok));
    if (!response.ok) { message.textContent = answer.error; return; }
    message.textContent = `Showing ${answer.said}`;
    forgetStop();
    showWindow(answer.t_s - spanS() / 2);
  });
  // Moving the window any other way ends what "Go to" said: "Showing 0:12:00", or its error
  // with the box marked invalid, had stayed beside a strip showing another time (an audit).
  function leaveGoTo() {
    $("ecg-go-to-message").textContent = "";
    $("ecg-go-to-message").classList.remove("error");
    $("ecg-go-to-time").removeAttribute("aria-invalid");
  }
  // An episode's start in the table shows it on the strip, a second before it: the longest
  // pause or VT run of a Holter had been reachable only by typing its time (a browser audit).
  document.querySelectorAll(".episode-show").forEach((button) => button.addEventListener("click", () => {
    forgetStop(); leaveGoTo();
    showWindow(Number(button.dataset.tS) - 1);
    detailDiv.scrollIntoView({ block: "center" });
  }));
  $("ecg-next-finding").addEventListener("click", () => showStop(1));
  $("ecg-prev-finding").addEventListener("click", () => showStop(-1));
  if (document.getElementById("ecg-files-missing")) return;  // the page says why: no chart
  loadOverview().then(() => detailDiv.on("plotly_relayout", keepProportion));
})();

// The stop `step` (+1 or -1) away from the one shown (`index`), wrapping around; with none
// shown, the first stop from the window's `start` on (or the last one before it).
function stepFrom(stops, index, step, start) {
  const n = stops.length;
  if (index >= 0) return (index + step + n) % n;
  if (step > 0) {
    const next = stops.findIndex((s) => s.t_s >= start);
    return next >= 0 ? next : 0;
  }
  const before = stops.map((s) => s.t_s < start).lastIndexOf(true);
  return before >= 0 ? before : n - 1;
}

// Seconds from the start of the recording as hh:mm:ss.
function clock(t_s) {
  const whole = Math.floor(t_s), two = (v) => String(v).padStart(2, "0");
  return `${two(Math.floor(whole / 3600))}:${two(Math.floor(whole / 60) % 60)}:${two(whole % 60)}`;
}
