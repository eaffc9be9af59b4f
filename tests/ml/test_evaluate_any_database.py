"""`python -m ml.evaluate` on any WFDB folder with beat annotations: other rates, no rhythm
labels (it says so instead of failing), real svdb/nstdb/qtdb records, and --cv-out-of-fold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import wfdb

from ml.classifier import read_card
from ml.research.databases import data_root
from ml.research.evaluate import main as evaluate_main
from ml.research.synthetic import BeatTruth, synthetic_recording
from tests.support.ecg_files import write_wfdb

DATA = data_root()


def _write_beats_only_record(folder: Path, fs_hz: float) -> int:
    """A synthetic two-lead record with 'N' beat annotations and no rhythm annotations."""
    truth = BeatTruth(hr_bpm=72)
    recording, onsets = synthetic_recording(
        truth, duration_s=120, fs_hz=fs_hz, leads=("II", "V1"), noise_mv=0.02, seed=3
    )
    r_peaks = onsets + round(0.46 * truth.qrs_ms / 1000 * fs_hz)
    write_wfdb(folder, recording, "synth")  # fs and leads from the recording
    wfdb.wrann("synth", "atr", r_peaks, np.array(["N"] * r_peaks.size), write_dir=str(folder))
    return int(r_peaks.size)


@pytest.mark.parametrize("fs_hz", [128.0, 500.0])
def test_a_folder_without_rhythm_annotations_is_scored_and_says_so(
    tmp_path: Path, fs_hz: float, capsys: pytest.CaptureFixture[str]
) -> None:
    beats = _write_beats_only_record(tmp_path, fs_hz)
    assert evaluate_main(["--data-dir", str(tmp_path), "--records", "all", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["records"] == ["synth"]
    assert summary["records_without_rhythm_annotations"] == ["synth"]
    assert set(summary["rhythm_labels_absent"]) >= {"AF", "VT", "SVT"}
    assert summary["per_record"]["synth"]["fs_hz"] == fs_hz
    assert summary["rpeaks"]["tp"] >= beats - 1 and summary["rpeaks"]["fp"] <= 1
    assert summary["beats"]["N"]["se"] > 0.98

    assert evaluate_main(["--data-dir", str(tmp_path), "--records", "all"]) == 0
    text = capsys.readouterr().out
    assert "No rhythm annotations in 1 of 1 records: rhythm is not scored there." in text


@pytest.mark.parametrize(
    ("database", "record"), [("svdb", "801"), ("nstdb", "118e12"), ("qtdb", "sel117")]
)
def test_real_databases_at_their_own_rates(
    database: str, record: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = DATA / database
    if not (folder / f"{record}.atr").is_file():
        pytest.skip(f"{record} not found in {folder}")
    assert evaluate_main(["--data-dir", str(folder), "--records", record, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["per_record"][record]["fs_hz"] == wfdb.rdheader(str(folder / record)).fs
    assert summary["rpeaks"]["se"] > 0.95
    assert summary["accuracy"] > 0.5


def test_unknown_records_are_refused_with_their_names(tmp_path: Path) -> None:
    _write_beats_only_record(tmp_path, 250.0)
    with pytest.raises(SystemExit, match="Records not found .*: nope"):
        evaluate_main(["--data-dir", str(tmp_path), "--records", "nope"])


def test_cv_out_of_fold_prints_the_cards_figures_per_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert evaluate_main(["--cv-out-of-fold", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == read_card().get("out_of_fold", {})
    assert evaluate_main(["--cv-out-of-fold"]) == 0
    text = capsys.readouterr().out
    for per_database in printed.values():
        for database, m in per_database.items():
            assert f"{database:<8}{100 * m['accuracy']:7.1f}" in text


@pytest.mark.skipif(not (DATA / "cinc2017" / "A00001.hea").is_file(), reason="no cinc2017")
def test_a_reference_list_naming_absent_records_is_read_and_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Records a REFERENCE.csv lists but the folder lacks had crashed the command
    (FileNotFoundError); they are counted as not read, by name, and a missing list is named."""
    for suffix in (".hea", ".mat"):
        (tmp_path / f"A00001{suffix}").write_bytes(
            (DATA / "cinc2017" / f"A00001{suffix}").read_bytes()
        )
    reference = tmp_path / "REFERENCE.csv"
    reference.write_text("A00001,N\nA99999,A\n")
    assert (
        evaluate_main(["--data-dir", str(tmp_path), "--reference", str(reference), "--json"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["n_recordings"] == 2
    assert result["refused"] == {"A99999": f"A99999.hea not found in {tmp_path}"}
    assert result["calls"]["AF"]["Refused by the reader"] == 1
    with pytest.raises(SystemExit, match="No reference file .*MISSING.csv"):
        evaluate_main(["--data-dir", str(tmp_path), "--reference", str(tmp_path / "MISSING.csv")])
    with pytest.raises(SystemExit, match="None of the 2 records REFERENCE.csv lists is in"):
        evaluate_main(["--data-dir", str(tmp_path / "empty"), "--reference", str(reference)])
