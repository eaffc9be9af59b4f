"""Left and right arm electrodes swapped on a 12-lead ECG (`ml.lead_reversal`): the read says
so and gives no QRS axis, where it read a false extreme right axis; a true right axis
deviation keeps its axis."""

from pathlib import Path

import numpy as np

from ml.analysis import analyze, machine_notes
from ml.io import read_recording
from ml.recording import Recording, canonical_lead_name
from ml.research.synthetic import BeatTruth, beats_in_leads_mv, synthetic_recording
from tests.support.ecg_files import write_csv, write_edf

TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def _arms_swapped(recording: Recording) -> Recording:
    """What the recorder writes with the arm electrodes reversed: I inverted, II <-> III and
    aVR <-> aVL, aVF and the chest leads as they were."""
    column = {name: i for i, name in enumerate(recording.lead_names)}
    signal = recording.signal_mv.copy()
    signal[:, column["I"]] = -recording.signal_mv[:, column["I"]]
    for a, b in (("II", "III"), ("aVR", "aVL")):
        signal[:, column[a]] = recording.signal_mv[:, column[b]]
        signal[:, column[b]] = recording.signal_mv[:, column[a]]
    return Recording(
        fs_hz=recording.fs_hz, lead_names=recording.lead_names, signal_mv=signal, source_format="t"
    )


def test_swapped_arm_electrodes_give_no_axis_and_say_why():
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=72, axis_deg=50), duration_s=10.0)
    assert abs(analyze(recording).intervals.qrs_axis_deg - 50) < 10
    swapped = analyze(_arms_swapped(recording))
    assert swapped.intervals.qrs_axis_deg is None
    reason = swapped.intervals.not_measurable["axis"]
    assert "arm electrodes look swapped" in reason and "dextrocardia" in reason
    assert f"QRS axis not measurable: {reason}." in machine_notes(swapped)
    # The intervals themselves do not depend on which arm is which.
    assert swapped.intervals.qrs_ms is not None and swapped.intervals.pr_ms is not None
    # No "normal" read without the advice beside it (it read "Normal ECG", routine).
    (normal,) = swapped.findings
    assert normal.code == "NORMAL" and "arm electrodes look swapped" in normal.detail


def test_edf_lead_labels_with_device_prefixes_are_the_standard_leads(tmp_path):
    """EDF channels labelled "EKG I" ... "EKG V6" were unknown leads: no lead II, no axis, and
    arm electrodes swapped went unnoticed ("ECG I" ... read them)."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=72, axis_deg=50), duration_s=10.0)
    swapped = _arms_swapped(recording)
    labelled = Recording(
        fs_hz=swapped.fs_hz,
        lead_names=tuple(f"EKG {name}" for name in swapped.lead_names),
        signal_mv=swapped.signal_mv,
        source_format="t",
    )
    edf = read_recording(write_edf(tmp_path / "ekg.edf", labelled))
    assert edf.lead_names == TWELVE
    analysis = analyze(edf)
    assert analysis.intervals.not_measurable["axis"].startswith("the left and right arm")
    assert analysis.analysis_lead == "II"
    assert [canonical_lead_name(n) for n in ("ECG MLII", "ECG Lead II", "EKG_aVR")] == [
        "II",
        "II",
        "aVR",
    ]
    assert canonical_lead_name("ECG1") == "ECG1"  # no lead named: unchanged


def test_derivation_and_ieee_lead_names_are_the_standard_leads(tmp_path):
    """A CSV with leads DI, DII, DIII (Brazilian and Iberian ECGs) or MDC_ECG_LEAD_I ... (IEEE
    11073, the portal's own FHIR codes) read "no usable lead II": no axis, no 12-lead sheet,
    no check of the electrodes (an audit of the 12-lead path)."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=70, axis_deg=40), duration_s=10.0)
    derivations = ("DI", "DII", "DIII", *TWELVE[3:])
    ieee = tuple(f"MDC_ECG_LEAD_{name.upper()}" for name in TWELVE)
    for names in (derivations, ieee):
        _read_as_the_twelve_leads(recording, names, tmp_path / f"{names[0]}.csv")
    assert canonical_lead_name("D3") == "D3"  # the QT Database's Holter lead: not lead III


def _read_as_the_twelve_leads(recording: Recording, names: tuple[str, ...], path: Path) -> None:
    """A 12-lead (axis +40) labelled `names`, written as CSV, reads as the standard twelve
    leads: analysed on lead II, its axis measured."""
    labelled = Recording(recording.fs_hz, names, recording.signal_mv, source_format="t")
    read = read_recording(write_csv(path, labelled))
    assert read.lead_names == TWELVE
    analysis = analyze(read)
    assert analysis.analysis_lead == "II"
    axis = analysis.intervals.qrs_axis_deg
    assert axis is not None and abs(axis - 40) < 10


def test_lead_names_in_other_languages_are_the_standard_leads(tmp_path):
    """A German 12-lead EDF labelled "Ableitung I" ... "Ableitung V6" read "no usable lead
    II" and no axis ("this recording has Ableitung I, Ableitung II, ..."), as did leads named
    "Abl. II", "Derivación II", "Dérivation II" (an upload audit)."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=70, axis_deg=40), duration_s=10.0)
    german = tuple(f"Ableitung {name}" for name in TWELVE)
    abbreviated = ("Lead I", "ECG Lead II", "Lead III", *(f"Abl. {name}" for name in TWELVE[3:]))
    for names in (german, abbreviated):
        _read_as_the_twelve_leads(recording, names, tmp_path / f"{names[1]}.csv")
    labelled = Recording(recording.fs_hz, german, recording.signal_mv, source_format="t")
    edf = write_edf(tmp_path / "ekg.edf", labelled, label_prefix="")  # "Ableitung I" ...
    assert read_recording(edf).lead_names == TWELVE
    spoken = ("Derivación II", "Dérivation II", "Derivação aVF", "Derivazione V1", "Abl II")
    assert [canonical_lead_name(n) for n in spoken] == ["II", "II", "aVF", "V1", "II"]
    # A number is a channel, not a limb lead: a Holter's "ECG2" or "Lead 2" is its second
    # channel (a review: MIT-BIH 118's MLII and V1 labelled "Lead 1", "Lead 2" had been read
    # as leads I and II, "Right axis deviation: QRS axis -166°").
    channels = ("ECG2", "ECG 2", "Lead 1", "Lead 2", "ECG Lead 2", "Ableitung 3", "Lead 4")
    assert [canonical_lead_name(n) for n in channels] == list(channels)
    holter = Recording(recording.fs_hz, ("Lead 1", "Lead 2"), recording.signal_mv[:, :2], "t")
    assert analyze(holter).intervals.qrs_axis_deg is None


def test_right_axis_deviation_with_upright_p_waves_in_lead_i_keeps_its_axis():
    fs_hz, onsets_s = 500.0, np.arange(0.5, 9.5, 0.8)
    ventricles = BeatTruth(axis_deg=120, p_mv=0.0, t_mv=0.0)  # QRS at +120 degrees
    atria_and_t = BeatTruth(axis_deg=60, r_mv=0.0)  # P (and T) waves at a normal axis
    beats = [(t, ventricles) for t in onsets_s] + [(t, atria_and_t) for t in onsets_s]
    signal = beats_in_leads_mv(beats, 10.0, fs_hz, TWELVE, 0.01, 0)
    analysis = analyze(
        Recording(fs_hz=fs_hz, lead_names=TWELVE, signal_mv=signal, source_format="t")
    )
    assert analysis.intervals.qrs_axis_deg is not None
    assert abs(analysis.intervals.qrs_axis_deg - 120) < 15
    assert "axis" not in analysis.intervals.not_measurable


def test_a_flat_lead_is_named_in_the_notes():
    """V3 flat (an electrode off) was left out without a word: "100 % good quality" beside a
    normal read, the sheet showing the flat line."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=72, axis_deg=50), duration_s=10.0)
    signal = recording.signal_mv.copy()
    signal[:, TWELVE.index("V3")] = 0.0
    flat = Recording(fs_hz=recording.fs_hz, lead_names=TWELVE, signal_mv=signal, source_format="t")
    notes = analyze(flat).notes  # the reader's, gap and lead notes, before `machine_notes`
    named = [n for n in notes if n.startswith("Lead(s) V3 not read:")]
    assert len(named) == 1 and "flat" in named[0], notes
    assert not any("V3" in n for n in analyze(recording).notes)
