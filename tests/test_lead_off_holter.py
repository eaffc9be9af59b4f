"""A minute or more of flat line in every lead is lead-off, read as missing signal: never an
1800-s "sinus arrest", never in the heart rate; the Holter summary counts per readable hour
(`ml.lead_off`, `ml.holter_summary`). A Holter audit: MIT-BIH 119 with 30 min of flat line
read a high-risk pause of 1800 s, a mean rate of 44 bpm (minimum 0) and 591 PVCs an hour
for 885, and the patient read that their heart "paused for a few seconds"."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ml import rhythm
from ml.analysis import EcgAnalysis, analyze
from ml.chunked import analyze_chunked
from ml.io.sources import ArraySource
from ml.lead_off import FlatRunWatch, lead_off_spans_s
from ml.recording import Recording
from portal.services.documents import report_data
from reports.data import NOT_SIGNED
from reports.render import html_for
from tests.conftest import People
from tests.support.ecg_files import synthetic
from tests.test_sinus_rate_statement import _read_by_the_portal, signed_as_prefilled

FS_HZ = 250.0


def _with_flat_line(
    before_s: float, flat_s: float, after_s: float, noise_mv: float = 0.0
) -> Recording:
    """Synthetic sinus rhythm at 72 bpm, a flat line in every lead (with `noise_mv` of noise,
    SD, as a real lead-off line has), then sinus rhythm again."""
    first, second = synthetic(before_s, FS_HZ, seed=3), synthetic(after_s, FS_HZ, seed=4)
    noise = np.random.default_rng(5).normal(0, noise_mv, (round(flat_s * FS_HZ), first.n_leads))
    flat = noise + np.linspace(0, 0.3, noise.shape[0])[:, None] * bool(noise_mv)  # and drift
    signal = np.concatenate([first.signal_mv, flat, second.signal_mv])
    return dataclasses.replace(first, signal_mv=signal)


def _pauses(analysis: EcgAnalysis) -> list[rhythm.Episode]:
    return [e for e in analysis.episodes if e.label == rhythm.PAUSE]


@pytest.mark.parametrize("noise_mv", [0.0, 0.012, 0.02])
def test_ninety_seconds_of_flat_line_is_lead_off_whole_and_chunked(noise_mv: float) -> None:
    """A lead-off line carries 10-20 uV of noise: against an absolute 10 uV limit 90 s of it
    read as a 92-s high-risk "sinus arrest" (an audit); flat is now judged against the lead's
    own beats (`ml.lead_off.SILENT_SHARE`)."""
    recording = _with_flat_line(300, 90, 300, noise_mv)
    assert lead_off_spans_s(recording.signal_mv, FS_HZ) == [(300.0, 390.0)]
    for analysis in (analyze(recording), analyze_chunked(ArraySource(recording), chunk_s=120)):
        assert not _pauses(analysis)
        assert "PAUSE" not in {f.code for f in analysis.findings}
        assert 68 <= analysis.heart_rate.mean_bpm <= 76 and analysis.heart_rate.min_bpm > 60
        assert any(
            n.startswith("Every lead is a flat line from 0:05:00 for 1.5 min: the electrodes")
            for n in analysis.notes
        ), analysis.notes
        holter = analysis.holter
        assert holter is not None and holter.hours == round(690 / 3600, 3)
        assert holter.readable_hours is not None and holter.readable_hours <= round(600 / 3600, 3)


def test_leads_off_while_another_beats_on_are_missing_in_those_leads_only() -> None:
    """An audit: II and V1 flat (lead-off noise) for 90 s while V5 beat on read a 92-s
    high-risk pause and a minimum rate of 5 bpm, the flat leads out-voting the live one."""
    recording = synthetic(210, FS_HZ, seed=3, leads=("II", "V1", "V5"))
    signal = np.array(recording.signal_mv)
    off = slice(round(60 * FS_HZ), round(150 * FS_HZ))
    signal[off, :2] = np.random.default_rng(1).normal(0, 0.015, (off.stop - off.start, 2))
    analysis = analyze(dataclasses.replace(recording, signal_mv=signal))
    assert not _pauses(analysis) and "PAUSE" not in {f.code for f in analysis.findings}
    assert analysis.heart_rate.min_bpm > 60
    assert any(
        n.startswith(
            "Lead II is a flat line from 0:01:00 for 1.5 min while other leads go on (electrode "
            "off or channel dead), so that stretch"
        )
        for n in analysis.notes
    ), analysis.notes
    assert not any(n.startswith("Every lead is a flat line") for n in analysis.notes)


def test_a_flat_line_under_a_minute_is_still_a_pause() -> None:
    """Asystole is read as such: 20 s of flat line between beats is a high-risk pause."""
    recording = _with_flat_line(60, 20, 60)
    assert lead_off_spans_s(recording.signal_mv, FS_HZ) == []
    analysis = analyze(recording)
    assert [20 < e.duration_s < 23 for e in _pauses(analysis)] == [True]
    assert next(f for f in analysis.findings if f.code == "PAUSE").risk == "high"


def test_the_scan_sees_lead_off_across_its_pieces() -> None:
    """`ml.chunked` reads a long recording in pieces: a flat minute split between two is seen."""
    recording = _with_flat_line(30, 61, 30)
    watch = FlatRunWatch(FS_HZ)
    assert any(watch.add(piece) for piece in np.array_split(recording.signal_mv, 7))
    never = FlatRunWatch(FS_HZ)
    assert not any(never.add(p) for p in np.array_split(_with_flat_line(30, 50, 30).signal_mv, 7))
    # At the very start, before any beat was seen: found once the beats come.
    first = FlatRunWatch(FS_HZ)
    start = _with_flat_line(0.0, 70, 60, noise_mv=0.015).signal_mv
    assert any(first.add(piece) for piece in np.array_split(start, 9))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_page_and_the_pdf_say_the_readable_time_and_the_same_counts(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The PDF had recounted the summary from the stored read, whose episode bounds are
    rounded, and said 1,094 S beats beside the page's 1,093 (a Holter audit): both print the
    summary stored with the read now. A withdrawn pause count says so on both."""
    report = _read_by_the_portal(
        app, people, sql, tmp_path / "lead-off.csv", _with_flat_line(300, 90, 300)
    )
    stored = report.versions[0].analysis["holter_summary"]
    page, _, clinician, _ = signed_as_prefilled(app, people, sql, report, tmp_path, "Sinus.")
    words = " ".join(page.split())
    readable = "(10 min of it readable, the time the per-hour figures count)"
    assert f"0.2 h {readable}, {stored['total_beats']:,} beats. Pauses over 2 s: 0." in words
    assert readable in " ".join(clinician.split())
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"])
    assert data.holter is not None and dataclasses.asdict(data.holter) == stored

    paused = dataclasses.replace(data.holter, pauses=1, longest_pause_s=4.0, longest_pause_at_s=9)
    withdrawn = dataclasses.replace(
        data, holter=paused, withdrawn_episodes=frozenset({rhythm.PAUSE})
    )
    pdf = " ".join(html.unescape(html_for("clinician", withdrawn)).split())
    assert f"the longest 4.0 s at 0:00:09 into the recording ({NOT_SIGNED})." in pdf
