"""`cardio analyze FILE... [--fs HZ] [--units uV] [--pacemaker] [--json]`
(also `python -m ml.cli FILE...`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the analysis imports NumPy and LiteRT: only when it runs
    from ml.analysis import EcgAnalysis


def _fmt(value: float | None, unit: str, digits: int = 0) -> str:
    return "not measured" if value is None else f"{value:.{digits}f} {unit}"


def summary_text(analysis: EcgAnalysis) -> str:
    rate, iv = analysis.heart_rate, analysis.intervals
    lines = [
        f"Recording: {analysis.duration_s / 60:.1f} min, {len(analysis.lead_names)} lead(s) "
        f"({', '.join(analysis.lead_names)}) at {analysis.fs_hz:g} Hz",
        f"Main finding: {analysis.main_finding.label} (risk {analysis.main_finding.risk})"
        + (f" - {analysis.main_finding.detail}" if analysis.main_finding.detail else ""),
        f"Rhythm: {analysis.rhythm_summary}",
        *(
            [f"Whole-strip rhythm call: {analysis.strip.text} ({analysis.strip.reason})"]
            if analysis.strip
            else []
        ),
        f"Heart rate: mean {_fmt(rate.mean_bpm, 'bpm')}, min {_fmt(rate.min_bpm, 'bpm')}, "
        f"max {_fmt(rate.max_bpm, 'bpm')}"
        + (f" (not measurable: {rate.rate_reason})" if rate.rate_reason else ""),
        f"Intervals: PR {_fmt(iv.pr_ms, 'ms')}, QRS {_fmt(iv.qrs_ms, 'ms')}, "
        f"QT {_fmt(iv.qt_ms, 'ms')}, QTc Bazett {_fmt(iv.qtc_bazett_ms, 'ms')}, "
        f"Fridericia {_fmt(iv.qtc_fridericia_ms, 'ms')}, axis {_fmt(iv.qrs_axis_deg, 'deg')}",
        f"HRV: SDNN {_fmt(rate.sdnn_ms, 'ms')}, RMSSD {_fmt(rate.rmssd_ms, 'ms')}, "
        f"pNN50 {_fmt(None if rate.pnn50 is None else 100 * rate.pnn50, '%', 1)}"
        + (f" (not measurable: {rate.hrv_reason})" if rate.hrv_reason else ""),
        "Beats: " + ", ".join(f"{c} {n}" for c, n in analysis.beat_counts.items()),
        "Findings:",
        *[
            f"  - [{f.risk}] {f.label}" + (f": {f.detail}" if f.detail else "")
            for f in analysis.findings
        ],
        "Notes:",
        *[f"  - {note}" for note in analysis.notes],
        f"Model: {analysis.model_version}",
    ]
    return "\n".join(lines)


@click.command("analyze")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--fs",
    "fs_hz",
    type=float,
    default=None,
    help="Sampling rate (Hz) for CSV files without a time column.",
)
@click.option(
    "--units",
    type=click.Choice(["mV", "uV"]),
    default=None,
    help="Units of CSV values when the header does not say.",
)
@click.option(
    "--pacemaker",
    is_flag=True,
    help="The patient has a pacemaker: no rhythm, beat types or intervals are asserted.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the full analysis as JSON.")
def analyze_command(
    files: tuple[Path, ...], fs_hz: float | None, units: str | None, pacemaker: bool,
    as_json: bool,
) -> None:  # fmt: skip
    """Analyse one ECG recording (WFDB .hea+.dat or .zip, CSV, EDF) and print the machine read."""
    from ml.analysis import analyze
    from ml.errors import RecordingError
    from ml.io.sources import open_recording

    def progress(fraction: float, message: str) -> None:
        if not as_json:
            click.echo(f"[{fraction:4.0%}] {message}", err=True)

    try:
        # A long WFDB record is streamed from its files and analysed in chunks (ml.chunked).
        recording = open_recording(list(files), fs_hz=fs_hz, units=units)
        analysis = analyze(recording, progress=progress, pacemaker=pacemaker)
    except RecordingError as problem:
        raise click.ClickException(str(problem)) from problem
    click.echo(json.dumps(analysis.to_dict()) if as_json else summary_text(analysis))


if __name__ == "__main__":
    analyze_command(sys.argv[1:])
