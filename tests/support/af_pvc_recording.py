"""A synthetic 2-lead recording with atrial fibrillation, PVCs and a first-degree AV block,
built wave by wave by the project's generators (`ml.research.synthetic`): the walkthrough's
machine read (tests/test_browser_walkthrough.py) and the "Next finding" stops'
(tests/test_finding_stops.py, tests/test_browser.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ml.recording import Recording
from ml.research.synthetic import BeatTruth, synthetic_rhythm_mv

FS_HZ = 360.0
SINUS_S, AF_S = 50.0, 30.0  # sinus rhythm with PVCs, then atrial fibrillation
SINUS_BPM, PR_MS = 70.0, 260.0  # a first-degree AV block: PR over 200 ms
PVC_EVERY = 8  # every 8th sinus beat is replaced by a premature ventricular beat
COUPLET_AT = 31  # with a couplet: the 4th PVC is followed 0.5 s later by a second one
SEED = 5


def af_pvc_av_block_recording(
    qt_ms: float | None = None, couplet: bool = False
) -> tuple[Recording, np.ndarray]:
    """80 s of leads II and V1 at 360 Hz and the true PVC onsets (s): 50 s of sinus rhythm at
    70 bpm with PR 260 ms (and QT `qt_ms`, else the generator's) in which a wide premature
    ventricular beat (no P wave, discordant T, full compensatory pause) replaces every 8th
    sinus beat (with `couplet`, one of them followed 0.5 s later by a second), then 30 s of
    atrial fibrillation (irregular RR 0.45-1.0 s, no P waves, fibrillatory waves)."""
    rng = np.random.default_rng(SEED)
    rr_s = 60.0 / SINUS_BPM
    beats_s = np.arange(0.5, SINUS_S, rr_s)
    ectopic = np.arange(beats_s.size) % PVC_EVERY == PVC_EVERY - 1
    onsets_s = beats_s.copy()
    if couplet:
        ectopic[COUPLET_AT + 1] = True  # the sinus beat after the couplet is skipped too
        onsets_s[COUPLET_AT + 1] = beats_s[COUPLET_AT] + 0.5
    pvc_s = onsets_s[ectopic] - 0.4 * rr_s  # premature; the sinus beat it replaces is skipped
    af_beats_s = SINUS_S + np.cumsum(rng.uniform(0.45, 1.0, 100))
    af_beats_s = af_beats_s[af_beats_s < SINUS_S + AF_S - 0.5]
    duration_s = SINUS_S + AF_S
    fibrillation_mv = np.concatenate(  # fibrillatory waves in the AF stretch only
        [
            np.zeros(int(SINUS_S * FS_HZ)),
            synthetic_rhythm_mv(
                np.array([]), duration_s=AF_S, fs_hz=FS_HZ, p_waves=False,
                fibrillation_mv=0.08, noise_mv=0.0, seed=SEED + 2,
            ),
        ]
    )  # fmt: skip
    sinus_qt: dict[str, Any] = {} if qt_ms is None else {"qt_ms": qt_ms}
    leads = []
    for qrs_gain, p_mv in ((1.0, 0.15), (-0.6, 0.1)):  # II upright; V1 mostly negative
        sinus = BeatTruth(hr_bpm=SINUS_BPM, pr_ms=PR_MS, r_mv=1.2 * qrs_gain, p_mv=p_mv, **sinus_qt)
        pvc = BeatTruth(qrs_ms=160, qt_ms=440, t_duration_ms=220, r_mv=-1.4 * np.sign(qrs_gain),
                        t_mv=0.4 * np.sign(qrs_gain), p_mv=0.0)  # fmt: skip
        lead_mv = synthetic_rhythm_mv(
            beats_s[~ectopic], duration_s=duration_s, fs_hz=FS_HZ, truth=sinus, seed=SEED
        )
        lead_mv += synthetic_rhythm_mv(pvc_s, duration_s=duration_s, fs_hz=FS_HZ, truth=pvc,
                                       p_waves=False, noise_mv=0.0)  # fmt: skip
        lead_mv += synthetic_rhythm_mv(af_beats_s, duration_s=duration_s, fs_hz=FS_HZ,
                                       truth=sinus, p_waves=False, noise_mv=0.0)  # fmt: skip
        leads.append(lead_mv + fibrillation_mv)
    recording = Recording(
        fs_hz=FS_HZ, lead_names=("II", "V1"), signal_mv=np.column_stack(leads),
        source_format="synthetic",
    )  # fmt: skip
    return recording, np.sort(pvc_s)
