"""Beats called supraventricular on a strip read as atrial fibrillation/flutter are conducted
beats (N).

An S call says a beat came early against the sinus rhythm. In atrial fibrillation there is no
sinus rhythm to be early against: every beat is a fibrillation beat conducted to the
ventricles, which is why AAMI (and MIT-BIH's reference) labels the beats of AF N. A short
strip gets one rhythm call for all of it (`ml.strip_rhythm`), and when that call is AF the
classifier's S calls on it were still reported as "Supraventricular ectopic beats" beside the
AF: 680 S calls on the 131 cinc2017 strips read as AF (68 of them listing such beats and 15
an SVT), which a cardiologist would not write.
On such a strip they become N, and the read's notes say how many. (A run of them is no
supraventricular tachycardia either: `ml.rhythm.strip_episodes` keeps none in an AF strip.)

Only a strip's call, not the AF episodes of a long recording: an episode's edges are known to
a few seconds and the episode may be a run of atrial ectopy read as AF. Measured on svdb, the
same rule applied inside episodes turned 973 of its 5,508 true S beats into N (S Se end to
end 91.3 -> 73.7 %; records 821, 892, 881, 889) for 1 point of S +P on MIT-BIH DS1.
"""

from __future__ import annotations

import numpy as np

from ml.strip_rhythm import AF

NOTE_PHRASE = "counted as conducted beats of atrial fibrillation/flutter"


def conducted_in_af_strip(classes: np.ndarray, strip_call: str | None) -> np.ndarray:
    """True for each beat called S when the strip's one call (`strip_call`: a
    `ml.strip_rhythm` label, None for a long recording) is AF."""
    classes = np.asarray(classes)
    return (classes == "S") & (strip_call == AF)


def conducted_note(n_beats: int) -> str:
    """What the read says of the S calls it counted as conducted AF beats."""
    beats, were = ("1 beat", "was") if n_beats == 1 else (f"{n_beats} beats", "were")
    return (
        f"{beats} called supraventricular on this strip of atrial fibrillation/flutter {were} "
        f"{NOTE_PHRASE} (N): in atrial fibrillation there is no sinus rhythm for a beat to be "
        "premature to."
    )
