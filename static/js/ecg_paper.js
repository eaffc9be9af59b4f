// ECG paper for the review page: the scale (mm/s, mm/mV) in screen pixels, the paper grid
// (0.2 s x 0.5 mV major squares, 0.04 s x 0.1 mV minor) and the two figures drawn on it: every
// lead stacked, and the classic 12-lead sheet (3 x 4 grid of 2.5 s per lead + a lead II
// rhythm strip). Pure functions: no fetching, no DOM; ecg_review.js draws what they return.
(function () {
  const STANDARD = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];
  // The paper sheet's rows: each row holds four leads, one per column (2.5 s each at 25 mm/s).
  const GRID_ROWS = [["I", "aVR", "V1", "V4"], ["II", "aVL", "V2", "V5"], ["III", "aVF", "V3", "V6"]];
  const PAPER_MM = 250;  // the strip's width in paper millimetres: 10 s at 25 mm/s
  const MARGIN = { l: 60, r: 10, t: 10, b: 30 };
  const GAP_PX = 16;  // between two rows
  // The paper never shrinks below 3 px a millimetre (75 px a second at 25 mm/s, 30 px a mV at
  // 10 mm/mV): on a 360-px phone it fitted the screen, 10 s in 213 px and two leads in 107 px,
  // unreadable (a doctor's-day audit). A narrower box scrolls sideways over the strip instead.
  const MIN_PX_PER_MM = 3;
  const MIN_TICK_GAP_PX = 18;  // between two mV labels (each 17 px tall): 0.5 mV apart they overlapped
  const GRID = "#f4a6a6", MINOR_GRID = "#fbe0e0";

  // 'ECG II', 'lead ii', 'MLII' -> 'II'; 'avf' -> 'aVF' (as ml/recording.py canonical_lead_name).
  function canonical(name) {
    const cleaned = name.trim().replace(/^(ecg|lead|ml)\s*/i, "").replace(/ /g, "");
    return STANDARD.find((s) => s.toLowerCase() === cleaned.toLowerCase()) || name.trim();
  }

  // Standard name -> the recording's own name, when the recording has all 12 standard leads.
  function twelveLeadNames(names) {
    const byStandard = {};
    names.forEach((n) => { byStandard[canonical(n)] = byStandard[canonical(n)] || n; });
    return STANDARD.every((s) => byStandard[s] !== undefined) ? byStandard : null;
  }

  // Pixels per second and per millivolt: the plot's width is PAPER_MM of paper, so 25 mm/s
  // shows 10 s and 50 mm/s shows 5 s; 1 mV is `gain` mm tall on the same millimetres.
  function scale(plotWidthPx, speedMmS, gainMmMv) {
    const pxPerMm = plotWidthPx / PAPER_MM;
    return { pxPerMm, pxPerS: pxPerMm * speedMmS, pxPerMv: pxPerMm * gainMmMv, spanS: PAPER_MM / speedMmS };
  }

  // The figure's width in a box `boxWidthPx` wide: the box's, or the narrowest legible paper.
  function figureWidth(boxWidthPx) {
    return Math.max(boxWidthPx, PAPER_MM * MIN_PX_PER_MM + MARGIN.l + MARGIN.r);
  }

  function settingsText(speedMmS, gainMmMv) {
    return `${speedMmS} mm/s · ${gainMmMv} mm/mV`;
  }

  // A lead's amplitude range, widened to whole 0.5 mV squares (at least 1 mV tall).
  function mvRange(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (!isFinite(lo) || hi - lo < 1) { const mid = isFinite(lo) ? (hi + lo) / 2 : 0; lo = mid - 0.5; hi = mid + 0.5; }
    return [Math.floor((lo - 0.1) * 2) / 2, Math.ceil((hi + 0.1) * 2) / 2];
  }

  // Rows stacked top to bottom, each as tall as its range in mV at `pxPerMv`: their y-axis
  // domains and the plot's height in pixels (so a millivolt is the same height in every row).
  function stackRows(ranges, pxPerMv) {
    const heights = ranges.map((r) => (r[1] - r[0]) * pxPerMv);
    const plotHeight = heights.reduce((a, b) => a + b, 0) + GAP_PX * (ranges.length - 1);
    let top = plotHeight;
    const domains = heights.map((h) => {
      const domain = [Math.max(0, (top - h) / plotHeight), top / plotHeight];
      top -= h + GAP_PX;
      return domain;
    });
    return { domains, plotHeight };
  }

  // A grid line every 0.5 mV (major square), labelled every 0.5, 1 or 2 mV: the first step
  // at least MIN_TICK_GAP_PX tall at this gain. Lines span well past the range, for a zoom.
  function yAxis(domain, range, title, pxPerMv) {
    const step = [0.5, 1, 2, 5].find((s) => s * pxPerMv >= MIN_TICK_GAP_PX) || 5;
    const ticks = [];
    for (let v = Math.floor(range[0]) - 10; v <= Math.ceil(range[1]) + 10; v += 0.5) ticks.push(v);
    return {
      domain, range, gridcolor: GRID, gridwidth: 1, zeroline: false, fixedrange: true,
      minor: { dtick: 0.1, showgrid: true, gridcolor: MINOR_GRID },
      tickmode: "array", tickvals: ticks,
      ticktext: ticks.map((v) => (Math.abs(v / step - Math.round(v / step)) < 1e-6 ? String(v).replace("-", "−") : "")),
      title: { text: title, font: { size: 11 } },
    };
  }

  function xAxis(start, span, anchor) {
    const ticks = [];
    for (let t = Math.ceil(start * 5 - 1e-6) / 5; t <= start + span + 1e-9; t += 0.2) ticks.push(Math.round(t * 5) / 5);
    return {
      anchor, range: [start, start + span], gridcolor: GRID, zeroline: false, title: { text: "" },
      minor: { dtick: 0.04, showgrid: true, gridcolor: MINOR_GRID },
      // A grid line every 0.2 s (major square), a label every whole second.
      tickmode: "array", tickvals: ticks,
      ticktext: ticks.map((t) => (Math.abs(t - Math.round(t)) < 1e-6 ? Math.round(t) + " s" : "")),
    };
  }

  const axisName = (k) => (k === 0 ? "" : String(k + 1));  // row k draws on y, y2, y3...
  const times = (data, i0, i1) => Array.from({ length: i1 - i0 }, (_, i) => data.start_s + (i0 + i) * data.dt_s);
  const label = (axis, x, text) => ({
    xref: "x", yref: "y" + axis + " domain", x, y: 0.97, xanchor: "left", yanchor: "top",
    text: "<b>" + text + "</b>", showarrow: false, font: { size: 12 }, bgcolor: "rgba(255,255,255,0.7)",
  });

  function baseLayout(width, plotHeight, rows, start, span) {
    return {
      width, height: plotHeight + MARGIN.t + MARGIN.b, margin: { ...MARGIN }, showlegend: false,
      dragmode: "pan", hovermode: "closest", shapes: [], annotations: [],
      xaxis: xAxis(start, span, "y" + axisName(rows - 1)),
    };
  }

  // Every lead under the other, the whole window each. `rows` tells the calipers which lead
  // each y axis draws, and over which times.
  function stackedFigure(data, names, view) {
    const plotWidth = view.width - MARGIN.l - MARGIN.r;
    const s = scale(plotWidth, view.speed, view.gain);
    const ranges = names.map((n) => mvRange(data.leads[n]));
    const { domains, plotHeight } = stackRows(ranges, s.pxPerMv);
    const layout = baseLayout(view.width, plotHeight, names.length, view.start, s.spanS);
    const traces = [], rows = [];
    names.forEach((name, k) => {
      const axis = axisName(k), v = data.leads[name];
      traces.push({ x: times(data, 0, v.length), y: v, xaxis: "x", yaxis: "y" + axis, type: "scatter", mode: "lines", line: { color: "#111", width: 1 }, hoverinfo: "skip", name });
      // "mV" alone: the row's label names the lead ("V1 (mV)" and "MLII (mV)" had run
      // together on short rows, "V1 (mVMLII (mV)").
      layout["yaxis" + axis] = yAxis(domains[k], ranges[k], "mV", s.pxPerMv);
      layout.annotations.push({ ...label(axis, 0.005, name), xref: "paper" });
      rows.push({ axis: "y" + axis, segments: [{ lead: name, t0: -Infinity, t1: Infinity }] });
    });
    return { traces, layout, rows, scale: s, markerRow: Math.max(0, names.indexOf(view.analysisLead)) };
  }

  // The paper 12-lead: rows I/aVR/V1/V4, II/aVL/V2/V5, III/aVF/V3/V6, each lead drawn over its
  // own consecutive quarter of the window (so the columns read I-II-III, aVR-aVL-aVF, V1-V3,
  // V4-V6), then the rhythm strip over the whole window (lead II, or the read's lead).
  function twelveLeadFigure(data, byStandard, view) {
    const plotWidth = view.width - MARGIN.l - MARGIN.r;
    const s = scale(plotWidth, view.speed, view.gain);
    const column = s.spanS / 4;
    const n = data.leads[byStandard.II].length;
    const index = (t) => Math.max(0, Math.min(n, Math.round((t - data.start_s) / data.dt_s)));
    const rowSpecs = GRID_ROWS.map((leads) => leads.map((std, c) => {
      const t0 = view.start + c * column, t1 = t0 + column;
      // Adjacent segments share their boundary sample, so the row reads as one line.
      return { std, lead: byStandard[std], t0, t1, i0: index(t0), i1: Math.min(n, index(t1) + 1) };
    }));
    const ranges = rowSpecs.map((segs) => mvRange(segs.flatMap((g) => data.leads[g.lead].slice(g.i0, g.i1))));
    // The rhythm strip is the lead the read was made on (lead II, or the lead it turned to when
    // lead II was flat or could not find the beats), as on the PDF's page 1.
    const rhythmStd = Object.keys(byStandard).find((std) => byStandard[std] === view.analysisLead) || "II";
    const lead = byStandard[rhythmStd];
    ranges.push(mvRange(data.leads[lead]));
    const { domains, plotHeight } = stackRows(ranges, s.pxPerMv);
    const layout = baseLayout(view.width, plotHeight, ranges.length, view.start, s.spanS);
    const traces = [], rows = [];
    rowSpecs.forEach((segs, k) => {
      const axis = axisName(k);
      layout["yaxis" + axis] = yAxis(domains[k], ranges[k], "mV", s.pxPerMv);
      segs.forEach((g, c) => {
        traces.push({ x: times(data, g.i0, g.i1), y: data.leads[g.lead].slice(g.i0, g.i1), xaxis: "x", yaxis: "y" + axis, type: "scatter", mode: "lines", line: { color: "#111", width: 1 }, hoverinfo: "skip", name: g.std });
        layout.annotations.push(label(axis, g.t0 + 0.02 * column, g.std));
        if (c > 0) {  // the paper's lead-change mark
          layout.shapes.push({ type: "line", xref: "x", yref: "y" + axis + " domain", x0: g.t0, x1: g.t0, y0: 0.25, y1: 0.75, line: { color: "#111", width: 1.5 } });
        }
      });
      rows.push({ axis: "y" + axis, segments: segs.map((g) => ({ lead: g.lead, t0: g.t0, t1: g.t1 })) });
    });
    const rhythmAxis = axisName(3);
    layout["yaxis" + rhythmAxis] = yAxis(domains[3], ranges[3], "mV", s.pxPerMv);
    traces.push({ x: times(data, 0, n), y: data.leads[lead], xaxis: "x", yaxis: "y" + rhythmAxis, type: "scatter", mode: "lines", line: { color: "#111", width: 1 }, hoverinfo: "skip", name: rhythmStd + " rhythm" });
    layout.annotations.push(label(rhythmAxis, view.start + 0.02 * column, rhythmStd + " rhythm"));
    rows.push({ axis: "y" + rhythmAxis, segments: [{ lead, t0: -Infinity, t1: Infinity }] });
    return { traces, layout, rows, scale: s, markerRow: 3 };
  }

  window.EcgPaper = { STANDARD, GRID_ROWS, MARGIN, canonical, twelveLeadNames, scale, figureWidth, settingsText, mvRange, stackRows, stackedFigure, twelveLeadFigure };
})();
