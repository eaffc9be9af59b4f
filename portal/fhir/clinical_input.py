"""FHIR Observation of each stored clinical input (risk factor): one per value of a
`ClinicalInput` row, read-only, `effectiveDateTime` when it was measured, codes and units as
`codes.CLINICAL_INPUTS` says. Whoever may read the patient's risk scores reads them (staff,
the patient's doctors) and the patient themselves: a patient's app had their risk figure and
none of the cholesterol, blood pressure or smoking it was computed from, and the REST API
answers the patient 403 (a data-protection audit, 2026-12-07).

Ids `input-<clinical input id>-<slug>` (an ECG's are `<report id>-<what>`, a number first, so
the two never meet). A row is never edited (a correction is a new row): version 1."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from portal.converters import MAX_ID
from portal.db import db_session
from portal.fhir import codes
from portal.fhir.bundle import DateRange
from portal.fhir.http import actor, instant
from portal.fhir.patient import not_found, reference, visible
from portal.models import Account, ClinicalInput, Patient

INPUT_ID = re.compile(r"^input-([1-9][0-9]{0,9})-([a-z-]{2,40})$")


@dataclass(frozen=True)
class InputItem:
    """One value of a clinical input row, as an Observation before it is built."""

    row: ClinicalInput
    code: codes.InputCode

    @property
    def id(self) -> str:
        return f"input-{self.row.id}-{self.code.slug}"

    @property
    def codings(self) -> tuple[codes.Coding, ...]:
        return self.code.codings

    @property
    def categories(self) -> tuple[str, ...]:
        return (self.code.category,) if self.code.category else ()

    @property
    def patient_id(self) -> int:
        return self.row.patient_id


def visible_inputs(account: Account) -> Select[tuple[ClinicalInput]]:
    """The clinical inputs of the patients this account may read (`patient.visible`: staff
    every patient, a doctor theirs and the pool's, a patient themselves), newest first."""
    patients = visible(account).with_only_columns(Patient.id)
    return (
        select(ClinicalInput)
        .where(ClinicalInput.patient_id.in_(patients.scalar_subquery()))
        .order_by(ClinicalInput.recorded_at.desc(), ClinicalInput.id.desc())
    )


def input_items(
    patient_id: int | None, row_ids: list[int] | None, dates: list[DateRange]
) -> list[InputItem]:
    """The Observations of the clinical inputs this token's account may read: of one patient,
    or of the rows named (`_id`), measured within `dates`; one per value recorded."""
    query = visible_inputs(actor())
    if patient_id is not None:
        query = query.where(ClinicalInput.patient_id == patient_id)
    if row_ids is not None:
        query = query.where(ClinicalInput.id.in_(row_ids))
    for when in dates:
        query = query.where(when.sql(ClinicalInput.recorded_at))
    return [item for row in db_session().scalars(query) for item in items_of(row)]


def items_of(row: ClinicalInput) -> list[InputItem]:
    return [InputItem(row, c) for c in codes.CLINICAL_INPUTS if getattr(row, c.column) is not None]


def item_or_404(observation_id: str) -> InputItem | None:
    """The item an `input-...` id names, if this token's account may read it; None when the
    id is not a clinical input's (an ECG's Observation)."""
    match = INPUT_ID.match(observation_id)
    if match is None:
        return None
    row_id, slug = int(match[1]), match[2]
    row = None
    if row_id <= MAX_ID and slug in codes.INPUT_BY_SLUG:
        row = db_session().scalar(visible_inputs(actor()).where(ClinicalInput.id == row_id))
    if row is None or getattr(row, codes.INPUT_BY_SLUG[slug].column) is None:
        raise not_found(f"Observation/{observation_id}")
    return InputItem(row, codes.INPUT_BY_SLUG[slug])


def _value(item: InputItem) -> dict[str, Any]:
    value = getattr(item.row, item.code.column)
    if item.code.unit is not None:
        unit = item.code.unit
        return {"valueQuantity": {"value": float(value), "unit": codes.INPUT_UNIT_NAMES[unit],
                                  "system": codes.UCUM, "code": unit}}  # fmt: skip
    if item.code.column == "smoker":
        answer = codes.SMOKER if value else codes.NON_SMOKER
        return {"valueCodeableConcept": {"coding": [answer.as_fhir()], "text": answer.display}}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    return {"valueInteger": int(value)}


def build_input(item: InputItem) -> dict[str, Any]:
    """The Observation: final (a row is never edited), measured at `recorded_at`."""
    row = item.row
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": item.id,
        "meta": {"versionId": "1", "lastUpdated": instant(row.created_at)},
        "status": "final",
    }
    if item.categories:
        resource["category"] = [
            {"coding": [codes.CATEGORIES[kind].as_fhir()]} for kind in item.categories
        ]
    resource["code"] = {"coding": [c.as_fhir() for c in item.codings], "text": item.code.text}
    resource["subject"] = reference(row.patient)
    resource["effectiveDateTime"] = instant(row.recorded_at)
    resource["issued"] = instant(row.created_at)
    return resource | _value(item)
