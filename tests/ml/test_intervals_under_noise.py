"""A measurement's confidence accounts for the noise left on the median beat: noise added to
a clean strip never raises it (a noise audit, D14). MIT-BIH pieces with noise from the Noise
Stress Test Database's muscle record added at a given SNR (signal power: the median QRS
peak-to-peak squared over 8), skipped where those databases are absent."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml.analysis import analyze
from ml.recording import Recording
from ml.research.databases import data_root

MITDB = data_root() / "mitdb"
NSTDB = data_root() / "nstdb"
needs_data = pytest.mark.skipif(
    not (MITDB / "112.hea").is_file() or not (NSTDB / "ma.hea").is_file(),
    reason="mitdb or nstdb not found",
)


def _with_muscle_noise(
    name: str, start_s: float, seconds: float, noise_from_s: float, snr_db: float | None
) -> Recording:
    record = wfdb.rdrecord(str(MITDB / name))
    fs = float(record.fs)
    first, last = int(start_s * fs), int((start_s + seconds) * fs)
    signal_mv = record.p_signal[first:last].copy()
    if snr_db is not None:
        noise = wfdb.rdrecord(str(NSTDB / "ma")).p_signal
        noise = noise[int(noise_from_s * fs) : int(noise_from_s * fs) + last - first]
        beats = wfdb.rdann(str(MITDB / name), "atr").sample
        beats = beats[(beats >= first + 18) & (beats < last - 18)] - first
        for lead in range(signal_mv.shape[1]):
            qrs_mv = [np.ptp(signal_mv[b - 18 : b + 18, lead]) for b in beats]
            power = float(np.median(qrs_mv)) ** 2 / 8
            lead_noise = noise[:, lead] - noise[:, lead].mean()
            scale = np.sqrt(power / np.var(lead_noise) / 10 ** (snr_db / 10))
            signal_mv[:, lead] += scale * lead_noise
    return Recording(fs, tuple(record.sig_name), signal_mv, source_format="wfdb")


@needs_data
@pytest.mark.parametrize(
    ("start_s", "seconds", "snr_db"),
    [(237.4, 60, 18), (237.4, 60, 12), (121.7, 10, 12), (792.9, 10, 12)],
)
def test_muscle_noise_does_not_make_a_long_qt_of_high_confidence(
    start_s: float, seconds: float, snr_db: float
) -> None:
    """MIT-BIH 112, whose T wave descends slowly: muscle noise moved its T end by 30-90 ms,
    and the leads, which disagreed on it clean, agreed: "Long QT, QTc 479-497 ms" at high
    confidence on a strip of 100 % good quality, where the clean strip's QT was of low
    confidence (withheld) or a QTc of 452-460 ms. The medians of the even and of the odd
    beats measure such a QT apart: low confidence, the long QT withheld."""
    clean = analyze(_with_muscle_noise("112", start_s, seconds, 136.5, None))
    noisy = analyze(_with_muscle_noise("112", start_s, seconds, 136.5, snr_db))
    assert "LONG_QT" not in {f.code for f in clean.findings}
    assert "LONG_QT" not in {f.code for f in noisy.findings}
    assert noisy.intervals.confidence.get("qt") != "high"


@needs_data
@pytest.mark.parametrize("snr_db", [12, 6])
def test_muscle_noise_does_not_widen_a_qrs_of_high_confidence(snr_db: float) -> None:
    """MIT-BIH 122, 10 s from 1379.4 s, QRS 117 ms clean: muscle noise at 12 and 6 dB read
    "Wide QRS complex, QRS 133 ms" at high confidence on a strip of 100 % good quality. The
    medians of the even and of the odd beats read it 131 and 117 ms: low confidence, the
    wide QRS withheld."""
    clean = analyze(_with_muscle_noise("122", 1379.4, 10, 377.3, None))
    noisy = analyze(_with_muscle_noise("122", 1379.4, 10, 377.3, snr_db))
    assert clean.intervals.qrs_ms == pytest.approx(117, abs=3)
    assert clean.intervals.confidence["qrs"] == "high"
    assert "WIDE_QRS" not in {f.code for f in noisy.findings}
    assert noisy.intervals.confidence.get("qrs") != "high"
