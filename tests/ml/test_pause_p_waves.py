"""A pause says whether P waves go on through it (AV block) or none comes (sinus arrest)
(`ml.pause_p_waves`)."""

from __future__ import annotations

import numpy as np
import pytest

from ml.analysis import EcgAnalysis, analyze
from ml.pause_p_waves import _atrial_rhythm, pause_p_wave_phrase
from ml.recording import Recording, validated
from ml.research.synthetic import standstill_mv

FS_HZ = 360.0
LEADS = ("MLII", "V1")


def _pause_detail(p_waves_go_on: bool, silent_s: tuple[float, float], **kw: object) -> str:
    signal, _ = standstill_mv(
        60.0, silent_s, fs_hz=FS_HZ, leads=LEADS, bpm=75.0, p_waves_go_on=p_waves_go_on, **kw
    )  # type: ignore[arg-type]
    analysis: EcgAnalysis = analyze(validated(Recording(FS_HZ, LEADS, signal)))
    return next(f.detail for f in analysis.findings if f.code == "PAUSE")


@pytest.mark.parametrize("noise_mv", [0.01, 0.03])
def test_a_pause_with_p_waves_going_on_reads_as_av_block(noise_mv: float) -> None:
    """Before: "1 pause(s) over 2 s, longest 5.6 s", the same words as a sinus arrest."""
    detail = _pause_detail(True, (30.0, 35.6), noise_mv=noise_mv)
    assert "P waves seen going on through it without a QRS (non-conducted P waves: AV" in detail


@pytest.mark.parametrize("noise_mv", [0.01, 0.03])
def test_a_sinus_arrest_reads_no_p_wave(noise_mv: float) -> None:
    detail = _pause_detail(False, (30.0, 35.6), noise_mv=noise_mv)
    assert (
        "no P wave seen in it (sinus arrest or sinoatrial block, or the electrodes came off; "
        "check the strip)"
    ) in detail
    assert "P waves seen going on" not in detail


def test_p_waves_going_on_to_the_end_show_the_electrodes_were_on() -> None:
    detail = _pause_detail(True, (40.0, 60.0))
    assert "to the end of the recording" in detail
    assert "while P waves go on: ventricular standstill (AV block)" in detail
    assert "electrodes came off" not in detail
    flat = _pause_detail(False, (40.0, 60.0))
    assert "asystole, or the electrodes came off" in flat and "sinus arrest" not in flat


def test_matches_in_noise_come_at_any_spacing() -> None:
    assert _atrial_rhythm(np.array([0.0, 0.8, 1.6, 2.4]), 0.8)
    assert not _atrial_rhythm(np.array([0.0, 0.4, 1.5, 1.9, 3.2]), 0.8)
    assert not _atrial_rhythm(np.array([0.0, 1.6, 3.2]), 0.8)  # not the atrial cycle


def test_the_phrase_counts_the_pauses_of_each_kind() -> None:
    assert pause_p_wave_phrase([None, None]) == ""
    assert pause_p_wave_phrase([3, 0, None, 0]) == (
        "P waves seen going on through 1 of them without a QRS (non-conducted P waves: AV block, "
        "or blocked atrial premature beats; check the P waves); no P wave seen in 2 of them "
        "(sinus arrest or sinoatrial block, or the electrodes came off; check the strip)"
    )
