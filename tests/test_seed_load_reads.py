"""The seeded machine reads (`cardio seed-load`) follow the engine's HRV limits, so a load test's
reports never show an SDNN the engine itself would withhold."""

from __future__ import annotations

import numpy as np
import pytest

from ml.hrv import NO_SINUS_REASON
from portal.seed_load import SHAPES, _beat_times_s, _machine_read

HOLTER = SHAPES[2]


@pytest.mark.parametrize("scenario", HOLTER.scenarios)
def test_seeded_hrv_is_given_only_where_the_engine_would(scenario: str) -> None:
    rng = np.random.default_rng(3)
    times_s, classes = _beat_times_s(scenario, 600.0, rng)
    heart_rate = _machine_read(HOLTER, scenario, times_s, classes, rng).heart_rate
    ectopic_share = float(np.mean(classes != "N"))
    if scenario == "af":
        assert heart_rate.sdnn_ms is None and heart_rate.hrv_reason == NO_SINUS_REASON
    elif ectopic_share > 0.12:  # about a quarter of the intervals touch an ectopic beat
        assert heart_rate.sdnn_ms is None
        assert heart_rate.hrv_reason is not None and "frequent ectopic" in heart_rate.hrv_reason
    else:
        assert heart_rate.hrv_reason is None
        assert heart_rate.sdnn_ms is not None and 5 < heart_rate.sdnn_ms < 200
        assert heart_rate.rmssd_ms is not None and heart_rate.pnn50 is not None
