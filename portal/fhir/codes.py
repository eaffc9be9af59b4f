"""The code systems and codes the FHIR endpoints use, in one place (the README's table is
this module, and tests/test_fhir.py checks every row against what the server emits).

Where each code was checked (issue 16 asked for every code to be looked up, not recalled):
- ECG measurements: LOINC's whole-heart EKG measurement terms (class EKG.MEAS, system
  "Heart"): 8625-6 P-R Interval, 8633-0 QRS duration, 8634-8 Q-T interval, 8636-3 Q-T
  interval corrected, 8632-2 QRS axis, as HL7 Japan's JP Core electrocardiogram Observation
  example codes them (with ms and deg); QTc by formula: 76635-2 (Bazett) and 76634-5
  (Fridericia), which LOINC's own description of 8636-3 names. Heart rate 8867-4 with UCUM
  "/min" as US Core's heart-rate example. US Core's clinical-result examples use the
  per-lead terms instead (44976-9 P-R interval {EKG lead}, 44973-6 QRS dur {EKG lead},
  44975-1 Q-T interval {EKG lead}); the portal measures on the median beat of all leads,
  not on one lead, so the whole-heart terms are the truthful ones.
- The study: LOINC 11524-6 "EKG study" (component EKG study, class CARD.PROC); the
  DiagnosticReport category v2-0074 "EC" (Electrocardiac (e.g. EKG, EEC, Holter)).
- The waveform: ISO/IEEE 11073-10101 (MDC, urn:oid:2.16.840.1.113883.6.24) 131328
  MDC_ECG_ELEC_POTL and one code per lead (131329 lead I ... ), as FHIR R4's own
  Observation/ekg SampledData example.
- Statements: SNOMED CT codes as the PhysioNet/Computing in Cardiology Challenge 2021 maps
  ECG diagnoses (its dx_mapping_scored.csv and dx_mapping_unscored.csv), plus 164854000
  "Electrocardiogram normal" and 991002 "Wide QRS complex" as HL7 FHIR guides use them.
  A statement without a SNOMED CT concept of exactly its meaning keeps the project's own
  code only (ecg-statement code system).
"""

from __future__ import annotations

from dataclasses import dataclass

from ml import vocabulary
from portal.services.reference import REFERENCE_MARKER

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
MDC = "urn:oid:2.16.840.1.113883.6.24"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DIAGNOSTIC_SECTION = "http://terminology.hl7.org/CodeSystem/v2-0074"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
CONTACT_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/v2-0131"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

# The project's own systems (https://cardioportal.example/ stands for the hospital's domain).
PROJECT = "https://cardioportal.example/fhir"
MRN_SYSTEM = f"{PROJECT}/sid/mrn"  # Patient.identifier: the portal's MRN (CP + 8 digits)
DOCTOR_SYSTEM = f"{PROJECT}/sid/doctor"  # a doctor (generalPractitioner, performer)
REPORT_SYSTEM = f"{PROJECT}/sid/ecg-report"  # DiagnosticReport.identifier
STATEMENT_SYSTEM = f"{PROJECT}/CodeSystem/ecg-statement"  # ml/vocabulary.py codes
RISK_MODEL_SYSTEM = f"{PROJECT}/CodeSystem/risk-model"  # portal/models.py RiskModel
RISK_PART_SYSTEM = f"{PROJECT}/CodeSystem/risk-score-part"  # a risk Observation's components
RECORD_ORIGIN_SYSTEM = f"{PROJECT}/CodeSystem/record-origin"  # meta.tag of a reference record
# A risk factor with no LOINC term of its meaning (`ClinicalInput` column names).
CLINICAL_INPUT_SYSTEM = f"{PROJECT}/CodeSystem/clinical-input"
# DiagnosticReport.extension (clinicians): when the patient may read the signed report
# (`reports.patient_release_at`); an exchange must not show it to the patient before.
PATIENT_RELEASE_EXTENSION = f"{PROJECT}/StructureDefinition/patient-release"


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str

    def as_fhir(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True)
class Measure:
    """One ECG measurement of a signed report version (a `report_version` column)."""

    slug: str  # the Observation id is "<report id>-<slug>"
    column: str
    text: str
    codings: tuple[Coding, ...]
    unit: str  # UCUM code (also the unit shown)
    decimals: int


MEASURES: tuple[Measure, ...] = (
    Measure("hr", "heart_rate_bpm", "Heart rate", (Coding(LOINC, "8867-4", "Heart rate"),),
            "/min", 0),
    Measure("pr", "pr_ms", "PR interval", (Coding(LOINC, "8625-6", "P-R Interval"),), "ms", 0),
    Measure("qrs", "qrs_ms", "QRS duration", (Coding(LOINC, "8633-0", "QRS duration"),),
            "ms", 0),
    Measure("qt", "qt_ms", "QT interval", (Coding(LOINC, "8634-8", "Q-T interval"),), "ms", 0),
    Measure("qtc", "qtc_bazett_ms", "QTc (Bazett)",
            (Coding(LOINC, "8636-3", "Q-T interval corrected"),
             Coding(LOINC, "76635-2", "Q-T interval corrected based on Bazett formula")),
            "ms", 0),
    Measure("qtcf", "qtc_fridericia_ms", "QTc (Fridericia)",
            (Coding(LOINC, "76634-5", "Q-T interval corrected based on Fridericia formula"),),
            "ms", 0),
    Measure("axis", "qrs_axis_deg", "QRS axis", (Coding(LOINC, "8632-2", "QRS axis"),),
            "deg", 0),
)  # fmt: skip
MEASURE_BY_SLUG = {m.slug: m for m in MEASURES}
UNIT_NAMES = {"/min": "beats/min", "ms": "ms", "deg": "deg"}  # as US Core's heart-rate example

EKG_STUDY = Coding(LOINC, "11524-6", "EKG study")
ELECTROCARDIAC = Coding(DIAGNOSTIC_SECTION, "EC", "Electrocardiac (e.g. EKG, EEC, Holter)")
# A report of a reference record (teaching/QA): a tag, which FHIR leaves to local code systems
# and which changes no clinical meaning, so any client can filter or flag such reports.
REFERENCE_RECORD = Coding(RECORD_ORIGIN_SYSTEM, "reference-record", REFERENCE_MARKER)
# A measurement withdrawn as not measurable (`observation._withdrawn`): expected, not known.
NOT_MEASURABLE = Coding(DATA_ABSENT_REASON, "unknown", "Unknown")
# A risk score a later signature could not compute (`observation._risk_withdrawn`; its note says
# why): likewise expected, not known.
NOT_COMPUTED = NOT_MEASURABLE
# A GRACE score's points (`observation._points`), a component beside its percentage; UCUM's
# annotation "{score}" as a unit: a count of points, dimensionless.
RISK_POINTS = Coding(RISK_PART_SYSTEM, "points", "Score in points")
POINTS_UNIT = "{score}"
PROCEDURE = Coding(OBSERVATION_CATEGORY, "procedure", "Procedure")
VITAL_SIGNS = Coding(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")
LABORATORY = Coding(OBSERVATION_CATEGORY, "laboratory", "Laboratory")
SOCIAL_HISTORY = Coding(OBSERVATION_CATEGORY, "social-history", "Social History")
EXAM = Coding(OBSERVATION_CATEGORY, "exam", "Exam")
CATEGORIES = {"procedure": PROCEDURE, "vital-signs": VITAL_SIGNS, "laboratory": LABORATORY,
              "social-history": SOCIAL_HISTORY, "exam": EXAM}  # fmt: skip
MRN_TYPE = Coding(IDENTIFIER_TYPE, "MR", "Medical record number")


@dataclass(frozen=True)
class InputCode:
    """One risk-factor column of a clinical input (`ClinicalInput`), as an Observation: a
    quantity in `unit` (UCUM; the stored, canonical unit), else a yes/no (`valueBoolean`;
    smoking: SNOMED CT answers) or a class (`valueInteger`)."""

    column: str
    slug: str  # the Observation id is "input-<clinical input id>-<slug>"
    text: str
    codings: tuple[Coding, ...]
    category: str | None  # a key of CATEGORIES
    unit: str | None = None


def _project_input(column: str, text: str) -> tuple[Coding, ...]:
    return (Coding(CLINICAL_INPUT_SYSTEM, column, text),)


# LOINC where a term of exactly the stored measurement exists: 2093-3 and 2085-9 (FHIR R4's
# cholesterol value set example), 2160-0 (HL7 Clinical Guidelines' creatinine value set),
# 8480-6 and 39156-5 (the vital-signs profile's systolic blood pressure and BMI: a systolic
# pressure alone, as the portal records no diastolic one), 8867-4 (as the ECG's heart rate)
# and 72166-2 with SNOMED CT answers (US Core and IPS smoking status). The yes/no answers
# have no LOINC question of the same meaning: the project's code, with the question as text.
CLINICAL_INPUTS: tuple[InputCode, ...] = (
    InputCode("total_cholesterol_mg_dl", "total-cholesterol", "Total cholesterol",
              (Coding(LOINC, "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma"),),
              "laboratory", "mg/dL"),
    InputCode("hdl_mg_dl", "hdl", "HDL cholesterol",
              (Coding(LOINC, "2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma"),),
              "laboratory", "mg/dL"),
    InputCode("systolic_bp_mmhg", "systolic-bp", "Systolic blood pressure",
              (Coding(LOINC, "8480-6", "Systolic blood pressure"),), "vital-signs", "mm[Hg]"),
    InputCode("bp_treated", "bp-treated", "On treatment for high blood pressure",
              _project_input("bp_treated", "On treatment for high blood pressure"), None),
    # code.text the question: "Smoker" had read as the answer beside "Non-smoker" (an audit).
    InputCode("smoker", "smoker", "Tobacco smoking status",
              (Coding(LOINC, "72166-2", "Tobacco smoking status"),), "social-history"),
    InputCode("diabetic", "diabetes", "Diabetes", _project_input("diabetic", "Diabetes"), None),
    InputCode("bmi_kg_m2", "bmi", "Body mass index",
              (Coding(LOINC, "39156-5", "Body mass index (BMI) [Ratio]"),), "vital-signs",
              "kg/m2"),
    InputCode("heart_rate_bpm", "heart-rate", "Heart rate",
              (Coding(LOINC, "8867-4", "Heart rate"),), "vital-signs", "/min"),
    InputCode("creatinine_mg_dl", "creatinine", "Creatinine",
              (Coding(LOINC, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),),
              "laboratory", "mg/dL"),
    InputCode("killip_class", "killip-class", "Killip class",
              _project_input("killip_class", "Killip class"), "exam"),
    *(
        InputCode(column, column.replace("_", "-"), text, _project_input(column, text), None)
        for column, text in (
            ("cardiac_arrest_at_admission", "Cardiac arrest at admission"),
            ("st_deviation", "ST-segment deviation"),
            ("st_depression", "ST depression"),
            ("elevated_cardiac_enzymes", "Elevated cardiac enzymes"),
            ("history_of_mi", "History of myocardial infarction"),
            ("history_of_heart_failure", "History of heart failure"),
            ("in_hospital_pci", "In-hospital PCI"),
        )
    ),
)  # fmt: skip
INPUT_BY_SLUG = {i.slug: i for i in CLINICAL_INPUTS}
INPUT_UNIT_NAMES = {"mg/dL": "mg/dL", "mm[Hg]": "mmHg", "kg/m2": "kg/m2", "/min": "beats/min"}
# Smoking status (LOINC 72166-2): the portal asks "smoker" yes or no, so a current smoker or
# not one (not "never smoked": a former smoker answers no too).
SMOKER = Coding(SNOMED, "77176002", "Smoker")
NON_SMOKER = Coding(SNOMED, "8392000", "Non-smoker")
EMERGENCY_CONTACT = Coding(CONTACT_RELATIONSHIP, "C", "Emergency Contact")

# The waveform: MDC electrical potential, per lead (lead names as the recording spells them).
ECG_POTENTIAL = Coding(MDC, "131328", "MDC_ECG_ELEC_POTL")
_LEAD_TERMS = {
    "I": 257, "II": 258, "V1": 259, "V2": 260, "V3": 261, "V4": 262, "V5": 263, "V6": 264,
    "III": 317, "AVR": 318, "AVL": 319, "AVF": 320,
}  # fmt: skip  # IEEE 11073-10101 partition 2 terms; the code is 2 * 65536 + term


def lead_coding(lead: str) -> Coding:
    """The MDC code of a standard lead; other leads (MLII, unnamed) the generic potential."""
    term = _LEAD_TERMS.get(lead.upper())
    if term is None:
        return ECG_POTENTIAL
    return Coding(MDC, str(2 * 65536 + term), f"MDC_ECG_ELEC_POTL_{lead.upper()}")


# Statements (ml/vocabulary.py) with a SNOMED CT concept of the same meaning.
SNOMED_STATEMENTS: dict[str, Coding] = {
    "VF": Coding(SNOMED, "164896001", "Ventricular fibrillation"),
    "VT": Coding(SNOMED, "164895002", "Ventricular tachycardia"),
    "ST_ELEVATION": Coding(SNOMED, "164931005", "ST elevation"),
    "AV_BLOCK_3": Coding(SNOMED, "27885002", "Complete atrioventricular block"),
    "AF": Coding(SNOMED, "195080001", "Atrial fibrillation and flutter"),
    "AV_BLOCK_2": Coding(SNOMED, "195042002", "Second degree atrioventricular block"),
    "BRADY": Coding(SNOMED, "426177001", "Sinus bradycardia"),
    "LONG_QT": Coding(SNOMED, "111975006", "Prolonged QT interval"),
    "ST_DEPRESSION": Coding(SNOMED, "429622005", "ST depression"),
    "SVT": Coding(SNOMED, "426761007", "Supraventricular tachycardia"),
    "IVR": Coding(SNOMED, "49260003", "Idioventricular rhythm"),  # CinC 2020's label map
    "LBBB": Coding(SNOMED, "164909002", "Left bundle branch block"),
    "RBBB": Coding(SNOMED, "59118001", "Right bundle branch block"),
    "PRE_EXCITATION": Coding(SNOMED, "74390002", "Wolff-Parkinson-White pattern"),
    "WIDE_QRS": Coding(SNOMED, "991002", "Wide QRS complex"),
    "LVH": Coding(SNOMED, "164873001", "Left ventricular hypertrophy"),
    "LEFT_AXIS": Coding(SNOMED, "39732003", "Left axis deviation"),
    "LOW_VOLTAGE": Coding(SNOMED, "251146004", "Low QRS voltages"),
    "RIGHT_AXIS": Coding(SNOMED, "47665007", "Right axis deviation"),
    "T_INVERSION": Coding(SNOMED, "59931005", "T wave inversion"),
    "TACHY": Coding(SNOMED, "427084000", "Sinus tachycardia"),
    "PACED": Coding(SNOMED, "10370003", "Pacing rhythm"),
    "AV_BLOCK_1": Coding(SNOMED, "270492004", "First degree atrioventricular block"),
    "SHORT_PR": Coding(SNOMED, "49578007", "Shortened PR interval"),  # CinC 2020's label map
    "PVC": Coding(SNOMED, "427172004", "Premature ventricular contractions"),
    "PAC": Coding(SNOMED, "63593006", "Supraventricular premature beats"),
    "SINUS": Coding(SNOMED, "426783006", "Sinus rhythm"),
    "NORMAL": Coding(SNOMED, "164854000", "Electrocardiogram normal"),
}
# Kept in the project's code system only, and why:
# PAUSE (no SNOMED CT concept for a pause of any origin; sinus arrest 5609005 is narrower),
# FREQUENT_PVC (a count threshold of ours), BIGEMINY / TRIGEMINY (a doctor may sign them for
# atrial or ventricular beats; SNOMED CT has only the specific ones), DROPPED_BEAT (ours),
# NOISY_STRIP and ARTIFACT (recording quality, not a finding about the heart), OTHER_RHYTHM
# (what a rhythm is not: no SNOMED CT concept says "neither sinus nor AF").


# Statements the machine only suspects: its AV_BLOCK_2 is "2:1 conduction (possible
# second-degree AV block)" (`ml.rhythm.HALVED`: blocked atrial premature beats or a flutter's
# changing conduction read the same) or a Mobitz I, Mobitz II or held 2:1 pattern read from P
# waves the machine located (`ml.wenckebach`, `ml.mobitz_ii`, `ml.two_to_one`); its AV_BLOCK_3
# is P waves marching apart from the QRS complexes (`ml.av_dissociation`: complete AV block, or
# AV dissociation). Unsigned, neither is a SNOMED CT diagnosis.
MACHINE_SUSPECTS = frozenset({"AV_BLOCK_2", "AV_BLOCK_3"})


def statement_concept(code: str, machine_read: bool = False) -> dict[str, object]:
    """A statement as a CodeableConcept: SNOMED CT when it has the concept, always the
    project's own code, and the clinician's label as text. In an unsigned machine read
    (`machine_read`), a statement the machine only suspects (`MACHINE_SUSPECTS`) keeps only
    the project's code, and the text says "Possible ...": a doctor's signature makes it a
    diagnosis."""
    code = vocabulary.canonical(code)
    statement = vocabulary.STATEMENTS[code]
    suspected = machine_read and code in MACHINE_SUSPECTS
    text = f"Possible {statement.label[0].lower()}{statement.label[1:]}" if suspected else None
    if machine_read and not suspected:
        # As the worklist says it: only a doctor signs a "Normal ECG" or "not AF/flutter" (an
        # unsigned read that could not rule AF out said "not AF/flutter" here; a review).
        text = vocabulary.MACHINE_LABELS.get(code)
    codings = []
    if code in SNOMED_STATEMENTS and not suspected:
        codings.append(SNOMED_STATEMENTS[code].as_fhir())
    codings.append(Coding(STATEMENT_SYSTEM, code, statement.label).as_fhir())
    return {"coding": codings, "text": text or statement.label}
