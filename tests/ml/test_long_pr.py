"""A marked first-degree AV block is sinus rhythm with a long PR, not a rhythm without P waves.

With a PR over about 300 ms the P wave lies wholly before the stretch the rhythm features read
by default (250-80 ms before the R peak): strips read "other rhythm: no consistent P wave"
and their PR was withheld, and one lead of it read "Junctional or ectopic rhythm (no P waves)".
"""

import pytest

from ml.analysis import analyze
from ml.atrial import P_REGION_S, p_region_s
from ml.research.synthetic import BeatTruth, synthetic_recording
from ml.rhythm import NO_P_WAVES

TWO_LEADS = ("II", "V1")


def _long_pr(pr_ms: float, hr_bpm: float, duration_s: float, leads: tuple[str, ...]):
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=hr_bpm, pr_ms=pr_ms),
        duration_s=duration_s,
        fs_hz=500.0,
        leads=leads,
        noise_mv=0.02,
        seed=3,
    )
    return analyze(recording)


def test_the_p_region_moves_only_for_a_p_wave_that_begins_earlier():
    assert p_region_s(None) == P_REGION_S
    assert p_region_s(-0.20) == P_REGION_S
    start_s, end_s = p_region_s(-0.37)
    assert start_s == -0.37
    assert end_s - start_s == pytest.approx(P_REGION_S[1] - P_REGION_S[0])


@pytest.mark.parametrize("leads", [("II",), TWO_LEADS])
@pytest.mark.parametrize("pr_ms", [320.0, 350.0])
def test_a_strip_with_a_marked_first_degree_block_reads_sinus_rhythm(leads, pr_ms):
    analysis = _long_pr(pr_ms, 60.0, 30.0, leads)
    assert analysis.strip is not None
    assert analysis.strip.label == "sinus", analysis.strip.reason
    assert "no consistent P wave" not in analysis.strip.reason
    assert "OTHER_RHYTHM" not in [f.code for f in analysis.findings]


def test_two_leads_of_it_measure_the_pr_and_name_the_block():
    analysis = _long_pr(320.0, 60.0, 30.0, TWO_LEADS)
    assert analysis.intervals.pr_ms == pytest.approx(320.0, abs=10.0)
    block = [f for f in analysis.findings if f.code == "AV_BLOCK_1"]
    assert block and "PR 32" in block[0].detail


def test_two_minutes_of_one_lead_are_not_named_a_rhythm_without_p_waves():
    """One lead's PR over 300 ms is withheld (low confidence), yet its P wave is there."""
    analysis = _long_pr(330.0, 52.0, 120.0, ("II",))
    assert analysis.intervals.pr_ms is None
    assert analysis.intervals.shows_p_wave()
    assert NO_P_WAVES not in [e.label for e in analysis.episodes]
    assert analysis.rhythm_summary.startswith("Sinus")


def test_a_junctional_rhythm_is_still_named_so():
    """No P wave in the median beat: the rhythm without P waves keeps its name."""
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=45.0, p_mv=0.0),
        duration_s=120.0,
        fs_hz=500.0,
        leads=("II",),
        noise_mv=0.02,
        seed=3,
    )
    analysis = analyze(recording)
    assert not analysis.intervals.shows_p_wave()
    assert NO_P_WAVES in [e.label for e in analysis.episodes]
    assert analysis.rhythm_summary.startswith("Junctional")
