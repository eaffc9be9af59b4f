"""The typed machine read of a report: what every page, chart and PDF reads the stored
analysis through (never `.get()` on its JSON), and the reference agreement beside it.

A read is stored in two parts (migration 0009): `report_version.analysis` holds everything
but the beats, and `report_beats` the beats (a 24-hour Holter has ~100,000 of them, 1.5 MB of
JSON). Pages read `machine_summary` (no beats); only the chart and the PDF strips read
`machine_read`, which loads the beats too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import object_session

from ml import rhythm
from ml.analysis import EcgAnalysis
from ml.holter_summary import vf_waves
from ml.lead_reversal import ARMS_SWAPPED
from ml.recording import canonical_lead_name
from portal.models import EcgReport, ReportBeats, ReportVersion
from portal.services.reference import ReferenceAgreement

# What a summary's `beats` are: none (the page that reads a summary shows no beat).
NO_BEATS: dict[str, Any] = {"sample": [], "class": "", "probability": []}


def stored_parts(analysis: EcgAnalysis) -> tuple[dict[str, Any], ReportBeats]:
    """A new machine read as stored: the document without its beats, and the beats' row (to
    attach to the version: `ReportVersion(analysis=document, beats=row)`)."""
    document = analysis.to_dict()
    beats = document.pop("beats")
    return document, ReportBeats(n_beats=len(beats["sample"]), beats=beats)


def machine_read(report: EcgReport) -> EcgAnalysis:
    """Version 1's analysis with every beat; MachineReadError if damaged or written by a
    newer portal. For the chart and the PDF strips: pages use `machine_summary`."""
    version = report.versions[0]
    return EcgAnalysis.from_dict({**_document(version), "beats": _beats_of(version)})


def machine_summary(report: EcgReport) -> EcgAnalysis:
    """Version 1's analysis without its beats (`beats` is empty; `beat_counts` has the
    counts): findings, rhythm episodes, intervals, heart rate, quality, notes."""
    return EcgAnalysis.from_dict({**_document(report.versions[0]), "beats": NO_BEATS})


def vf_waves_of(analysis: EcgAnalysis) -> int:
    """How many of the read's detections are ventricular flutter/fibrillation waves, no beats
    (`ml.holter_summary.vf_waves`): left out of a share of beats, as the findings leave them."""
    return int(vf_waves(analysis.beats.samples / analysis.fs_hz, analysis.episodes).sum())


def vf_waves_in(report: EcgReport) -> int:
    """`vf_waves_of` the machine read, its beats loaded only when it has a VF episode."""
    if not any(e.label == rhythm.VF for e in machine_summary(report).episodes):
        return 0
    return vf_waves_of(machine_read(report))


def machine_findings(report: EcgReport) -> list[dict[str, Any]]:
    """Version 1's findings as stored (code, label, risk, detail), without parsing the rest."""
    return list(_document(report.versions[0]).get("findings", []))


def machine_asks_for_a_repeat(report: EcgReport) -> bool:
    """Whether version 1 asks for the ECG to be repeated (`ml.findings.repeat_the_ecg`: arm
    electrodes that look swapped), without parsing the rest. Its stored read (a Holter's is
    large) is loaded only for a recording with leads I and aVR and no axis, the only ones
    `ml.lead_reversal` judges: the worklist asks this of its medium unsigned rows."""
    leads = {canonical_lead_name(name) for name in report.recording.lead_names}
    if not {"I", "aVR"} <= leads or report.versions[0].qrs_axis_deg is not None:
        return False
    intervals = _document(report.versions[0]).get("intervals") or {}
    return bool((intervals.get("not_measurable") or {}).get("axis") == ARMS_SWAPPED)


def reference_agreement(report: EcgReport) -> ReferenceAgreement | None:
    """The agreement with the annotations of an MIT-BIH reference record, if it is one."""
    stored = _document(report.versions[0]).get("reference")
    return ReferenceAgreement.from_dict(stored) if stored else None


def _document(version: ReportVersion) -> dict[str, Any]:
    return version.analysis or {}


def _beats_of(version: ReportVersion) -> Any:
    """The version's beats: its `report_beats` row (asked for here, never lazily), or those
    of a document written before the beats had their own table."""
    if "beats" not in inspect(version).unloaded:
        row = version.beats
    else:
        session = object_session(version)
        row = (
            session.scalar(select(ReportBeats).where(ReportBeats.report_version_id == version.id))
            if session is not None
            else None
        )
    if row is not None:
        return row.beats
    return _document(version).get("beats", {})  # MachineReadError when missing altogether
