"""Median PDF render time for a 30-minute record: the warm render pool against a fresh
process per render, measured in the same run.

    python bench/bench_reports.py [--data-dir DIR] [--repeats 5]

The record (MIT-BIH 208: 30 min, two leads, frequent ventricular beats and runs) is analysed
once; the clinician report (strips of every lead, a 30 s rhythm strip, episode strips) and the
patient summary are then rendered `--repeats` times each, every time from the report data
(template and strips included), with the portal's time limit:

- through a warm pool (`reports.pool`, as `reports.render.render_pdf` does once its pool runs);
- in a fresh interpreter per render (a new `reports.pool` process each time: imports, fonts);
- as the portal did before the pool: a `multiprocessing` "spawn" child per render, which also
  re-imports the program's main module (here this script, with ml/; in the portal the server's);
- in this process, with no isolation (the floor).

The one-page in-process render shows what WeasyPrint costs for next to nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import resource
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
from reports.pool import RenderPool  # noqa: E402
from reports.render import DEFAULT_TIME_LIMIT_S, RenderError, html_for, pdf_bytes  # noqa: E402
from reports.strips import report_strips  # noqa: E402

RECORD = "208"
BASELINE = "one-page render in-process"


def report_data(data_dir: Path) -> ReportData:
    recording = read_recording([data_dir / f"{RECORD}.hea", data_dir / f"{RECORD}.dat"])
    analysis = analyze(recording)
    document = analysis.to_dict()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conclusion = "Sinus rhythm with frequent ventricular ectopic beats."
    read = Read(2, "physician", analysis.rhythm_summary, ["SINUS", "FREQUENT_PVC"], conclusion,
                "Dr Bench", signed_at=now)  # fmt: skip
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
        quality_words=analysis.quality_words, quality_notes=[],
        scores=[Score("Framingham 2008 general CVD (lipids)", "10-year CVD", 13.5,
                      "intermediate", {"age_years": 76})],
        strips=report_strips(recording, analysis), model_version=document["model_version"],
    )  # fmt: skip


def _fresh_interpreter(kind: str, data: ReportData) -> bytes:
    with RenderPool() as pool:
        return pool.render(html_for(kind, data), DEFAULT_TIME_LIMIT_S)


def _spawn_child(html: str, conn) -> None:  # type: ignore[no-untyped-def]
    conn.send(pdf_bytes(html))
    conn.close()


def _spawned_process(kind: str, data: ReportData) -> bytes:
    """reports.render.render_pdf before the pool: a multiprocessing "spawn" child per render."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_spawn_child, args=(html_for(kind, data), child), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(DEFAULT_TIME_LIMIT_S):
            raise RenderError("over the time limit")
        pdf: bytes = parent.recv()
    finally:
        process.kill()
        process.join(5)
    return pdf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"Analysing MIT-BIH {RECORD} (30 min) once ...", flush=True)
    data = report_data(args.data_dir)
    print(f"{len(data.strips)} strips, {len(data.episodes)} episodes. Rendering", flush=True)

    baseline_html = "<p>One paragraph.</p>"
    pool = RenderPool()

    def warm(kind: str) -> bytes:
        return pool.render(html_for(kind, data), DEFAULT_TIME_LIMIT_S)

    for kind in ("clinician", "patient"):  # start the pool's process and warm both, and us
        warm(kind)
        pdf_bytes(html_for(kind, data))
    variants = {
        BASELINE: lambda: pdf_bytes(baseline_html),
        "clinician report, warm pool": lambda: warm("clinician"),
        "patient summary, warm pool": lambda: warm("patient"),
        "clinician report, fresh interpreter": lambda: _fresh_interpreter("clinician", data),
        "patient summary, fresh interpreter": lambda: _fresh_interpreter("patient", data),
        "clinician report, spawn (before the pool)": lambda: _spawned_process("clinician", data),
        "clinician report in-process (no isolation)": lambda: pdf_bytes(
            html_for("clinician", data)),
    }  # fmt: skip
    # Round-robin, so that a busy spell of the machine weighs on every variant alike. CPU
    # seconds beside wall seconds: on a shared machine the wall time includes waiting for a
    # core, the CPU time is what a render costs on a core of its own.
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    load_before = os.getloadavg()[0]
    for _ in range(args.repeats):
        for name, render in variants.items():
            start_wall, start_cpu = time.perf_counter(), _cpu_s(pool.pids())
            render()
            wall[name].append(time.perf_counter() - start_wall)
            cpu[name].append(_cpu_s(pool.pids()) - start_cpu)
        print(".", end="", flush=True)
    pool.close()
    print(f" (load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after,"
          f" on {os.cpu_count()} cores)")  # fmt: skip
    print(f"{'median per render':44s} {'wall s':>7s} {'CPU s':>7s} {'x one page (wall)':>18s}")
    base = statistics.median(wall[BASELINE])
    for name in variants:
        wall_s, cpu_s = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"{name:44s} {wall_s:7.2f} {cpu_s:7.2f} {wall_s / base:18.1f}")
    for kind in ("clinician report", "patient summary"):
        fresh, pooled = f"{kind}, fresh interpreter", f"{kind}, warm pool"
        print(f"{kind}: the warm pool is "
              f"{statistics.median(wall[fresh]) / statistics.median(wall[pooled]):.1f}x (wall), "
              f"{statistics.median(cpu[fresh]) / statistics.median(cpu[pooled]):.1f}x (CPU) "
              "faster than a fresh interpreter")  # fmt: skip


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds used so far by this process, its ended children and the live `pids`."""
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = time.process_time() + ended.ru_utime + ended.ru_stime
    for pid in pids:  # /proc/PID/stat after the command's ")": utime and stime are 12th, 13th
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


if __name__ == "__main__":
    main()
