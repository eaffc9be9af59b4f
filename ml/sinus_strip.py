"""What a short strip's P waves say of its sinus call, as a cardiologist reads them: a strip
called another rhythm for its rate alone (or for the model's opinion alone), with a P wave
before every QRS, is sinus rhythm, tachycardia or bradycardia (`sinus_at_its_rate`); a strip
called sinus rhythm whose P waves are inverted in lead II is not
(`not_sinus_with_inverted_p_waves`).

The strip rule (`ml.strip_rhythm`) calls every strip outside 50-100 bpm "Other rhythm (not
normal sinus rhythm, not atrial fibrillation)", as the CinC 2017 labels it learned from do
("other rhythm" holds sinus tachycardia): a 10-s 12-lead of sinus tachycardia at 118 bpm, a
P wave of 0.15 mV before every QRS at a PR of 160 ms, read "Other rhythm: fast (median rate
118 bpm)", where two minutes of it read "Sinus tachycardia" (a fuzzer of clinical scenarios
with known answers: 11 of 11 such strips, seed 991). Such a call becomes sinus rhythm, named
by its rate afterwards (`ml.strip_rhythm.named_by_rate`), when all of these hold:

- its reason is the rate alone (no ectopic beats, pauses or irregular intervals), or the
  other-rhythm model's opinion alone (`MODEL_ALONE_REASON`: nothing departs from sinus
  rhythm in words) with regular intervals (14 of 28 synthetic strips of sinus rhythm with a
  bundle-branch block read "Other rhythm: the features together do not look like plain
  sinus rhythm to the model", seed 1002);
- the P wave is consistent before every QRS (`AF_EXCLUDING_P_WAVE_CONSISTENCY`, the figure
  that rules AF out) and the median beat has one at a measured PR;
- under `FASTEST_SINUS_BPM`: from 150 bpm a regular narrow rhythm is as likely atrial flutter
  with 2:1 conduction or another supraventricular tachycardia, whose flutter or P' wave stands
  where a P wave would;
- and, when the recording has lead II, the P wave is not negative there
  (`ml.lead_ii_p_wave`): an inverted one is an ectopic atrial or junctional rhythm.

Not told apart: 3:1 atrial flutter at 100-107 bpm, whose flutter wave before each QRS passes
for a P wave (4 of 28 varied synthetic flutter strips, seed 2002, read sinus tachycardia here,
"Other rhythm: fast" before).

A slow strip's reason adds `HIDDEN_BLOCK`: in 2:1 AV block the blocked P wave can sit in the
T wave, where `ml.two_to_one` does not look, and the strip then looks like sinus bradycardia
(2 of 30 fuzzer 2:1 blocks at 45 bpm, seed 1000, which read "Other rhythm: slow" before).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ml.intervals import Intervals
from ml.lead_ii_p_wave import inverted_p_waves
from ml.strip_rhythm import (
    AF_EXCLUDING_P_WAVE_CONSISTENCY,
    IRREGULAR_RR_SHARE,
    LABEL_TEXT,
    MODEL_ALONE_REASON,
    OTHER,
    SINUS,
    SINUS_RATE_BPM,
    StripCall,
    another_rhythm,
    median_rate,
    successive_share,
)

FASTEST_SINUS_BPM = 150.0
REASON = "regular, {rate}, a P wave before every QRS (PR {pr:.0f} ms)"
INVERTED_P_REASON = (
    "P waves inverted in lead II: an ectopic atrial or junctional rhythm, or misplaced limb "
    "electrodes (then the QRS complex in II is upside down too)"
)
HIDDEN_BLOCK = "; 2:1 AV block with its blocked P waves in the T waves looks alike: check them"


def sinus_at_its_rate(
    call: StripCall, intervals: Intervals, p_wave_in_lead_ii: int | None
) -> StripCall:
    """`call` as sinus rhythm when it is another rhythm for its rate alone (or the model's
    opinion alone, regular) and its P waves say sinus (module docstring); else unchanged.
    `p_wave_in_lead_ii`: the median P wave's polarity in lead II (+1, -1, 0 too small to say;
    None without lead II or a P wave)."""
    if not _other_for_its_rate_alone(call):
        return call
    rate_bpm = float(np.exp(call.features["log_rate_bpm"]))
    slow = SINUS_RATE_BPM[0]
    consistent = call.features["p_wave_consistency"] >= AF_EXCLUDING_P_WAVE_CONSISTENCY
    if not consistent or intervals.pr_ms is None or p_wave_in_lead_ii == -1:
        return call
    reason = REASON.format(rate=median_rate(rate_bpm), pr=intervals.pr_ms)
    reason += HIDDEN_BLOCK if rate_bpm < slow else ""
    return dataclasses.replace(call, label=SINUS, text=LABEL_TEXT[SINUS], reason=reason)


def _other_for_its_rate_alone(call: StripCall) -> bool:
    """Another rhythm for its rate alone, or the model's opinion alone on regular intervals,
    under `FASTEST_SINUS_BPM`: a call the P waves decide (module docstring)."""
    if call.label != OTHER or "log_rate_bpm" not in call.features:
        return False
    rate_bpm = float(np.exp(call.features["log_rate_bpm"]))
    rate_alone = call.reason in (
        f"slow ({median_rate(rate_bpm)})",
        f"fast ({median_rate(rate_bpm)})",
    )
    regular = successive_share(call.features) < IRREGULAR_RR_SHARE
    model_alone = call.reason == MODEL_ALONE_REASON and regular
    return (rate_alone or model_alone) and rate_bpm < FASTEST_SINUS_BPM


def not_sinus_with_inverted_p_waves(
    call: StripCall, intervals: Intervals, p_wave_in_lead_ii: int | None
) -> StripCall:
    """A strip called sinus rhythm whose median P wave, at a measured PR, is negative in lead
    II is another rhythm (`INVERTED_P_REASON`): sinus P waves are upright there. A synthetic
    ectopic atrial rhythm at 55-100 bpm, its P waves inverted in every lead that shows them
    upright in sinus rhythm, read "Sinus rhythm" and "No significant arrhythmia". Only with
    the PR at high confidence (`ml.lead_ii_p_wave.inverted_p_waves`). A strip another rhythm
    for its rate alone says so too: "fast (median rate 104 bpm)" alone gave a 12-lead ectopic
    atrial tachycardia no reason it was not sinus tachycardia, which such a strip with upright
    P waves reads."""
    if not inverted_p_waves(p_wave_in_lead_ii, intervals):
        return call
    if call.label != SINUS and not _other_for_its_rate_alone(call):
        return call
    if "log_rate_bpm" not in call.features:
        return call
    rate = median_rate(float(np.exp(call.features["log_rate_bpm"])))
    said = call.reason if call.label == OTHER and call.reason != MODEL_ALONE_REASON else rate
    return another_rhythm(call, f"{said}, {INVERTED_P_REASON}")


# What a strip called sinus rhythm says when no lead's median beat shows a P wave: the call
# stands (183 of the 242 cinc2017 strips called sinus without one are reference normal), but
# a doctor reading "Sinus rhythm" must know no P wave was found (a review: reference-AF strips
# A02807 and A07161 read "Sinus rhythm" with atrial ectopic beats, nothing said of it).
NO_P_WAVE_FOUND = (
    "no consistent P wave was found before the QRS in any lead: check the strip for a P wave "
    "before every QRS before signing sinus rhythm"
)


def sinus_without_a_p_wave_said(call: StripCall, intervals: Intervals) -> StripCall:
    """A sinus call whose median beats hold no P wave in any lead, saying so in its reason."""
    if call.label != SINUS or not intervals.lacks_p_wave_in_every_lead():
        return call
    return dataclasses.replace(call, reason=f"{call.reason}; {NO_P_WAVE_FOUND}")
