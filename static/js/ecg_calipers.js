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

  // The first end alone, while a keyboard places it: its line and dot as `overlay` draws them.
  function firstEnd(m, yaxis) {
    const o = overlay(m, yaxis);
    return { shapes: [o.shapes[0], o.shapes[3]], annotations: [] };
  }

  // The same calipers by keyboard, on the strip focused (WCAG 2.1.1: the ends had been placed
  // only by a pointer). Left/Right move the moving end a small box (40 ms), with Shift a large
  // box (200 ms); Up/Down choose the row while the first end moves; Enter or Space fixes the
  // first end and moves the second from it, fixes the second (the measurement, as a release
  // gives it), then switches which end moves; Escape clears. The ends start on the first large
  // box of the row the beats are marked on, or are the measurement shown. hooks: as `attach`,
  // and firstRow(), kept() -> {measurement, row} or null, mark(measurement, row) for the first
  // end, clear().
  const KEY_STEP_S = { small: 0.04, large: 0.2 };
  function attachKeys(gd, hooks) {
    let keys = null;  // {row, lead, t: [first, second], moving: 0 or 1, fixed: ends fixed (0-2)}
    const range = () => gd._fullLayout.xaxis.range;
    const leadAt = (row, t) => (row.segments.find((s) => t >= s.t0 && t <= s.t1) || row.segments[0]).lead;
    const current = () => {
      const { data, fsHz } = hooks.context();
      const [a, b] = keys.fixed === 0 ? [keys.t[0], keys.t[0]] : keys.t;
      return measure(data, fsHz, keys.lead, a, b, hooks.snap());
    };
    function begin() {
      const shown = hooks.kept();
      if (shown) {
        const m = shown.measurement;
        keys = { row: shown.row, lead: m.lead, t: [m.t0_s, m.t1_s], moving: 1, fixed: 2 };
        return;
      }
      const row = hooks.firstRow(), t = Math.ceil((range()[0] + 1e-6) / KEY_STEP_S.large) * KEY_STEP_S.large;
      keys = { row, lead: leadAt(row, t), t: [t, t], moving: 0, fixed: 0 };
      draw();
    }
    function draw() {
      const m = current();
      if (keys.fixed === 0) hooks.mark(m, keys.row);
      else if (keys.fixed === 2 && m.samples > 0) hooks.done(m, keys.row);
      else hooks.draft(m, keys.row);
    }
    function move(stepS) {
      const [lo, hi] = range();
      keys.t[keys.moving] = Math.max(lo, Math.min(hi, keys.t[keys.moving] + stepS));
      if (keys.fixed === 0) keys.lead = leadAt(keys.row, keys.t[0]);
      draw();
    }
    function changeRow(step) {
      const rows = hooks.rows(), k = rows.indexOf(keys.row) + step;
      if (k < 0 || k >= rows.length) return;
      keys.row = rows[k];
      keys.lead = leadAt(keys.row, keys.t[0]);
      draw();
    }
    function fix() {
      if (keys.fixed === 0) { keys.fixed = 1; keys.moving = 1; keys.t[1] = keys.t[0]; draw(); return; }
      if (keys.fixed === 1) {
        if (current().samples === 0) return;  // both ends on one sample: no interval yet
        keys.fixed = 2;
        draw();
        return;
      }
      keys.moving = 1 - keys.moving;
    }
    // Reached by Tab (not a click), the first end shows at once; a press on the strip is the
    // pointer's, which the keys then take up from.
    gd.addEventListener("focus", () => { if (hooks.active() && hooks.rows().length && gd.matches(":focus-visible")) begin(); });
    gd.addEventListener("pointerdown", () => { keys = null; }, true);
    gd.addEventListener("blur", () => {
      // A measurement half placed is dropped, as a cancelled drag is.
      if (keys && keys.fixed < 2) hooks.done(null, keys.row);
      keys = null;
    });
    gd.addEventListener("keydown", (e) => {
      if (e.target !== gd || !hooks.active() || !hooks.rows().length || e.altKey || e.ctrlKey || e.metaKey) return;
      if (!keys || !hooks.rows().includes(keys.row)) begin();  // the strip was redrawn
      const step = e.shiftKey ? KEY_STEP_S.large : KEY_STEP_S.small;
      if (e.key === "ArrowRight") move(step);
      else if (e.key === "ArrowLeft") move(-step);
      else if ((e.key === "ArrowUp" || e.key === "ArrowDown") && keys.fixed === 0) changeRow(e.key === "ArrowUp" ? -1 : 1);
      else if (e.key === "Enter" || e.key === " ") fix();
      else if (e.key === "Escape") { hooks.clear(); keys = { ...keys, t: [keys.t[0], keys.t[0]], moving: 0, fixed: 0 }; draw(); }
      else return;
      e.preventDefault();
    });
  }

  window.EcgCalipers = { SNAP_S, KEY_STEP_S, measure, describe, readout, overlay, firstEnd, locate, attach, attachKeys };
})();
