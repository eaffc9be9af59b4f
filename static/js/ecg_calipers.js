// Calipers for the review page's strips: press on a strip (mouse, pen or finger), drag,
// release; the measurement runs from the press point to the release point on the lead pressed. Times are the recording's
// own samples (rounded to the nearest sample), amplitudes are read from the signal, and with
// "snap" each end moves to the lead's largest deflection within ±40 ms (the R peak, for RR).
(function () {
  const SNAP_S = 0.04;
  const COLOR = "#1458a6";
  const baselines = new WeakMap();  // lead values -> their median (the isoelectric level)

  function median(values) {
    if (!baselines.has(values)) {
      const sorted = Float64Array.from(values).sort();
      baselines.set(values, sorted.length ? sorted[sorted.length >> 1] : 0);
    }
    return baselines.get(values);
  }

  // The point (index into the window's values) nearest to time t, and how points map to the
  // recording's samples: the window starts on a sample and steps by whole samples.
  function grid(data, fsHz) {
    return { first: Math.round(data.start_s * fsHz), step: Math.max(1, Math.round(data.dt_s * fsHz)) };
  }

  function nearestPoint(data, fsHz, n, t) {
    const g = grid(data, fsHz);
    return Math.max(0, Math.min(n - 1, Math.round((t * fsHz - g.first) / g.step)));
  }

  // The point within ±SNAP_S of k that lies furthest from the lead's baseline (either sign,
  // so a negative QRS such as aVR's snaps to its S wave rather than to the T wave).
  function snapPoint(values, k, halfWidth) {
    const base = median(values);
    let best = k;
    for (let i = Math.max(0, k - halfWidth); i <= Math.min(values.length - 1, k + halfWidth); i++) {
      if (Math.abs(values[i] - base) > Math.abs(values[best] - base)) best = i;
    }
    return best;
  }

  // One measurement on `lead` between the times tA (press) and tB (release), in seconds.
  function measure(data, fsHz, lead, tA, tB, snap) {
    const values = data.leads[lead], n = values.length, g = grid(data, fsHz);
    let a = nearestPoint(data, fsHz, n, tA), b = nearestPoint(data, fsHz, n, tB);
    if (snap) {
      const half = Math.max(1, Math.round(SNAP_S * fsHz / g.step));
      a = snapPoint(values, a, half);
      b = snapPoint(values, b, half);
    }
    const sampleA = g.first + a * g.step, sampleB = g.first + b * g.step;
    const samples = Math.abs(sampleB - sampleA);
    const dtMs = (samples * 1000) / fsHz;
    return {
      lead, fs_hz: fsHz, snapped: !!snap, samples,
      t0_s: sampleA / fsHz, t1_s: sampleB / fsHz, v0_mv: values[a], v1_mv: values[b],
      dt_ms: dtMs, dv_mv: values[b] - values[a], bpm: samples > 0 ? 60000 / dtMs : null,
    };
  }

  const msText = (ms) => (Math.abs(ms - Math.round(ms)) < 1e-6 ? String(Math.round(ms)) : ms.toFixed(1));
  const signed = (mv) => (mv >= 0 ? "+" : "−") + Math.abs(mv).toFixed(2);

  function describe(m) {
    return `Δt ${msText(m.dt_ms)} ms · ${m.bpm === null ? "—" : m.bpm.toFixed(0)} bpm · ΔV ${signed(m.dv_mv)} mV`;
  }

  function readout(m) {
    return `Calipers on lead ${m.lead}: ${describe(m)} (${m.t0_s.toFixed(3)} s to ${m.t1_s.toFixed(3)} s, ${m.samples} samples at ${m.fs_hz} Hz)`;
  }

  // The bracket on the strip: a line at each end, a bar joining them, a dot where each end
  // meets the signal, and the measurement written above the bar.
  function overlay(m, yaxis) {
    const domain = yaxis + " domain", line = { color: COLOR, width: 1.5 };
    const dot = (t, v) => ({
      type: "circle", xref: "x", yref: yaxis, xsizemode: "pixel", ysizemode: "pixel", xanchor: t, yanchor: v,
      x0: -4, x1: 4, y0: -4, y1: 4, line, fillcolor: "rgba(20,88,166,0.3)",
    });
    return {
      shapes: [
        { type: "line", xref: "x", yref: domain, x0: m.t0_s, x1: m.t0_s, y0: 0, y1: 0.9, line },
        { type: "line", xref: "x", yref: domain, x0: m.t1_s, x1: m.t1_s, y0: 0, y1: 0.9, line },
        { type: "line", xref: "x", yref: domain, x0: m.t0_s, x1: m.t1_s, y0: 0.9, y1: 0.9, line },
        dot(m.t0_s, m.v0_mv), dot(m.t1_s, m.v1_mv),
      ],
      annotations: [{
        xref: "x", yref: domain, x: (m.t0_s + m.t1_s) / 2, y: 0.9, yanchor: "bottom", showarrow: false,
        text: describe(m), font: { size: 11, color: COLOR }, bgcolor: "rgba(255,255,255,0.85)", name: "caliper",
      }],
    };
  }

  // Which row (from the figure's `rows`) and time a mouse position points at, if any.
  function locate(gd, rows, clientX, clientY) {
    const full = gd._fullLayout;
    if (!full || !full.xaxis) return null;
    const rect = gd.getBoundingClientRect(), xa = full.xaxis;
    const px = clientX - rect.left - xa._offset, py = clientY - rect.top;
    if (px < 0 || px > xa._length) return null;
    const t = xa.p2l(px);
    for (const row of rows) {
      const ya = full["yaxis" + row.axis.slice(1)];
      if (!ya || py < ya._offset || py > ya._offset + ya._length) continue;
      const segment = row.segments.find((s) => t >= s.t0 && t <= s.t1) || row.segments[0];
      return { row, lead: segment.lead, t };
    }
    return null;
  }

  // Press-drag-release on the strips while `hooks.active()`, with a mouse, a pen or a finger
  // (pointer events: a ward tablet's touch had panned the strip instead, mouse events only);
  // the press is taken before Plotly's own drag (pan) sees it. hooks: active(), snap(),
  // rows(), context() -> {data, fsHz}, draft(measurement, row) while dragging,
  // done(measurement, row) on release.
  function attach(gd, hooks) {
    let drag = null, frame = 0;
    const timeAt = (clientX) => {
      const xa = gd._fullLayout.xaxis, left = gd.getBoundingClientRect().left + xa._offset;
      return xa.p2l(Math.max(0, Math.min(xa._length, clientX - left)));
    };
    const current = (clientX) => {
      const { data, fsHz } = hooks.context();
      return measure(data, fsHz, drag.lead, drag.t, timeAt(clientX), hooks.snap());
    };
    function move(e) {
      if (!drag || e.pointerId !== drag.pointerId) return;
      drag.clientX = e.clientX;
      if (!frame) frame = requestAnimationFrame(() => { frame = 0; if (drag) hooks.draft(current(drag.clientX), drag.row); });
    }
    function up(e) {
      if (!drag || e.pointerId !== drag.pointerId) return;
      const m = e.type === "pointercancel" ? null : current(e.clientX), row = drag.row;
      drag = null;
      ["pointermove", "pointerup", "pointercancel"].forEach((type) => window.removeEventListener(type, type === "pointermove" ? move : up));
      hooks.done(m && m.samples > 0 ? m : null, row);
    }
    gd.addEventListener("pointerdown", (e) => {
      if (!hooks.active() || !e.isPrimary || e.button !== 0) return;
      const hit = locate(gd, hooks.rows(), e.clientX, e.clientY);
      if (!hit) return;
      e.preventDefault();  // no mouse events follow for Plotly to pan with
      e.stopPropagation();
      drag = { row: hit.row, lead: hit.lead, t: hit.t, clientX: e.clientX, pointerId: e.pointerId };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up);
      window.addEventListener("pointercancel", up);
    }, true);
    // A finger's touch events still reach Plotly's own drag: not while the calipers are on.
    const held = (e) => { if (hooks.active()) e.stopPropagation(); };
    gd.addEventListener("touchstart", held, true);
    gd.addEventListener("mousedown", (e) => { if (drag) held(e); }, true);
  }

  window.EcgCalipers = { SNAP_S, measure, describe, readout, overlay, locate, attach };
})();
