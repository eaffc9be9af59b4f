"""The typed machine read of a report: what every page, chart and PDF reads the stored
analysis through (never `.get()` on its JSON), and the reference agreement beside it."""

from __future__ import annotations

from ml.analysis import EcgAnalysis
from portal.models import EcgReport
from portal.services.reference import ReferenceAgreement


def machine_read(report: EcgReport) -> EcgAnalysis:
    """Version 1's analysis; MachineReadError if damaged or written by a newer portal."""
    return EcgAnalysis.from_dict(report.versions[0].analysis or {})


def reference_agreement(report: EcgReport) -> ReferenceAgreement | None:
    """The agreement with the annotations of an MIT-BIH reference record, if it is one."""
    stored = (report.versions[0].analysis or {}).get("reference")
    return ReferenceAgreement.from_dict(stored) if stored else None
