"""What the classifier must handle beyond MIT-BIH at 360 Hz: other sampling rates, a second
lead, and noise that signal quality must flag (real model, real records)."""

from __future__ import annotations

import numpy as np
import pytest

from ml.analysis import analyze, companion_lead
from ml.classifier import BeatClassifier
from ml.features import beat_inputs
from ml.io import read_recording
from ml.quality import segment_quality
from ml.recording import Recording
from ml.research.databases import data_root, load_record
from ml.rpeaks import detect_r_peaks
from ml.training.reports import ds2_at_reference_peaks, noise_present, resampling_table

DATA = data_root()
needs_mitdb = pytest.mark.skipif(
    not (DATA / "mitdb" / "100.hea").is_file(), reason=f"MIT-BIH not found in {DATA}"
)
needs_nstdb = pytest.mark.skipif(
    not (DATA / "nstdb" / "118e00.hea").is_file(), reason=f"nstdb not found in {DATA}"
)
# DS2 records rich in S (232), V (200) and both with fusion beats (213).
RESAMPLING_RECORDS = ("200", "213", "232")


@pytest.fixture(scope="module")
def classifier() -> BeatClassifier:
    return BeatClassifier.load()


@needs_mitdb
def test_resampled_ds2_records_classify_like_their_native_twins(
    classifier: BeatClassifier,
) -> None:
    ds2 = ds2_at_reference_peaks(
        classifier, DATA / "mitdb", (None, 128, 250, 500), RESAMPLING_RECORDS
    )
    table = resampling_table(ds2)
    assert [r["rate"] for r in table] == ["native", "128 Hz", "250 Hz", "500 Hz"]
    for row in table[1:]:
        assert abs(row["accuracy_change"]) <= 0.01, row
        assert abs(row["S_se_change"]) <= 0.03, row
        assert abs(row["V_se_change"]) <= 0.03, row


@needs_mitdb
def test_two_leads_are_combined_as_the_card_says(classifier: BeatClassifier) -> None:
    rec = load_record(DATA / "mitdb", "119")
    minute = slice(0, 60 * 360)
    peaks = rec.beat_samples[rec.beat_samples < 60 * 360]
    per_lead = [beat_inputs(rec.leads_mv[minute, i], rec.fs_hz, peaks) for i in (0, 1)]
    first, second = (classifier.predict_proba(inputs) for inputs in per_lead)
    mean_model = BeatClassifier.load()
    mean_model.lead_combination_ = "mean"
    np.testing.assert_allclose(mean_model.predict_proba_leads(per_lead), (first + second) / 2)
    primary_model = BeatClassifier.load()
    primary_model.lead_combination_ = "primary"
    np.testing.assert_allclose(primary_model.predict_proba_leads(per_lead), first)
    # One lead only: the same probabilities, whatever the combination.
    np.testing.assert_allclose(mean_model.predict_proba_leads(per_lead[:1]), first)


@needs_mitdb
def test_analysis_reads_beats_from_both_leads_when_two_are_present() -> None:
    recording = read_recording([DATA / "mitdb" / "119.hea", DATA / "mitdb" / "119.dat"])
    short = Recording(
        recording.fs_hz,
        recording.lead_names,
        recording.signal_mv[: 120 * 360],
        source_format=recording.source_format,
    )
    mean_model = BeatClassifier.load()
    mean_model.lead_combination_ = "mean"
    two = analyze(short, mean_model)
    assert two.classification_leads == ("MLII", "V1")
    assert "Beat types were read from leads MLII and V1 together." in two.notes
    assert two.to_dict()["classification_leads"] == ["MLII", "V1"]

    primary_model = BeatClassifier.load()
    primary_model.lead_combination_ = "primary"
    one = analyze(short, primary_model)
    assert one.classification_leads == ("MLII",)
    single = Recording(short.fs_hz, ("MLII",), short.signal_mv[:, :1], source_format="test")
    assert analyze(single, mean_model).classification_leads == ("MLII",)


def test_the_companion_lead_prefers_v1() -> None:
    signal = np.random.default_rng(0).normal(0, 0.5, (5000, 4))
    twelve = Recording(500.0, ("I", "II", "V1", "V5"), signal, source_format="test")
    assert companion_lead(twelve, 1) == 2
    holter = Recording(500.0, ("ECG1", "ECG2"), signal[:, :2], source_format="test")
    assert companion_lead(holter, 0) == 1
    assert companion_lead(Recording(500.0, ("II",), signal[:, :1], source_format="t"), 0) is None


def _flagged_share(name: str) -> float:
    clean = load_record(DATA / "mitdb", name[:3])
    noisy = load_record(DATA / "nstdb", name)
    present = noise_present(noisy.signal_mv, clean.signal_mv, clean.fs_hz)
    quality = segment_quality(
        noisy.signal_mv, noisy.fs_hz, detect_r_peaks(noisy.signal_mv, noisy.fs_hz)
    )
    t_s = np.flatnonzero(present) / clean.fs_hz
    flagged = np.zeros(t_s.size, dtype=bool)
    for segment in quality:
        if segment.level != "good":
            flagged |= (t_s >= segment.start_s) & (t_s < segment.end_s)
    return float(flagged.mean())


@needs_nstdb
@pytest.mark.parametrize("name", ["118e00", "118e_6", "119e00", "119e_6"])
def test_signal_quality_flags_the_0_and_minus_6_db_stretches(name: str) -> None:
    assert _flagged_share(name) >= 0.9


@needs_mitdb
@pytest.mark.parametrize("name", ["118", "119"])
def test_signal_quality_leaves_the_clean_records_good(name: str) -> None:
    rec = load_record(DATA / "mitdb", name)
    quality = segment_quality(rec.signal_mv, rec.fs_hz, detect_r_peaks(rec.signal_mv, rec.fs_hz))
    flagged = sum(s.level != "good" for s in quality)
    assert flagged <= 0.02 * len(quality)
