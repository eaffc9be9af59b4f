"""Speed and memory of the ECG analysis, against NeuroKit2 measured in the same run.

    python bench/bench_analysis.py [--data-dir DIR] [--skip-24h]

1. A 30-minute 2-lead MIT-BIH record, analysed in-process with the model already loaded (as
   the server does), versus NeuroKit2's `ecg_process` on the same record's lead: both times,
   the ratio (target >= 15x), and peak memory of each (in a fresh process each, so one does
   not inherit the other's peak).
2. The cold command-line time of `cardio analyze` on that record.
3. How time grows with length, from 30 minutes to a 24-hour recording built by concatenating
   records (target: linear, and 24 h in under 60 s).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RECORD = "100"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, data_dir: Path, hours: float = 0.5) -> dict[str, float]:
    """Run one measurement in a fresh interpreter; returns its JSON."""
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); from bench.bench_analysis import "
        f"measure; measure({kind!r}, {str(data_dir)!r}, {hours})"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _recording(data_dir: Path, hours: float):  # type: ignore[no-untyped-def]
    from ml.io import read_recording
    from ml.recording import Recording
    from ml.research.databases import DS1, DS2

    names = [RECORD] + [r for r in (*DS1, *DS2) if r != RECORD]
    parts, fs = [], 360.0
    needed = int(hours * 3600 * fs)
    total = 0
    while total < needed:
        for name in names:
            rec = read_recording([data_dir / f"{name}.hea", data_dir / f"{name}.dat"])
            parts.append(rec.signal_mv[: needed - total, :2])
            total += len(parts[-1])
            if total >= needed:
                break
    signal = np.concatenate(parts)
    return Recording(fs_hz=fs, lead_names=("MLII", "V1"), signal_mv=signal)


def measure(kind: str, data_dir: str, hours: float) -> None:
    recording = _recording(Path(data_dir), hours)
    baseline_rss = _peak_rss_mb()
    if kind == "cardio":
        from ml.analysis import analyze, default_classifier

        default_classifier()
        analyze(recording)  # warm-up: TensorFlow builds its graph on the first call
        times = []
        for _ in range(3 if hours <= 0.5 else 1):
            started = time.perf_counter()
            result = analyze(recording)
            times.append(time.perf_counter() - started)
        seconds = statistics.median(times)
        beats = len(result.beats.samples)
    else:
        import neurokit2 as nk

        started = time.perf_counter()
        signals, _ = nk.ecg_process(recording.signal_mv[:, 0], sampling_rate=int(recording.fs_hz))
        seconds = time.perf_counter() - started
        beats = int(signals["ECG_R_Peaks"].sum())
    print(
        json.dumps(
            {
                "seconds": seconds,
                "beats": beats,
                "peak_rss_mb": _peak_rss_mb(),
                "input_rss_mb": baseline_rss,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--skip-24h", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from ml.research.databases import default_data_dir

    data_dir = args.data_dir or default_data_dir()

    print(f"1. 30-minute record {RECORD} (2 leads, 360 Hz), model loaded")
    ours = _child("cardio", data_dir)
    theirs = _child("neurokit2", data_dir)
    print(
        f"   CardioPortal analyze():   {ours['seconds']:7.2f} s  ({ours['beats']} beats, "
        f"peak RSS {ours['peak_rss_mb']:.0f} MB)"
    )
    print(
        f"   NeuroKit2 ecg_process():  {theirs['seconds']:7.2f} s  ({theirs['beats']} beats, "
        f"peak RSS {theirs['peak_rss_mb']:.0f} MB, one lead only)"
    )
    print(f"   speed-up: {theirs['seconds'] / ours['seconds']:.1f}x (target >= 15x)")

    print("\n2. Cold command line: cardio analyze (process start, imports, model load)")
    started = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).with_name("cardio")),
            "analyze",
            str(data_dir / f"{RECORD}.hea"),
            str(data_dir / f"{RECORD}.dat"),
            "--json",
        ],
        check=True,
        capture_output=True,
    )
    print(f"   {time.perf_counter() - started:.1f} s")

    if args.skip_24h:
        return
    print("\n3. Scaling with length (records concatenated, 2 leads, 360 Hz)")
    rows = []
    for hours in (0.5, 2, 6, 24):
        result = _child("cardio", data_dir, hours)
        rows.append((hours, result))
        print(
            f"   {hours:5.1f} h: {result['seconds']:6.1f} s  "
            f"({result['seconds'] / hours:5.2f} s per hour, {result['beats']} beats, "
            f"peak RSS {result['peak_rss_mb']:.0f} MB)"
        )
    per_hour = [r["seconds"] / h for h, r in rows[1:]]
    print(
        f"   24 h in {rows[-1][1]['seconds']:.1f} s (target < 60 s); seconds per hour from 2 h "
        f"to 24 h vary by {max(per_hour) / min(per_hour):.2f}x (1.0 = perfectly linear)"
    )


if __name__ == "__main__":
    main()
