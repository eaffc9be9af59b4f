// The QTc as it will be signed, shown beside the QT as the doctor types: the server corrects
// a changed QT for the machine's cycle between normal beats, and a changed heart rate for the
// doctor's rate (`reports._signed_measurements`); this mirrors it. A browser audit: a QT
// typed 2 ms longer signed a QTc 42 ms higher, never shown before signing.
(function () {
  "use strict";
  const out = document.getElementById("live-qtc");
  if (!out) return;
  const form = out.closest("form");
  const field = (name) => form.querySelector(`[name="${name}"]`);
  const d = out.dataset;
  const num = (v) => (v === "" || v === undefined ? null : Number(v));
  const machine = { qt: num(d.qtMs), rate: num(d.rateBpm), bazett: num(d.bazettMs),
                    fridericia: num(d.fridericiaMs), cycle: num(d.cycleS) };

  function typed(input, unit) {  // as the server reads it: "440 ms", a decimal comma
    let text = input.value.trim().toLowerCase();
    if (text.endsWith(unit)) text = text.slice(0, -unit.length).trim();
    if (text === "") return null;
    const value = Number(text.replace(",", "."));
    return Number.isFinite(value) ? value : NaN;
  }
  // Python's round(): halves to even, as the server compares (`reports.as_shown`).
  function roundHalfEven(value) {
    const floor = Math.floor(value), rest = value - floor;
    if (Math.abs(rest - 0.5) > 1e-9) return Math.round(value);
    return floor % 2 === 0 ? floor : floor + 1;
  }
  // A typed value as the server signs it: a whole number, half up (`review.routes._whole`).
  // A rate typed 59.4 had been "your heart rate of 59.4 bpm" and its QTc, signed at 59 as
  // the machine's rate with the machine's QTc, 42 ms apart (a review).
  const whole = (value) => (value === null || Number.isNaN(value) ? value : Math.floor(value + 0.5));
  const shown = (edited, value) => (edited === null || value === null
    ? edited === null && value === null : edited === roundHalfEven(value));
  const SECONDS_UP_TO = 3;  // as the form: a QT typed under 3 is in seconds (`forms.SECONDS_UP_TO`)
  // The values the form signs (`forms.TypedMeasurementField.limits`): a QT of 2.9 had been
  // told "type milliseconds (2900)", and a QT of 900 given a QTc, that the form then refused.
  const limits = (text) => (text ? text.split(" ").map(Number) : [-Infinity, Infinity]);
  const [qtLow, qtHigh] = limits(d.qtLimitsMs), [rateLow, rateHigh] = limits(d.rateLimitsBpm);
  const within = (value, low, high) => value === null || (value >= low && value <= high);

  function say() {
    const qtTyped = typed(field("qt_ms"), "ms"), rateTyped = typed(field("heart_rate_bpm"), "bpm");
    if (Number.isNaN(qtTyped) || Number.isNaN(rateTyped)) { out.textContent = ""; return; }
    const rate = whole(rateTyped);
    if (qtTyped !== null && qtTyped > 0 && qtTyped < SECONDS_UP_TO
        && within(qtTyped * 1000, qtLow, qtHigh)) {
      out.textContent = `QTc as signed: the QT looks like seconds; type milliseconds (${Math.round(qtTyped * 1000)})`;
      return;
    }
    const qt = whole(qtTyped);
    if (!within(qtTyped, qtLow, qtHigh) || !within(rateTyped, rateLow, rateHigh)) {
      out.textContent = !within(qtTyped, qtLow, qtHigh)
        ? `QTc as signed: none (the QT must be between ${qtLow} and ${qtHigh} ms)`
        : `QTc as signed: none (the heart rate must be between ${rateLow} and ${rateHigh} bpm)`;
      return;
    }
    const rateKept = rate === null || shown(rate, machine.rate);
    let bazett, fridericia, basis;
    if (shown(qt, machine.qt) && rateKept) {
      [bazett, fridericia, basis] = [machine.bazett, machine.fridericia, "the machine's"];
    } else {
      const cycle = rateKept && machine.cycle ? machine.cycle : null;
      const rr = cycle || (rate ? 60 / rate : null);
      if (qt && rr) [bazett, fridericia] = [qt / Math.sqrt(rr), qt / Math.cbrt(rr)];
      basis = cycle ? `for the machine's RR of ${Math.round(cycle * 1000)} ms between normal beats`
        : `for your heart rate of ${rate} bpm`;
    }
    out.textContent = bazett && fridericia
      ? `QTc as signed: Bazett ${Math.round(bazett)} ms, Fridericia ${Math.round(fridericia)} ms (${basis})`
      : "QTc as signed: not measurable (it needs a QT and a heart rate)";
  }
  ["qt_ms", "heart_rate_bpm"].forEach((name) => field(name).addEventListener("input", say));
  say();
})();
