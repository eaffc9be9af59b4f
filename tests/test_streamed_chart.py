"""A long recording's chart, FHIR waveform and PDF strips read from its file, not from memory
(portal/streamed_signal.py): on a 1.5-hour record (MIT-BIH records end to end, written to a
temporary folder) every figure equals the whole-record path's, and the streamed recording
holds no sample array."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import Beats, analyze
from ml.io import read_recording
from ml.io.sources import open_recording
from ml.recording import Recording
from ml.research.databases import default_data_dir
from ml.research.holter import mitdb_end_to_end
from ml.research.synthetic import BeatTruth, synthetic_recording
from portal import ecg_data
from portal.streamed_signal import StreamedLead, StreamedSignal
from reports.paper import trace_points

MITDB = default_data_dir()
pytestmark = pytest.mark.skipif(
    not (MITDB / "100.hea").exists(), reason="MIT-BIH not available locally"
)


@pytest.fixture(scope="module")
def long_record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mitdb_end_to_end(MITDB, tmp_path_factory.mktemp("long"), 1.5, ("100", "208"))


def streamed(header: Path) -> Recording:
    source = open_recording([header])
    assert not isinstance(source, Recording)  # over an hour: left in the file
    return Recording(fs_hz=source.fs_hz, lead_names=source.lead_names,
                     signal_mv=StreamedSignal(source),  # type: ignore[arg-type]
                     source_format=source.source_format)  # fmt: skip


def test_the_chart_of_a_streamed_recording_equals_the_whole_one(long_record: Path) -> None:
    whole = read_recording([long_record])
    lazy = streamed(long_record)
    assert lazy.n_samples == whole.n_samples and lazy.duration_s == whole.duration_s
    assert ecg_data.overview(lazy, 0) == ecg_data.overview(whole, 0)
    for start_s in (0.0, 1799.5, 5390.0):  # the start, across a record's join, the end
        assert ecg_data.window(lazy, start_s, start_s + 60) == ecg_data.window(
            whole, start_s, start_s + 60
        )
    first, last = 360 * 3000, 360 * 3010  # the FHIR waveform's slice
    np.testing.assert_array_equal(lazy.signal_mv[first:last, 1], whole.signal_mv[first:last, 1])
    lead = lazy.signal_mv[:, 0]  # the PDF strips' one-lead view, read by stretches
    assert isinstance(lead, StreamedLead) and len(lead) == whole.n_samples
    for got, expected in zip(
        trace_points(lead, 360.0, 4000.0, 10.0),  # type: ignore[arg-type]
        trace_points(whole.signal_mv[:, 0], 360.0, 4000.0, 10.0),
        strict=True,
    ):
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(TypeError):
        lazy.signal_mv[np.arange(3)]  # fancy indexing would mean reading it all: refused


def test_the_heart_rate_trend_counts_what_the_rate_counts() -> None:
    """A 24-h trend ran 22-200 bpm beside a read of 32-175 (it counted every interval, VF
    waves and unclassified noise among them; a Holter audit). Counted now: intervals between
    classified beats, 0.25-2.5 s apart or a pause the read found, outside fibrillation."""
    read = analyze(synthetic_recording(BeatTruth(hr_bpm=60), duration_s=20, leads=("II",))[0])
    fs = read.fs_hz
    beat_s = np.array([1.0, 2.0, 3.0, 3.1, 3.2, 4.0, 5.0, 8.0, 9.0, 10.0, 11.0, 12.0])
    classes = np.array(list("NNNQQNNNNNNN"))
    beats = Beats((beat_s * fs).astype(np.int64), classes, np.ones(len(classes)))
    episodes = [rhythm.Episode(rhythm.PAUSE, 5.0, 8.0, 2), rhythm.Episode(rhythm.VF, 9.6, 11.4, 0)]
    trend = ecg_data.heart_rate_trend(dataclasses.replace(read, beats=beats, episodes=episodes))
    assert trend["t_s"] == [5.0, 15.0]
    # Up to 10 s: four 1-s intervals and the 3-s pause, 7 s in all, not the noise 0.1 s apart;
    # then 11-12 s, the fibrillation between left out.
    assert trend["bpm"] == [round(60 / 1.4, 1), 60.0]
