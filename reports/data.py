"""Everything a PDF shows, as plain data: built by the portal from a stored report version,
so `reports/` needs no database and a render can be repeated from the same inputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from ml import rhythm
from ml.findings import Finding
from ml.gaps import HMS_FROM_S, clock
from ml.holter_summary import HolterSummary
from ml.rhythm import Episode
from ml.strip_rhythm import STRIP_MAX_S
from reports.time_of_day import moment_text, time_of_day

PDF_EPISODES = 15  # rows of the episode table on the clinician report


@dataclass(frozen=True)
class Read:
    """One read of the ECG (the machine's, a physician's, an amendment)."""

    version_no: int
    kind: str  # machine / physician / amendment
    rhythm: str
    findings: list[str]
    conclusion: str
    signed_by: str | None = None
    patient_comment: str = ""  # the doctor's words for the patient (the conclusion is not)
    signed_at: dt.datetime | None = None
    reason: str | None = None
    next_steps: list[str] = field(default_factory=list)  # codes of reports.next_steps
    next_steps_note: str = ""
    # Released to the patient before a later version replaced it (`reports.shown_to_patient`):
    # the patient's summary says what changed only against a version they could read.
    shown_to_patient: bool = True
    heart_rate_bpm: float | None = None  # as signed (None: not measurable, or not stored)
    patient_risk: str | None = None  # the risk figure the patient read at this signature


@dataclass(frozen=True)
class Score:
    title: str
    predicts: str
    risk_percent: float | None
    category: str | None
    inputs: dict[str, Any]
    not_computed_reason: str | None = None
    model: str = ""  # the RiskModel value, e.g. "grace_six_month"
    # Computed for an age or sex since corrected (`risk_scores.stale_reason`), in words.
    stale_reason: str | None = None
    # The first and last day of the measurements it used (clinical inputs), if any.
    measured_on: tuple[dt.date, dt.date] | None = None
    # GRACE: its score, which `category` bands ("NSTE-ACS high (≥ 141 points), ..."), and the
    # percentage with its source ("2.2 % (GRACE continuous model)"; `portal.risk_words`).
    points: int | None = None
    percent_words: str = ""


@dataclass(frozen=True)
class Strip:
    title: str
    svg: str
    kind: str = "strip"  # or TWELVE_LEAD: the 3 x 4 grid and rhythm strip of page 1


TWELVE_LEAD = "twelve_lead"
DOCTOR_CLEARED = "doctor"  # not measurable: the doctor emptied the machine's value


# What a strip or a figure of the machine read says when the signed read does not carry it.
NOT_SIGNED = "the machine's call, not in the signed read"


@dataclass(frozen=True)
class ReportData:
    institution: str
    clinic_contact: str
    report_id: int
    version_no: int
    status: str
    generated_at: dt.datetime
    patient_name: str
    mrn: str
    date_of_birth: dt.date
    sex: str
    age_years: int | None  # None: recorded before the date of birth (`documents.age_at`)
    recorded_at: dt.datetime  # every datetime here is aware, in the hospital's TIME_ZONE
    duration_s: float
    leads: list[str]
    sampling_rate_hz: float
    source_file: str
    measurements: dict[str, float | None]
    machine: Read
    physician: Read | None
    amendments: list[Read]
    findings: list[Finding]  # the machine's
    episodes: list[Episode]
    beat_counts: dict[str, int]
    class_probabilities: dict[str, float]
    quality_words: str  # `ml.analysis.quality_words`
    quality_notes: list[str]
    scores: list[Score]
    strips: list[Strip] = field(default_factory=list)
    model_version: str = ""
    # The machine's notes, as the review page lists them (a lead off, gaps, calls taken back):
    # the signed PDF had said "100 % good quality" of a recording whose V1 was off for 90 s.
    machine_notes: list[str] = field(default_factory=list)
    emergency_number: str = ""  # EMERGENCY_NUMBER: "112"; empty, the summary says "an ambulance"
    statement_labels: dict[str, str] = field(default_factory=dict)
    # Measurement (a `measurements` key) -> why it is not measurable in this version: the
    # machine's reason, DOCTOR_CLEARED when the doctor emptied the machine's value, "" when no
    # reason is known. A measurement missing here and from `measurements` prints a dash.
    not_measurable: dict[str, str] = field(default_factory=dict)
    # From the machine read's intervals ("pr", "qrs", "qt"): "high" / "low" confidence for
    # those measured (empty for reads stored before it).
    interval_confidence: dict[str, str] = field(default_factory=dict)
    # Set for a reference record (teaching/QA, not the patient's ECG): the words that mark it.
    reference_marker: str | None = None
    # "Recorded" when the file gave its acquisition time, else "Uploaded" (the upload time).
    recorded_label: str = "Recorded"
    # Staff noted a pacemaker at upload: the machine read is a paced read (`ml.paced`).
    pacemaker: bool = False
    # The machine's detections inside ventricular flutter/fibrillation, no beats: the patient's
    # share of extra beats leaves them out, as the clinician's findings do (`frequent_pacs`).
    vf_waves: int = 0
    # A recording of 10 minutes or more: its Holter summary (`ml.holter_summary`).
    holter: HolterSummary | None = None
    # Episode labels whose statement the signed read does not carry (`documents`): their
    # strips, and the Holter summary's AF time, say they are the machine's call.
    withdrawn_episodes: frozenset[str] = frozenset()
    # Why this PDF is a re-issue (`documents.ensure_document`: the one first issued was missing
    # or altered in storage), printed at its top; empty for the first issue.
    reissued: str = ""
    # A version since superseded: the risk figure its own summary gave ("Title: words",
    # `ReportVersion.patient_risk`), never today's scores; None for the latest version.
    risk_at_signature: str | None = None

    @property
    def af_withdrawn(self) -> bool:
        """The signed read withdrew the machine's AF: its Holter AF time says so (an amended
        read "No atrial fibrillation" printed "AF 13.2 min (44 %)" unqualified: an audit)."""
        return rhythm.AF in self.withdrawn_episodes

    @property
    def pause_withdrawn(self) -> bool:
        """The signed read withdrew the machine's pauses: so does its Holter pause count (a
        30-min lead-off read as a pause was still "the longest 1800.0 s" once withdrawn)."""
        return rhythm.PAUSE in self.withdrawn_episodes

    @property
    def not_signed(self) -> str:
        return NOT_SIGNED

    @property
    def read_as_episodes(self) -> bool:
        """Longer than a strip: read as rhythm episodes, as the sign form reads it
        (`portal.services.reports.read_as_episodes`)."""
        return self.duration_s > STRIP_MAX_S

    @property
    def listed_episodes(self) -> tuple[list[tuple[Episode, str]], dict[str, int]]:
        """The episodes page 2 lists, with where each starts, and how many more of each label:
        the `PDF_EPISODES` most significant, as the review page picks them
        (`ml.rhythm.overview`), in time order, on one clock ("0:19:43" on a Holter, as its
        notes say). The PDF had listed the first 15 in time, mostly sinus rhythm, and left
        MIT-BIH 208's SVT and 219's 2:1 conduction among "33 more" (a clinician-eye audit)."""
        chosen = rhythm.overview(self.episodes, PDF_EPISODES)
        as_hms = self.duration_s >= HMS_FROM_S  # as the review page and the strips
        listed = [self.episodes[i] for i in cast(list[int], chosen["listed"])]
        more = cast(dict[str, int], chosen["more_by_label"])
        return [(e, clock(e.start_s, as_hms)) for e in listed], more

    def into_recording(self, t_s: float) -> str:
        """Where `t_s` is, in time into the recording and on the clock (`moment_text`)."""
        return moment_text(t_s, self.duration_s, self.clock_time)

    @property
    def clock_time(self) -> Callable[[float], str] | None:
        """A moment into the recording on the hospital's clock (`reports.time_of_day`), or
        None when the file gave no start time (the report then says "uploaded")."""
        if self.recorded_label != "Recorded":
            return None
        return time_of_day(self.recorded_at, self.duration_s)

    @property
    def twelve_lead(self) -> Strip | None:
        """The 12-lead page's grid (12-lead recordings only), shown on page 1."""
        return next((s for s in self.strips if s.kind == TWELVE_LEAD), None)

    @property
    def paper_strips(self) -> list[Strip]:
        """The strips of the pages after the first: rhythm strips, episodes, single leads."""
        return [s for s in self.strips if s.kind != TWELVE_LEAD]

    @property
    def latest_read(self) -> Read | None:
        """The read that counts: the newest amendment, else the physician's."""
        return self.amendments[-1] if self.amendments else self.physician
