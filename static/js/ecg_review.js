// The review page's ECG: an overview of the whole record (min/max envelope of the analysis
// lead, rhythm episodes shaded) and detailed strips of every lead for a window fetched on
// demand, drawn on ECG paper (0.2 s x 0.5 mV major squares). WebGL traces keep it fast.
(function () {
  const overviewDiv = document.getElementById("ecg-overview");
  const detailDiv = document.getElementById("ecg-detail");
  if (!overviewDiv || !window.Plotly) return;
  const url = overviewDiv.dataset.url;
  const COLORS = { N: "#2b7a3d", S: "#c77c00", V: "#c62828", F: "#6a1b9a", Q: "#777777" };
  const MM_PER_S = 25, MM_PER_MV = 10;
  let duration = 0, start = 0, span = 10, episodes = [], analysisLead = null;
  window.ecgNextFinding = nextFinding;  // exposed for the browser test

  function episodeShapes(xref) {
    return episodes
      .filter((e) => !/^Sinus/.test(e.label))
      .map((e) => ({
        type: "rect", xref: xref, yref: "paper", x0: e.start_s, x1: e.end_s, y0: 0, y1: 1,
        fillcolor: /ventric/i.test(e.label) ? "rgba(198,40,40,0.15)" : "rgba(255,160,0,0.15)",
        line: { width: 0 }, layer: "below",
      }));
  }

  async function loadOverview() {
    const response = await fetch(url + "?overview=1", { headers: { Accept: "application/json" } });
    const data = await response.json();
    duration = data.duration_s;
    analysisLead = data.lead;
    episodes = data.episodes || [];
    const o = data.overview;
    Plotly.newPlot(overviewDiv, [
      { x: o.t_s, y: o.min_mv, type: "scattergl", mode: "lines", line: { width: 0.5, color: "#444" }, hoverinfo: "skip" },
      { x: o.t_s, y: o.max_mv, type: "scattergl", mode: "lines", line: { width: 0.5, color: "#444" }, fill: "tonexty", fillcolor: "rgba(60,60,60,0.4)", hoverinfo: "skip" },
    ], {
      height: 130, margin: { l: 40, r: 10, t: 20, b: 30 }, showlegend: false,
      title: { text: data.lead + " · whole recording (drag to choose a window)", font: { size: 12 }, x: 0 },
      xaxis: { title: { text: "s" }, range: [0, duration] }, yaxis: { fixedrange: true },
      shapes: episodeShapes("x"), dragmode: "zoom",
    }, { displayModeBar: false, responsive: true });
    overviewDiv.on("plotly_relayout", (ev) => {
      if (ev["xaxis.range[0]"] !== undefined) {
        const a = ev["xaxis.range[0]"], b = ev["xaxis.range[1]"];
        showWindow(a, Math.min(b - a, 60));
        Plotly.relayout(overviewDiv, { "xaxis.range": [0, duration] });
      }
    });
    overviewDiv.on("plotly_click", (ev) => showWindow(ev.points[0].x - span / 2, span));
    if (data.hr_trend && document.getElementById("hr-trend")) {
      Plotly.newPlot("hr-trend", [{ x: data.hr_trend.t_s, y: data.hr_trend.bpm, type: "scatter", mode: "lines", line: { color: "#2a6fb0" } }], {
        height: 160, margin: { l: 40, r: 10, t: 24, b: 30 }, title: { text: "Heart rate (bpm, 10 s means)", font: { size: 12 }, x: 0 },
        xaxis: { title: { text: "s" } },
      }, { displayModeBar: false, responsive: true });
    }
    await showWindow(0, 10);
  }

  async function showWindow(from, length) {
    span = Math.max(2, Math.min(length, 60));
    start = Math.max(0, Math.min(from, Math.max(0, duration - span)));
    const response = await fetch(`${url}?start_s=${start.toFixed(3)}&end_s=${(start + span).toFixed(3)}`, { headers: { Accept: "application/json" } });
    const data = await response.json();
    const names = data.lead_order || Object.keys(data.leads);  // I, II, III, aVR, ... V6
    const width = detailDiv.clientWidth || 1000;
    const pxPerS = (width - 70) / span;
    const pxPerMv = (pxPerS * MM_PER_MV) / MM_PER_S;
    const traces = [], layout = {
      margin: { l: 60, r: 10, t: 10, b: 30 }, showlegend: false, dragmode: "pan",
      shapes: [], annotations: [], hovermode: "closest",
    };
    let height = 40, domains = [];
    const ranges = names.map((name) => {
      const v = data.leads[name];
      let lo = Math.min(...v), hi = Math.max(...v);
      if (!isFinite(lo) || hi - lo < 1) { const mid = (hi + lo) / 2 || 0; lo = mid - 0.5; hi = mid + 0.5; }
      return [Math.floor((lo - 0.1) * 2) / 2, Math.ceil((hi + 0.1) * 2) / 2];
    });
    const heights = ranges.map((r) => (r[1] - r[0]) * pxPerMv);
    const total = heights.reduce((a, b) => a + b, 0) + 12 * names.length;
    let top = 1;
    names.forEach((name, k) => {
      const frac = heights[k] / total, gap = 12 / total;
      domains.push([top - frac, top]);
      top -= frac + gap;
    });
    names.forEach((name, k) => {
      const axis = k === 0 ? "" : String(k + 1);
      const v = data.leads[name];
      const t = v.map((_, i) => data.start_s + i * data.dt_s);
      traces.push({ x: t, y: v, xaxis: "x", yaxis: "y" + axis, type: "scattergl", mode: "lines", line: { color: "#111", width: 1 }, hoverinfo: "skip", name: name });
      layout["yaxis" + axis] = {
        domain: domains[k], range: ranges[k], dtick: 0.5, gridcolor: "#f4a6a6", gridwidth: 1,
        minor: { dtick: 0.1, showgrid: true, gridcolor: "#fbe0e0" }, zeroline: false,
        title: { text: name + " (mV)", font: { size: 11 } }, fixedrange: true,
      };
      layout.annotations.push({ xref: "paper", yref: "y" + axis + " domain", x: 0.005, y: 0.95, text: "<b>" + name + "</b>", showarrow: false, font: { size: 12 } });
    });
    const ticks = [];
    for (let t = Math.ceil(start * 5) / 5; t <= start + span + 1e-9; t += 0.2) ticks.push(Math.round(t * 5) / 5);
    layout.xaxis = {
      anchor: "y" + (names.length > 1 ? String(names.length) : ""),
      range: [start, start + span], gridcolor: "#f4a6a6", minor: { dtick: 0.04, showgrid: true, gridcolor: "#fbe0e0" },
      // A grid line every 0.2 s (major square), a label every whole second.
      tickmode: "array", tickvals: ticks, ticktext: ticks.map((t) => (Math.abs(t - Math.round(t)) < 1e-6 ? Math.round(t) + " s" : "")),
      title: { text: "" }, zeroline: false,
    };
    // Beat markers on the analysis lead.
    const b = data.beats;
    const k0 = Math.max(0, names.indexOf(analysisLead));
    const beatAxis = "y" + (k0 === 0 ? "" : String(k0 + 1));
    const v0 = data.leads[names[k0]];
    const yAt = (ts) => v0[Math.max(0, Math.min(v0.length - 1, Math.round((ts - data.start_s) / data.dt_s)))];
    for (const cls of Object.keys(COLORS)) {
      const idx = b.class.map((c, i) => (c === cls ? i : -1)).filter((i) => i >= 0);
      if (!idx.length) continue;
      traces.push({
        x: idx.map((i) => b.t_s[i]), y: idx.map((i) => yAt(b.t_s[i]) + 0.15), xaxis: "x", yaxis: beatAxis,
        type: "scattergl", mode: "markers", marker: { color: COLORS[cls], size: 9, symbol: "triangle-down" },
        text: idx.map((i) => `${cls} beat, p = ${b.probability[i].toFixed(2)}`), hoverinfo: "text+x", name: "beats " + cls,
      });
    }
    const mm = data.mismatches || { t_s: [] };
    if (mm.t_s.length) {
      traces.push({
        x: mm.t_s, y: mm.t_s.map((ts) => yAt(ts) + 0.45), xaxis: "x", yaxis: beatAxis, type: "scattergl",
        mode: "markers", marker: { color: "#000", size: 10, symbol: "x" }, name: "mismatch",
        text: mm.t_s.map((_, i) => `reference ${mm.reference[i]}, machine ${mm.machine[i]}`), hoverinfo: "text+x",
      });
    }
    layout.shapes = episodeShapes("x");
    layout.height = Math.max(200, total + height);
    await Plotly.react(detailDiv, traces, layout, { responsive: true, scrollZoom: true, displaylogo: false });
    document.getElementById("ecg-window").textContent = `${start.toFixed(1)}–${(start + span).toFixed(1)} s of ${duration.toFixed(0)} s`;
    detailDiv.dataset.start = start.toFixed(3);
  }

  detailDiv.addEventListener("plotly_relayout", () => {});
  // "Next finding" steps through every non-sinus episode in time order, then wraps around.
  // It remembers the finding it showed last: the window opens 1 s before an episode, so
  // judging by the window's start alone found the same episode again on every click.
  let findingCursor = null;
  document.getElementById("ecg-prev").addEventListener("click", () => { findingCursor = null; showWindow(start - span, span); });
  document.getElementById("ecg-next").addEventListener("click", () => { findingCursor = null; showWindow(start + span, span); });
  document.getElementById("ecg-next-finding").addEventListener("click", () => {
    const next = nextFinding(episodes, findingCursor, start);
    if (next) { findingCursor = next.start_s; showWindow(next.start_s - 1, span); }
  });
  loadOverview();
})();

// The first non-sinus episode after `cursor` (the finding shown last), or after the window's
// `start` when nothing was shown yet; past the last one, the first again.
function nextFinding(episodes, cursor, start) {
  const findings = episodes.filter((e) => !/^Sinus/.test(e.label)).sort((a, b) => a.start_s - b.start_s);
  const after = cursor === null ? start : cursor;
  return findings.find((e) => e.start_s > after + 1e-6) || findings[0] || null;
}
