"""Median PDF render time for a 30-minute record, against a one-page baseline in the same run.

    python bench/bench_reports.py [--data-dir DIR] [--repeats 5]

The record (MIT-BIH 208: 30 min, two leads, frequent ventricular beats and runs) is analysed
once; the clinician report (strips of every lead, a 30 s rhythm strip, episode strips) and the
patient summary are then rendered `--repeats` times each through `reports.render.render_pdf`
(a fresh process per render, with its time limit, exactly as the portal does). The baseline is
the same path rendering a one-paragraph page, so the ratio shows what the report itself costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ml.analysis import analyze  # noqa: E402
from ml.io import read_recording  # noqa: E402
from ml.research.databases import default_data_dir  # noqa: E402
from reports.data import Read, ReportData, Score  # noqa: E402
from reports.render import pdf_bytes, render_pdf  # noqa: E402
from reports.strips import report_strips  # noqa: E402

RECORD = "208"
BASELINE = "baseline one-page render (in-process)"


def report_data(data_dir: Path) -> ReportData:
    recording = read_recording([data_dir / f"{RECORD}.hea", data_dir / f"{RECORD}.dat"])
    analysis = analyze(recording)
    document = analysis.to_dict()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conclusion = "Sinus rhythm with frequent ventricular ectopic beats."
    read = Read(2, "physician", analysis.rhythm_summary, ["SINUS", "FREQUENT_PVC"], conclusion,
                "Dr Bench", now)  # fmt: skip
    return ReportData(
        institution="Benchmark hospital", clinic_contact="+1 555 0100", report_id=1,
        version_no=2, status="final", generated_at=now, patient_name="Bench Mark",
        mrn="CP00000000", date_of_birth=dt.date(1950, 1, 1), sex="male", age_years=76,
        recorded_at=now, duration_s=recording.duration_s, leads=list(recording.lead_names),
        sampling_rate_hz=recording.fs_hz, source_file=f"{RECORD}.hea, {RECORD}.dat",
        measurements={"heart_rate_bpm": analysis.heart_rate.mean_bpm,
                      "pr_ms": analysis.intervals.pr_ms, "qrs_ms": analysis.intervals.qrs_ms,
                      "qt_ms": analysis.intervals.qt_ms,
                      "qtc_bazett_ms": analysis.intervals.qtc_bazett_ms,
                      "qtc_fridericia_ms": analysis.intervals.qtc_fridericia_ms,
                      "qrs_axis_deg": analysis.intervals.qrs_axis_deg},
        machine=Read(1, "machine", analysis.rhythm_summary, [f.code for f in analysis.findings],
                     analysis.main_finding.label),
        physician=read, amendments=[], findings=analysis.findings,
        episodes=analysis.episodes, beat_counts=document["beat_counts"],
        class_probabilities=document["class_probability_mean"],
        good_quality_fraction=analysis.good_quality_fraction, quality_notes=[],
        scores=[Score("Framingham 2008 general CVD (lipids)", "10-year CVD", 13.5,
                      "intermediate", {"age_years": 76})],
        strips=report_strips(recording, analysis), model_version=document["model_version"],
    )  # fmt: skip


def _median_s(render, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        render()
        times.append(time.perf_counter() - start)
        print(".", end="", flush=True)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"Analysing MIT-BIH {RECORD} (30 min) once ...", flush=True)
    data = report_data(args.data_dir)
    print(f"{len(data.strips)} strips, {len(data.episodes)} episodes. Rendering", flush=True)

    from reports.render import html_for

    baseline_html = "<p>One paragraph.</p>"
    pdf_bytes(baseline_html)  # warm the fonts cache
    results = {
        BASELINE: _median_s(lambda: pdf_bytes(baseline_html), args.repeats),
        "clinician report": _median_s(lambda: render_pdf("clinician", data), args.repeats),
        "patient summary": _median_s(lambda: render_pdf("patient", data), args.repeats),
        "clinician report (in-process, no child)": _median_s(
            lambda: pdf_bytes(html_for("clinician", data)), args.repeats
        ),
    }  # fmt: skip
    print()
    base = results[BASELINE]
    for name, seconds in results.items():
        print(f"{name:42s} median {seconds:6.2f} s   {seconds / base:6.1f} x baseline")


if __name__ == "__main__":
    main()
