"""A regular narrow-complex tachycardia in which no P wave is seen, named as a cardiologist
who sees none names it: a supraventricular tachycardia, or sinus tachycardia whose P waves
hide in the T waves (at 150 bpm and more the T wave ends where the next P wave would stand).

A long recording's stretch of it is `ml.rhythm.NARROW_TACHYCARDIA` (`rhythm._without_p_waves`,
its finding in `ml.findings`); a strip keeps its "other rhythm" call (a strip's call is one of
four, `ml.strip_rhythm`) and its reason says this (`named_on_the_strip`). Before: two minutes
of synthetic AV nodal re-entry at 153-172 bpm read "Sinus tachycardia" (7 of 12, seed 3101),
faster ones "Junctional or ectopic rhythm (no P waves)"; a strip of it read "Other rhythm:
fast (median rate 199 bpm)", which says nothing of what it may be.
"""

from __future__ import annotations

import numpy as np

from ml.intervals import WIDE_QRS_MS, Intervals
from ml.rhythm import NO_P_WAVE_RATES_BPM
from ml.strip_rhythm import (
    IRREGULAR_RR_SHARE,
    OTHER,
    StripCall,
    another_rhythm,
    median_rate,
    successive_share,
)

FROM_BPM = NO_P_WAVE_RATES_BPM[1]  # as the long recording's rule: 130
# Regular: the median successive RR difference under IRREGULAR_RR_SHARE of the RR (as a sinus
# strip's "regular") and their root mean square under this share (a premature beat or two):
# cinc2017 A08353 (reference AF, read "Other rhythm: fast (134 bpm)") reads 0.16, the strips
# of this rhythm among the 1,618 selection reads 0.02-0.10, synthetic re-entry 0.01.
REGULAR_RMSSD_SHARE = 0.12
CAUSES = (
    "a supraventricular tachycardia (AV nodal re-entry, atrial tachycardia, atrial flutter "
    "with 2:1 conduction), or sinus tachycardia with its P waves hidden in the T waves: check "
    "the strip"
)
NO_P_WAVE_WORDS = "no P wave seen in any lead"
STRIP_REASON = "{rate}, a narrow QRS and " + NO_P_WAVE_WORDS + ": " + CAUSES


def said_on_the_strip(call: StripCall) -> bool:
    """Whether the strip's call is this one (`named_on_the_strip`): no P wave in any lead, so
    no stretch of it is listed as sinus (MIT-BIH 202's flutter listed "Sinus tachycardia
    1.1-28.7 s" below it; a clinician audit)."""
    return NO_P_WAVE_WORDS in call.reason


def named_on_the_strip(call: StripCall, intervals: Intervals) -> StripCall:
    """A strip called another rhythm for its fast rate alone, at `FROM_BPM` or more, with
    regular intervals (`_regular`), whose median beat has a narrow QRS (measured under
    `WIDE_QRS_MS`; a wide one at such a rate is a wide-complex tachycardia, `ml.findings`) and
    no P wave in any lead (none found, or no room for one between the T wave and the QRS, as
    at the fastest rates), with the reason saying what it may be (`STRIP_REASON`)."""
    if call.label != OTHER or "log_rate_bpm" not in call.features:
        return call
    rate_bpm = float(np.exp(call.features["log_rate_bpm"]))
    fast = f"fast ({median_rate(rate_bpm)})"
    narrow = intervals.qrs_ms is not None and intervals.qrs_ms < WIDE_QRS_MS
    if call.reason != fast or rate_bpm < FROM_BPM or not narrow or not _regular(call):
        return call
    if not (intervals.lacks_p_wave_in_every_lead() or intervals.no_room_for_p_wave()):
        return call
    return another_rhythm(call, STRIP_REASON.format(rate=fast))


def _regular(call: StripCall) -> bool:
    """Regular intervals, a premature beat or two allowed (`REGULAR_RMSSD_SHARE`)."""
    rmssd_share = float(np.exp(call.features["log_rmssd_over_rr"]))
    return (
        successive_share(call.features) < IRREGULAR_RR_SHARE and rmssd_share < REGULAR_RMSSD_SHARE
    )
