"""AF of 30 s or more is named in the headline beside the main finding's rhythm
(`rhythm._af_beside`): a Holter audit's 2-h recording, 42 min (35 %) of AF in three episodes
and a VT main finding, read "Sinus rhythm with ventricular tachycardia (68 s)" in the
measurements, the "Main rhythm" note and the sign form's prefilled rhythm line, signed as is
without a word of AF, beside findings listing the AF at high risk."""

from __future__ import annotations

from ml import rhythm, vocabulary
from portal.review.routes import with_the_rhythm_line

AF_EPISODES_S = ((1805.7, 2205.0), (3611.1, 5652.0), (6500.0, 6580.0))  # 2521 s, 42.0 min


def _holter() -> list[rhythm.Episode]:
    af = [rhythm.Episode(rhythm.AF, a, b, round((b - a) / 0.6)) for a, b in AF_EPISODES_S]
    sinus_edges = [0.0, *(t for span in AF_EPISODES_S for t in span), 7200.0]
    sinus = [
        rhythm.Episode(rhythm.SINUS, a, b, round((b - a) / 0.8))
        for a, b in zip(sinus_edges[::2], sinus_edges[1::2], strict=True)
    ]
    vt = [rhythm.Episode(rhythm.VT, 5398.9 + 100 * i, 5398.9 + 100 * i + 8.5, 17) for i in range(8)]
    return sorted(af + sinus + vt, key=lambda e: e.start_s)


def test_a_holters_af_is_named_beside_its_vt_main_finding() -> None:
    line = rhythm.headline(_holter(), rhythm.VT)
    assert line == (
        "Sinus rhythm with atrial fibrillation/flutter (42.0 min) and ventricular "
        "tachycardia (68 s)"
    )
    # Beside a main finding that names no rhythm, or a pause, likewise.
    assert rhythm.headline(_holter(), "ST elevation") == (
        "Sinus rhythm with atrial fibrillation/flutter (42.0 min)"
    )
    pause = [*_holter(), rhythm.Episode(rhythm.PAUSE, 100.0, 103.5, 2)]
    assert rhythm.headline(pause, rhythm.PAUSE) == (
        "Sinus rhythm with atrial fibrillation/flutter (42.0 min) and pause"
    )
    # AF as the main finding, or as the dominant rhythm, reads as before.
    assert rhythm.headline(_holter(), rhythm.AF) == (
        "Sinus rhythm with atrial fibrillation/flutter (42.0 min)"
    )
    no_af = [e for e in _holter() if e.label != rhythm.AF]
    assert rhythm.headline(no_af, rhythm.VT) == "Sinus rhythm with ventricular tachycardia (68 s)"


def test_the_line_comes_to_the_doctor_signable_as_prefilled_with_both_rhythms() -> None:
    line = rhythm.headline(_holter(), rhythm.VT)
    assert vocabulary.rhythm_codes_of(line) == ["SINUS", "AF"]  # not "tachycardia" (TACHY)
    machine = ["VT", "AF", "PVC"]
    prefilled = with_the_rhythm_line(machine, line, episodes=True)
    assert prefilled[0] == "SINUS" and set(machine) <= set(prefilled)
    assert vocabulary.contradictions(prefilled, line, episodes=True) == []
