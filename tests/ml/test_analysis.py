"""The whole machine read, with the shipped model, on synthetic and real MIT-BIH recordings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ml import rhythm
from ml.analysis import analyze
from ml.cli import analyze_command
from ml.io import read_recording
from ml.recording import Recording
from ml.research.databases import default_data_dir
from ml.research.evaluate import main as evaluate_main
from ml.research.synthetic import BeatTruth, synthetic_recording
from tests.support.ecg_files import write_csv

MITDB = default_data_dir()


def _mitdb(name: str) -> Recording:
    return read_recording([MITDB / f"{name}.hea", MITDB / f"{name}.dat"])


def test_synthetic_twelve_lead_normal_ecg() -> None:
    truth = BeatTruth(hr_bpm=72, pr_ms=160, qrs_ms=90, qt_ms=380, axis_deg=50)
    recording, onsets = synthetic_recording(truth, duration_s=60, fs_hz=500)
    result = analyze(recording)
    assert result.analysis_lead == "II"
    assert len(result.beats.samples) == len(onsets)
    assert result.heart_rate.mean_bpm == pytest.approx(72, abs=1)
    assert result.intervals.qrs_ms == pytest.approx(90, abs=10)
    assert result.intervals.pr_ms == pytest.approx(160, abs=10)
    assert result.intervals.qrs_axis_deg == pytest.approx(50, abs=10)
    assert result.rhythm_summary == rhythm.SINUS
    assert result.main_finding.risk == "low"
    document = json.loads(json.dumps(result.to_dict()))
    assert document["beats"]["class"].count("N") >= len(onsets) - 2
    assert len(document["beats"]["sample"]) == len(onsets)
    assert document["model_version"].startswith("beat-cnn")


def test_mitdb_record_100_end_to_end() -> None:
    result = analyze(_mitdb("100"))
    assert result.analysis_lead == "MLII"
    assert 2260 <= len(result.beats.samples) <= 2285  # the reference has 2273 beats
    assert result.heart_rate.mean_bpm == pytest.approx(75.5, abs=2)
    assert result.rhythm_summary == rhythm.SINUS
    assert result.beat_counts["V"] <= 5  # the reference has 1 V beat
    assert result.good_quality_fraction > 0.95
    assert result.intervals.qrs_ms is not None and 60 <= result.intervals.qrs_ms <= 110


def test_atrial_fibrillation_record_203() -> None:
    result = analyze(_mitdb("203"))  # a DS1 record: AF and flutter nearly throughout
    af = [e for e in result.episodes if e.label == rhythm.AF]
    assert sum(e.duration_s for e in af) > 0.8 * result.duration_s
    assert any(f.code == "AF" and f.risk == "high" for f in result.findings)


def test_lead_choice_without_lead_ii() -> None:
    recording = _mitdb("102")  # paced record with leads V5 and V2 only
    result = analyze(
        Recording(
            recording.fs_hz, recording.lead_names, recording.signal_mv[: int(120 * recording.fs_hz)]
        )
    )
    assert "no usable lead II" in result.analysis_lead_reason
    assert result.analysis_lead in recording.lead_names


def test_cli_summary_json_and_clear_errors(tmp_path: Path) -> None:
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=65), duration_s=30, fs_hz=250, leads=("I", "II", "III")
    )
    csv_path = write_csv(tmp_path / "ecg.csv", recording)
    runner = CliRunner()
    text = runner.invoke(analyze_command, [str(csv_path)])
    assert text.exit_code == 0, text.output
    assert "Heart rate: mean 65 bpm" in text.output and "Main finding:" in text.output
    # A 30-s strip gets one rhythm call, with what it rests on; HRV is not claimed from it.
    assert "Whole-strip rhythm call: Sinus rhythm (" in text.output
    assert "HRV needs a recording of about 5 minutes" in text.output
    as_json = runner.invoke(analyze_command, [str(csv_path), "--json"])
    document = json.loads(as_json.stdout)
    assert document["heart_rate"]["mean_bpm"] == pytest.approx(65, abs=1)
    bad = tmp_path / "short.csv"
    write_csv(bad, Recording(250, ("II",), recording.signal_mv[:1000, 1:2]))
    failed = runner.invoke(analyze_command, [str(bad)])
    assert failed.exit_code == 1
    assert "lasts 4.0 s (1,000 samples at 250 Hz); at least 8 s are needed" in failed.output
    assert "Traceback" not in failed.output
    folder = runner.invoke(analyze_command, [str(tmp_path)])  # had raised IsADirectoryError
    assert folder.exit_code == 2 and "is a directory" in folder.output
    assert "Traceback" not in folder.output


def test_evaluate_json_interface(capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate_main(["--data-dir", str(MITDB), "--records", "100,119", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["records"] == ["100", "119"]
    assert set(summary["beats"]) == {"N", "S", "V", "F"}
    for row in summary["beats"].values():
        assert set(row) == {"se", "ppv", "f1", "support"}
    assert 0.9 < summary["accuracy"] <= 1.0
    assert summary["rpeaks"]["se"] > 0.99 and summary["rpeaks"]["ppv"] > 0.99
    assert summary["beats"]["V"]["support"] == 1 + 444  # 100 has 1 V beat, 119 has 444
    assert "bigeminy" in summary["rhythm"]
    confusion = np.array(summary["confusion"]["rows_reference_cols_predicted"])
    assert confusion.shape == (5, 5)
