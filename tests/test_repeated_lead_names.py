"""Two leads of one name in a WFDB or EDF file are kept apart: "ECG" and "ECG (2)".

A bad-input audit uploaded an EDF+ with two channels labelled "ECG" (as Holter exports write
them): the read said "Beat types were read from leads ECG and ECG together", the chart's
`ecg.json` held one key for the two, and both strips drew the second channel, never the
first, the one analysed. "ECG II" beside "II", both lead II, and a WFDB header describing
two signals "II" did the same. Now the second is numbered in the read, the chart and the
PDFs alike (`ml.recording.distinct_lead_names`), as the CSV reader refuses such a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyedflib
import pytest

from ml.io import read_recording
from ml.recording import Recording, distinct_lead_names
from portal.ecg_data import window
from tests.support.ecg_files import synthetic, write_wfdb


def _edf(path: Path, labels: list[str], recording: Recording) -> Path:
    writer = pyedflib.EdfWriter(str(path), len(labels), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        writer.setSignalHeaders(
            [
                {
                    "label": label,
                    "dimension": "mV",
                    "sample_frequency": recording.fs_hz,
                    "physical_max": 5.0,
                    "physical_min": -5.0,
                    "digital_max": 32767,
                    "digital_min": -32768,
                }  # fmt: skip
                for label in labels
            ]
        )
        writer.writeSamples([recording.signal_mv[:, i] for i in range(len(labels))])
    finally:
        writer.close()
    return path


def test_a_name_given_twice_is_numbered_the_second_time() -> None:
    assert distinct_lead_names(["ECG", "ECG"]) == ("ECG", "ECG (2)")
    assert distinct_lead_names(["MLII", "II", "V5"]) == ("MLII", "II (2)", "V5")
    assert distinct_lead_names(["I", "II", "III"]) == ("I", "II", "III")


def test_a_lead_named_three_times_is_numbered_by_the_lead() -> None:
    """Numbered by the lead each names: two leads had both been "(2)"."""
    assert distinct_lead_names(["II", "ECG II", "Lead II"]) == ("II", "ECG II (2)", "Lead II (3)")
    assert distinct_lead_names(["ECG", "ECG", "ECG"]) == ("ECG", "ECG (2)", "ECG (3)")


@pytest.mark.parametrize(
    ("labels", "leads"),
    [(["ECG", "ECG"], ("ECG", "ECG (2)")), (["ECG II", "II"], ("II", "II (2)"))],
)
def test_an_edf_with_two_channels_of_one_name_shows_both(
    tmp_path: Path, labels: list[str], leads: tuple[str, ...]
) -> None:
    source = synthetic(20, 250, leads=("I", "II"))
    recording = read_recording(_edf(tmp_path / "holter.edf", labels, source))
    assert recording.lead_names == leads
    shown = window(recording, 0.0, 10.0)
    assert sorted(shown["leads"]) == sorted(leads) and shown["lead_order"] == list(leads)
    for k, lead in enumerate(leads):  # each strip draws its own channel
        drawn = np.array(shown["leads"][lead])
        assert np.allclose(drawn, source.signal_mv[: drawn.size, k], atol=0.002)


def test_a_wfdb_header_describing_two_signals_alike_shows_both(tmp_path: Path) -> None:
    files = write_wfdb(tmp_path, synthetic(20, 360, leads=("I", "II")))
    header = files[0].read_text().replace(" I\n", " II\n")
    files[0].write_text(header)
    assert read_recording(files).lead_names == ("II", "II (2)")


def test_a_wfdb_header_describing_three_signals_as_lead_ii_numbers_each(tmp_path: Path) -> None:
    files = write_wfdb(tmp_path, synthetic(20, 360, leads=("I", "II", "V5")))
    lines = files[0].read_text().splitlines()
    for k, description in enumerate(("II", "ECG II", "Lead II"), start=1):
        lines[k] = lines[k].rsplit(" ", 1)[0] + " " + description
    files[0].write_text("\n".join(lines) + "\n")
    assert read_recording(files).lead_names == ("II", "ECG II (2)", "Lead II (3)")
