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
from ml.research.aami import score_rpeaks
from ml.research.databases import data_root, load_record
from ml.research.synthetic import BeatTruth, synthetic_recording
from ml.rpeaks import TWO_LEAD, detect_r_peaks, detect_r_peaks_two_leads
from ml.training.reports import (
    ds2_at_reference_peaks,
    flagged_share,
    noise_present,
    resampling_table,
)

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


def _noisy_time_flagged(name: str) -> float:
    clean = load_record(DATA / "mitdb", name[:3])
    noisy = load_record(DATA / "nstdb", name)
    present = noise_present(noisy.signal_mv, clean.signal_mv, clean.fs_hz)
    quality = segment_quality(
        noisy.signal_mv, noisy.fs_hz, detect_r_peaks(noisy.signal_mv, noisy.fs_hz)
    )
    share = flagged_share(quality, present, clean.fs_hz)
    assert share is not None
    return share


@needs_nstdb
@pytest.mark.parametrize("name", ["118e00", "118e_6", "119e00", "119e_6"])
def test_signal_quality_flags_the_0_and_minus_6_db_stretches(name: str) -> None:
    assert _noisy_time_flagged(name) >= 0.9


@needs_mitdb
@pytest.mark.parametrize("name", ["118", "119"])
def test_signal_quality_leaves_the_clean_records_good(name: str) -> None:
    rec = load_record(DATA / "mitdb", name)
    quality = segment_quality(rec.signal_mv, rec.fs_hz, detect_r_peaks(rec.signal_mv, rec.fs_hz))
    flagged = sum(s.level != "good" for s in quality)
    assert flagged <= 0.02 * len(quality)


@needs_nstdb
def test_segments_judged_together_give_each_segments_own_figures() -> None:
    """Quality figures are computed for all segments at once (a 24-hour recording has 8,640
    per lead): on a noisy record, beat mismatch and the per-segment statistics equal those
    of each segment on its own, figure for figure."""
    from ml.filters import bandpass_mv
    from ml.quality import _per_segment, beat_mismatch, segment_bounds, segment_mismatches

    noisy = load_record(DATA / "nstdb", "118e00")
    lead, fs = noisy.signal_mv, noisy.fs_hz  # MLII
    peaks = detect_r_peaks(lead, fs)
    bounds = segment_bounds(lead.size, fs)  # the last one is longer than the rest
    band = bandpass_mv(lead, fs)
    alone = [beat_mismatch(band, fs, peaks[(peaks >= a) & (peaks < b)]) for a, b in bounds]
    assert segment_mismatches(band, fs, peaks, bounds) == alone
    assert sum(m is not None and m > 0.6 for m in alone) > 20  # noisy segments among them
    together = _per_segment(lead, bounds, lambda x: np.std(x, axis=1))
    assert together.tolist() == [float(np.std(lead[a:b])) for a, b in bounds]


def _two_lead_strip(extra_s: list[float], premature_s: float | None) -> tuple[np.ndarray, list]:
    """60 s of sinus rhythm at 60 bpm in leads II and V1; QRS-like bursts at `extra_s` in II
    only (noise), and optionally one premature beat in II only, followed by a full pause."""
    fs = 360.0
    recording, onsets = synthetic_recording(
        BeatTruth(hr_bpm=60), duration_s=60, fs_hz=fs, leads=("II", "V1"), noise_mv=0.01
    )
    signal = recording.signal_mv.copy()
    beats = [int(o + 0.04 * fs) for o in onsets]
    t_s = np.arange(signal.shape[0]) / fs
    for when_s in extra_s:
        signal[:, 0] += 0.9 * np.exp(-0.5 * ((t_s - when_s) / 0.012) ** 2)
    if premature_s is not None:  # an ectopic beat seen in II alone; the next sinus beat drops
        dropped = int(np.argmin(np.abs(np.asarray(beats) / fs - (premature_s + 0.4))))
        gone = slice(beats[dropped] - int(0.1 * fs), beats[dropped] + int(0.1 * fs))
        signal[gone] = signal[gone.start]  # the sinus beat is not conducted: no QRS
        signal[:, 0] += -1.3 * np.exp(-0.5 * ((t_s - premature_s) / 0.03) ** 2)
        beats[dropped] = int(premature_s * fs)
    return signal, sorted(beats)


def test_a_second_lead_removes_noise_bursts_but_keeps_a_premature_beat() -> None:
    fs = 360.0
    noise_s = [13.0, 21.0, 31.05, 42.0, 51.0]  # mid-cycle: the beats fall at 0.54 s past
    signal, beats = _two_lead_strip(noise_s, premature_s=35.15)
    single = detect_r_peaks(signal[:, 0], fs)
    assert score_rpeaks(np.array(beats), single, fs)["fp"] >= len(noise_s) - 1  # the premise
    both = detect_r_peaks_two_leads(signal[:, 0], signal[:, 1], fs)
    score = score_rpeaks(np.array(beats), both, fs)
    assert score["fp"] == 0 and score["fn"] == 0
    # Without a second lead the detector is the single-lead one.
    np.testing.assert_array_equal(detect_r_peaks_two_leads(signal[:, 0], None, fs), single)


@needs_nstdb
@pytest.mark.parametrize("name", ["118e12", "119e12"])
def test_r_peaks_at_12_db_with_two_leads(name: str) -> None:
    rec = load_record(DATA / "nstdb", name)
    peaks = detect_r_peaks_two_leads(rec.leads_mv[:, 0], rec.leads_mv[:, 1], rec.fs_hz)
    score = score_rpeaks(rec.beat_samples, peaks, rec.fs_hz)
    assert score["se"] >= 0.99 and score["ppv"] >= 0.985


def test_the_two_lead_check_gives_back_full_size_beats_in_long_gaps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MIT-BIH 208: V1 sees some of MLII's beats 200 ms off, and with frequent PVCs the gap
    they sit in looked too short to hold a beat; removed, each read as a dropped beat."""
    rec = load_record(DATA / "mitdb", "208")
    fs = rec.fs_hz
    missed_at_s = [92.03, 1217.48, 1262.73, 1329.19, 1330.83]  # reference beats

    def found(peaks: np.ndarray) -> list[bool]:
        return [bool(np.any(np.abs(peaks / fs - t) < 0.05)) for t in missed_at_s]

    peaks = detect_r_peaks_two_leads(rec.leads_mv[:, 0], rec.leads_mv[:, 1], fs)
    assert found(peaks) == [True, False, True, True, True]  # 1217.48: MLII never saw it
    score = score_rpeaks(rec.beat_samples, peaks, fs)
    monkeypatch.setitem(TWO_LEAD, "restore_removed", 0.0)
    before = detect_r_peaks_two_leads(rec.leads_mv[:, 0], rec.leads_mv[:, 1], fs)
    assert not any(found(before))  # the premise
    assert score["fn"] <= score_rpeaks(rec.beat_samples, before, fs)["fn"] - 30  # 49 -> 19
    assert score["fp"] <= score_rpeaks(rec.beat_samples, before, fs)["fp"]
