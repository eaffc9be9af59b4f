"""The one recording type every reader returns and every analysis step takes."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ml.errors import DurationError, SamplingRateError, UnusableSignalError

MIN_FS_HZ, MAX_FS_HZ = 50.0, 2000.0
# 8 s: handheld strips run 9-61 s and a 10-s 12-lead may be cut a little short; fewer beats
# than 8 s holds cannot carry a rhythm call.
MIN_DURATION_S, MAX_DURATION_S = 8.0, 48 * 3600.0
FLAT_STD_MV = 0.005  # below this a lead carries no ECG (an electrode off or a dead channel)
CLIPPED_FRACTION = 0.2  # this share of samples pinned at the extremes: the amplifier saturated
# No surface ECG comes near 50 mV: the tallest QRS complexes (hypertrophy) reach 5-7 mV and
# pacemaker spikes about 20 mV. A value beyond it (in millivolts, after unit conversion) is a
# corrupted sample or a wrong scale, and is treated as missing rather than read as a number.
MAX_ECG_MV = 50.0
MOSTLY_MISSING_FRACTION = 0.5  # a lead missing more than this is not analysed at all
# An ECG lead's samples vary by 0.1-1 mV (standard deviation); beyond this the numbers are not
# millivolts: a recording in microvolts labelled as millivolts reads 1,000 times too large, one
# in raw converter units without its gain 100-1,000 times (MIT-BIH: 200 units per mV). Such a
# lead read "Unclassifiable: too noisy; repeat the recording", which no repeat would mend.
WRONG_SCALE_STD_MV = 10.0
# Below this a lead that is not constant varies less than any amplifier's own noise (a few
# microvolts): it may be an ECG in volts labelled as millivolts (0.1-0.5 mV read 0.0001-0.0005).
TOO_SMALL_STD_MV = 0.002
STANDARD_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


@dataclass(frozen=True)
class Recording:
    """An ECG: `signal_mv[n_samples, n_leads]` in millivolts at `fs_hz`."""

    fs_hz: float
    lead_names: tuple[str, ...]
    signal_mv: np.ndarray
    source_format: str = "array"
    source_name: str | None = None
    start_time: dt.datetime | None = None
    notes: tuple[str, ...] = field(default=())
    # A CSV whose columns all name their units ("II (mV)"): a units option changes nothing,
    # and is not how it was read (`portal.services.recordings.units_read_in`).
    units_in_file: bool = False

    @property
    def n_samples(self) -> int:
        return int(self.signal_mv.shape[0])

    @property
    def n_leads(self) -> int:
        return int(self.signal_mv.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz

    def lead(self, name: str) -> np.ndarray:
        return self.signal_mv[:, self.lead_names.index(name)]


def canonical_lead_name(name: str) -> str:
    """'ML II', 'lead ii', 'ECG II', 'MLII' -> 'II'; 'avf' -> 'aVF'; unknown names unchanged.

    The prefixes may stack, in English or German spelling, as EDF devices label their
    channels: 'ECG MLII', 'ECG Lead II', 'EKG V6' (read as unknown leads, a 12-lead EDF had no
    lead II, no axis and no check of the arm electrodes); so may the word for a lead in German,
    Spanish, Portuguese, French or Italian ('Ableitung II', 'Abl. II', 'Derivación II',
    'Dérivation II'). A number is a channel, not a limb lead: 'Lead 2', like 'ECG2', is a
    Holter's second channel (read as lead II, two bipolar chest channels of MIT-BIH 118
    labelled 'Lead 1', 'Lead 2' gave a QRS axis of -166 degrees; a review). A minus sign
    before the lead is kept: 'ECG -aVR' -> '-aVR' (`inverted_lead`), never the plain lead."""
    stripped = name.strip()
    prefix = re.match(LEAD_PREFIXES, stripped, flags=re.IGNORECASE)
    end = prefix.end() if prefix else 0
    if end >= 2 and stripped[end - 1] == "-" and stripped[end - 2] in SEPARATORS:
        end -= 1  # 'ECG -aVR', 'ECG:-aVR', 'MDC_ECG_LEAD_-aVR': a minus sign, no separator
    minus = stripped[end : end + 1] in MINUS_SIGNS
    cleaned = stripped[end + minus :].replace(" ", "")
    cleaned = DERIVATIONS.get(cleaned.upper(), cleaned)
    for standard in STANDARD_LEADS:
        if cleaned.lower() == standard.lower():
            return f"-{standard}" if minus else standard
    return stripped


def inverted_lead(name: str) -> str | None:
    """The standard lead a name gives inverted ('-aVR', 'ECG -aVR', '–aVR': Cabrera's
    -aVR), or None."""
    canonical = canonical_lead_name(name)
    inverted = canonical[:1] == "-" and canonical[1:] in STANDARD_LEADS
    return canonical[1:] if inverted else None


def inverted_back(lead_names: Sequence[str]) -> tuple[list[str], list[float], tuple[str, ...]]:
    """Leads named with a minus sign before a standard lead ('-aVR', in Cabrera's order) named
    as that lead, with the sign (-1) that turns their samples back, and a note each; named as
    written where the plain lead is recorded too. Read as aVR, an EDF's "ECG -aVR" had been
    listed and drawn as an upright aVR, the sign of swapped arms or dextrocardia."""
    present = {canonical_lead_name(name) for name in lead_names}
    names: list[str] = []
    signs: list[float] = []
    notes: list[str] = []
    for name in lead_names:
        lead = inverted_lead(name)
        if lead is None or lead in present:
            names.append(name)
            signs.append(1.0)
            continue
        present.add(lead)
        names.append(lead)
        signs.append(-1.0)
        cabrera = " (Cabrera)" if lead == "aVR" else ""
        notes.append(f"Lead -{lead}{cabrera} read as {lead}, inverted back.")
    return names, signs, tuple(notes)


def distinct_lead_names(names: Sequence[str]) -> tuple[str, ...]:
    """The leads' names, each once: a name given again (as written, or as the same lead,
    "ECG II" beside "II") is numbered, "ECG" and "ECG (2)". Two EDF channels labelled "ECG",
    as Holter exports write them, had been read as leads ECG and ECG; the chart keyed by name
    drew the second for both and never showed the first, the one analysed (a bad-input
    audit). The first keeps its name, and is the one read as that lead. Numbered by the lead
    each names: "II", "ECG II", "Lead II" had read "II", "ECG II (2)", "Lead II (2)"."""
    kept: list[str] = []
    seen: set[str] = set()
    given: dict[str, int] = {}
    for name in names:
        lead = canonical_lead_name(name)
        given[lead] = n = given.get(lead, 0) + 1
        distinct = name if n == 1 else f"{name} ({n})"
        while canonical_lead_name(distinct) in seen:
            n += 1
            distinct = f"{name} ({n})"
        seen.add(canonical_lead_name(distinct))
        kept.append(distinct)
    return tuple(kept)


# The limb leads as "derivations" (DI, DII, DIII: Brazilian, Portuguese and Spanish ECGs), read as
# unknown leads before (no lead II, no axis; an audit of the 12-lead path), as were the IEEE
# 11073 codes the portal's own FHIR output uses ("MDC_ECG_LEAD_II", stripped above). Arabic
# numerals ("D3") are left alone: the QT Database's D3 is a Holter lead of its own.
DERIVATIONS = {"DI": "I", "DII": "II", "DIII": "III"}
# The words naming a lead ("lead", German "Ableitung" or "Abl.", Spanish "derivación",
# Portuguese "derivação", French "dérivation", Italian "derivazione") before a lead's name,
# alone or after a device's prefix: a German 12-lead EDF labelled "Ableitung I" ... "Ableitung
# V6" had read "no usable lead II", no axis, no low-voltage or arm-electrode check (an upload
# audit), as had "Lead 2", "Abl. II", "Derivación II" and "Dérivation II".
LEAD_WORDS = r"lead|ableitung|abl\.?|d[eé]riva(ci[oó]n|[cç][aã]o|tion|zione)"
LEAD_PREFIXES = rf"((mdc_ecg_lead|ecg|ekg|{LEAD_WORDS}|ml)[\s_:-]*)+"
# A minus sign before a lead's name (hyphen, en dash or minus) is the lead inverted, as Cabrera's
# order writes -aVR; a hyphen right after a prefix ('ECG-II') separates. The prefix separator
# had swallowed it: "ECG -aVR" read as aVR, "ECG -II" as II.
MINUS_SIGNS = ("-", "\u2013", "\u2212")
SEPARATORS = (" ", "\t", "_", ":")


def missing_samples(signal_mv: np.ndarray) -> np.ndarray:
    """True where a sample is a gap: NaN, infinite, or beyond MAX_ECG_MV (no ECG reaches it)."""
    with np.errstate(invalid="ignore"):
        return ~(np.abs(signal_mv) <= MAX_ECG_MV)


def has_gaps(signal_mv: np.ndarray) -> bool:
    """Whether any sample is missing; two passes (min, max) instead of a mask, since most
    recordings have none and a 24-hour one holds tens of millions of samples."""
    if signal_mv.size == 0:
        return False
    low, high = float(np.min(signal_mv)), float(np.max(signal_mv))  # NaN if any is NaN
    return not (low >= -MAX_ECG_MV and high <= MAX_ECG_MV)


def standard_order(lead_names: tuple[str, ...] | list[str]) -> list[str]:
    """Lead names in the order clinicians read them (I, II, III, aVR, aVL, aVF, V1-V6), other
    leads after them in their recorded order."""
    rank = {name: i for i, name in enumerate(STANDARD_LEADS)}
    return sorted(
        lead_names,
        key=lambda name: (rank.get(canonical_lead_name(name), len(rank)), lead_names.index(name)),
    )


def validated(recording: Recording) -> Recording:
    """The recording, if an analysis of it can be trusted; otherwise a RecordingError.

    Gaps (missing samples, see `missing_samples`) are accepted: `ml.gaps.fill_gaps` bridges or
    blanks them before analysis. A lead that is mostly gaps is not usable.
    """
    if recording.signal_mv.ndim != 2:
        raise UnusableSignalError("The recording holds no ECG lead.")
    check_layout(recording.fs_hz, recording.n_leads, recording.duration_s)
    check_some_lead_usable(recording.lead_names, lead_problems(recording))
    return recording


def lead_problems(recording: Recording) -> list[str | None]:
    """Per lead, why it is not usable (`_lead_problem`), or None."""
    return [_lead_problem(recording.signal_mv[:, i]) for i in range(recording.n_leads)]


def check_layout(fs_hz: float, n_leads: int, duration_s: float) -> None:
    """The checks of `validated` that need no sample: rate, leads, duration."""
    if not MIN_FS_HZ <= fs_hz <= MAX_FS_HZ:
        raise SamplingRateError(
            f"The sampling rate is {fs_hz:g} Hz; the analysis needs {MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz."
        )
    if n_leads == 0:
        raise UnusableSignalError("The recording holds no ECG lead.")
    if duration_s < MIN_DURATION_S:
        # In samples too: a 3-sample CSV had been told it "lasts 0.0 s" (a bad-input audit).
        samples, needed = round(duration_s * fs_hz), math.ceil(MIN_DURATION_S * fs_hz)
        lasts = f"{duration_s:.1f} s" if duration_s >= 1 else f"{duration_s * 1000:.0f} ms"
        raise DurationError(
            f"The recording lasts {lasts} ({samples:,} samples at {fs_hz:g} Hz); at least "
            f"{MIN_DURATION_S:g} s are needed ({needed:,} samples at {fs_hz:g} Hz)."
        )
    if duration_s > MAX_DURATION_S:
        raise DurationError(
            f"The recording lasts {duration_s / 3600:.1f} hours; at most "
            f"{MAX_DURATION_S / 3600:g} hours can be analysed."
        )


def check_some_lead_usable(lead_names: tuple[str, ...], problems: list[str | None]) -> None:
    """UnusableSignalError when every lead has a problem (`_lead_problem`)."""
    if all(problems):
        raise UnusableSignalError(
            "No lead carries a usable ECG: " + _problems_by_lead(lead_names, problems) + "."
        )


def _problems_by_lead(lead_names: tuple[str, ...], problems: list[str | None]) -> str:
    """'leads I, II: the signal is a flat line (...); lead V1: 80% of the samples are missing'"""
    leads_of: dict[str, list[str]] = {}
    for name, problem in zip(lead_names, problems, strict=True):
        if problem:
            leads_of.setdefault(problem, []).append(name)
    return "; ".join(
        f"lead{'s' if len(names) > 1 else ''} {', '.join(names)}: {problem}"
        for problem, names in leads_of.items()
    )


def _lead_problem(lead_mv: np.ndarray) -> str | None:
    values = lead_mv
    low, high = float(values.min()), float(values.max())  # NaN if any sample is NaN
    if not (low >= -MAX_ECG_MV and high <= MAX_ECG_MV):  # gaps: judge the samples present
        finite = lead_mv[np.isfinite(lead_mv)]
        if finite.size and (wrong := _wrong_scale(float(np.std(finite)))):
            return wrong  # not gaps: numbers far beyond an ECG's, throughout
        missing = missing_samples(lead_mv)
        missing_share = float(np.mean(missing))
        if missing_share >= 1.0:
            return "every sample is missing"
        if missing_share > MOSTLY_MISSING_FRACTION:
            return f"{missing_share:.0%} of the samples are missing"
        values = lead_mv[~missing]
        low, high = float(values.min()), float(values.max())
    return signal_problem(
        float(np.std(values)), lambda: float(np.mean((values <= low) | (values >= high)))
    )


def signal_problem(std_mv: float, pinned_share: Callable[[], float]) -> str | None:
    """A lead's problem from its standard deviation and the share of its samples at its
    extremes (asked only when the lead is not flat); None for a usable lead."""
    if std_mv < FLAT_STD_MV:
        if 0 < std_mv <= TOO_SMALL_STD_MV:
            return (
                "the signal is a flat line (electrode off or channel dead), or its values are "
                "about 1,000 times too small for millivolts (volts labelled as millivolts?)"
            )
        return "the signal is a flat line (electrode off or channel dead)"
    if wrong := _wrong_scale(std_mv):
        return wrong
    pinned = pinned_share()
    if pinned > CLIPPED_FRACTION:
        return f"{pinned:.0%} of the samples are clipped at the amplifier's limits"
    return None


def _wrong_scale(std_mv: float) -> str | None:
    if std_mv <= WRONG_SCALE_STD_MV:
        return None
    return (
        f"its values vary far more than an ECG's (standard deviation over "
        f"{WRONG_SCALE_STD_MV:.0f} mV; an ECG's is under 2 mV): the file's units are probably "
        "not millivolts (microvolts labelled as millivolts read 1,000 times too large); check "
        "the recorder's export settings"
    )


def usable_leads(recording: Recording) -> list[int]:
    return [i for i, problem in enumerate(lead_problems(recording)) if problem is None]
