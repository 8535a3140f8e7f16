"""Plain inputs of every report and export: what happened in one course, with no Django in sight.

The web layer maps its models to these frozen dataclasses and calls the builders in :mod:`mibg.reports`.
Every value is an exact ``Decimal`` in the unit its name states (``_mci``, ``_kg``, ``_mr_per_h_at_1m``...);
every time is timezone-aware (decisions.md "Units"). Optional sections are ``None`` (or an empty tuple)
when the course has not reached them: a directive without an administration is a normal record.

The dose plan is the core's typed :class:`~mibg.core.dosing.DosePlan` (read from its one stored shape with
``DosePlan.from_json``), so a report shows exactly what the core computed, every number a Decimal. The
eligibility result is the core's typed :class:`~mibg.core.eligibility.EligibilityResult` likewise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from mibg.core.dosing import DosePlan
from mibg.core.eligibility import EligibilityResult
from mibg.reports.errors import ReportInputError

#: FHIR R4 AdministrativeGender codes (http://hl7.org/fhir/R4/valueset-administrative-gender.html).
SEXES = ("female", "male", "other", "unknown")


def _aware(owner: str, name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ReportInputError(f"{owner}.{name}", "has no time zone: give the UTC offset")


def _decimal(owner: str, name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ReportInputError(f"{owner}.{name}", f"must be a finite Decimal, not {value!r}")


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """Who the documents are about. ``sex`` is a FHIR AdministrativeGender code."""

    family: str
    given: str
    mrn: str
    birth_date: date
    sex: str

    def __post_init__(self) -> None:
        if not self.mrn.strip():
            raise ReportInputError("patient.mrn", "the medical record number is required on every page")
        if not self.family.strip():
            raise ReportInputError("patient.family", "the family name is required")
        if self.sex not in SEXES:
            raise ReportInputError("patient.sex", f"'{self.sex}' is not one of {', '.join(SEXES)}")

    @property
    def sex_word(self) -> str:
        """The sex as a person reads it on paper: ``female`` -> ``Female``."""
        return self.sex.capitalize()

    @property
    def display_name(self) -> str:
        """``FAMILY, Given`` as printed on clinical documents."""
        return f"{self.family.upper()}, {self.given}" if self.given else self.family.upper()

    @property
    def identifier_line(self) -> str:
        """The line every page carries: name, MRN and date of birth."""
        return f"{self.display_name}  |  MRN {self.mrn}  |  DOB {self.birth_date.isoformat()}"


@dataclass(frozen=True, slots=True)
class Signature:
    """An electronic signature: who, in what role, when, and what the signature means (21 CFR 11.50)."""

    printed_name: str
    role: str
    signed_at: datetime
    meaning: str

    def __post_init__(self) -> None:
        _aware("signature", "signed_at", self.signed_at)
        if not self.printed_name.strip() or not self.meaning.strip():
            raise ReportInputError("signature", "a signature needs the printed name and its meaning")


@dataclass(frozen=True, slots=True)
class ChairDecision:
    """A recorded study-chair decision on a criterion that the protocol lets the chair decide (H5, X1, A2, A3)."""

    criterion: str
    cleared: bool
    reason: str
    signature: Signature


@dataclass(frozen=True, slots=True)
class EligibilityRecord:
    """An eligibility evaluation: ``result`` is the core's typed result as it was evaluated."""

    result: EligibilityResult
    evaluated_at: datetime
    chair_decisions: tuple[ChairDecision, ...] = ()
    signatures: tuple[Signature, ...] = ()
    #: What a missing datum is called on the form where it is entered, by its snapshot path ("labs.anc" ->
    #: "Laboratory results: ANC"): the checklist names missing data so, never by the path.
    missing_labels: dict[str, str] = field(default_factory=dict)

    def missing_label(self, path: str) -> str:
        """The name of the missing datum at ``path``; the path's words when none is given ("labs anc")."""
        return self.missing_labels.get(path) or path.replace(".", " ").replace("_", " ")

    def __post_init__(self) -> None:
        _aware("eligibility", "evaluated_at", self.evaluated_at)
        if not isinstance(self.result, EligibilityResult):
            raise ReportInputError("eligibility.result", f"must be the core's EligibilityResult, not "
                                                         f"{type(self.result).__name__}")


@dataclass(frozen=True, slots=True)
class IndependentVerification:
    """The second person's check of the directive (10 CFR 35.41; mibg.core.verification)."""

    verifier: Signature
    accepted: bool
    message: str
    second_weight_kg: Decimal | None = None
    second_mci_per_kg: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Directive:
    """The written directive (10 CFR 35.40). ``plan`` is the core's typed dose plan as it was signed.

    ``weight_kg`` and ``weight_measured_on`` are the weight the prescription used and the day it was
    measured; they must agree with the plan (the builders refuse a record where they do not).
    ``specific_activity_unit`` is ``mCi/mg`` (AZEDRA) or ``Ci/mmol`` (DraxImage), as on the lot certificate.
    """

    plan: DosePlan
    weight_kg: Decimal
    weight_measured_on: date
    preparation: str
    lot: str | None = None
    specific_activity: Decimal | None = None
    specific_activity_unit: str | None = None
    route: str = "intravenous"
    access: str = "central venous line"
    signatures: tuple[Signature, ...] = ()
    verification: IndependentVerification | None = None

    def __post_init__(self) -> None:
        _decimal("directive", "weight_kg", self.weight_kg)
        _decimal("directive", "specific_activity", self.specific_activity, optional=True)
        if (self.specific_activity is None) != (self.specific_activity_unit is None):
            raise ReportInputError("directive.specific_activity_unit", "give the specific activity with its unit")
        if self.specific_activity_unit not in (None, "mCi/mg", "Ci/mmol"):
            raise ReportInputError("directive.specific_activity_unit", "must be mCi/mg or Ci/mmol")
        if not isinstance(self.plan, DosePlan):
            raise ReportInputError("directive.plan", f"must be the core's DosePlan, not {type(self.plan).__name__}")

    @property
    def signed_at(self) -> datetime | None:
        return self.signatures[0].signed_at if self.signatures else None


@dataclass(frozen=True, slots=True)
class AssayMeasurement:
    """One dose-calibrator reading. ``corrected_mci`` is the same activity decay-corrected to the start of
    the administration (mibg.core.administration), when it was computed."""

    activity_mci: Decimal
    measured_at: datetime
    calibrator: str
    corrected_mci: Decimal | None = None

    def __post_init__(self) -> None:
        _decimal("assay", "activity_mci", self.activity_mci)
        _decimal("assay", "corrected_mci", self.corrected_mci, optional=True)
        _aware("assay", "measured_at", self.measured_at)


@dataclass(frozen=True, slots=True)
class Assay:
    """The pre-administration assay of the dose (10 CFR 35.63)."""

    lot: str
    lot_calibration_time: datetime
    pre: AssayMeasurement
    within_tolerance: bool | None = None
    message: str = ""
    signature: Signature | None = None

    def __post_init__(self) -> None:
        _aware("assay", "lot_calibration_time", self.lot_calibration_time)


@dataclass(frozen=True, slots=True)
class Administration:
    """The infusion as given. ``administered_mci`` = pre-assay minus residual, both decay-corrected to
    ``start`` (decisions.md "Administered activity"); ``deviation_percent`` is against the prescription."""

    start: datetime
    end: datetime
    administered_mci: Decimal
    volume_ml: Decimal | None = None
    route: str = "intravenous"
    access: str = "central venous line"
    residual: AssayMeasurement | None = None
    deviation_percent: Decimal | None = None
    possible_medical_event: bool = False
    deviations: tuple[str, ...] = ()
    signature: Signature | None = None

    def __post_init__(self) -> None:
        _aware("administration", "start", self.start)
        _aware("administration", "end", self.end)
        _decimal("administration", "administered_mci", self.administered_mci)
        _decimal("administration", "volume_ml", self.volume_ml, optional=True)
        _decimal("administration", "deviation_percent", self.deviation_percent, optional=True)
        if self.end < self.start:
            raise ReportInputError("administration.end", "is before the start of the infusion")


@dataclass(frozen=True, slots=True)
class ExposureReading:
    """An exposure-rate reading at 1 m from the patient, in mR/h (= mR/h for I-131; clinical-reference §2.3)."""

    measured_at: datetime
    mr_per_h_at_1m: Decimal
    note: str = ""

    def __post_init__(self) -> None:
        _aware("reading", "measured_at", self.measured_at)
        _decimal("reading", "mr_per_h_at_1m", self.mr_per_h_at_1m)


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    """The basis on which the patient was released (10 CFR 35.75, 35.2075; decisions.md "Release")."""

    basis: str
    criterion: str
    released_at: datetime | None = None
    last_reading_mr_per_h_at_1m: Decimal | None = None
    instructions_given: bool = True
    signature: Signature | None = None

    def __post_init__(self) -> None:
        _aware("release", "released_at", self.released_at)


@dataclass(frozen=True, slots=True)
class DosimetryConstant:
    name: str
    value: Decimal
    unit: str
    source: str


@dataclass(frozen=True, slots=True)
class DosimetrySummary:
    """Whole-body dosimetry from the exposure-rate readings (clinical-reference §4.3; decisions.md)."""

    method: str
    tiac_h: Decimal
    effective_half_lives_h: tuple[Decimal, ...]
    whole_body_dose_gy: Decimal
    electron_only_dose_gy: Decimal | None = None
    photon_absorbed_fraction: Decimal | None = None
    body_mass_kg: Decimal | None = None
    constants: tuple[DosimetryConstant, ...] = ()

    def __post_init__(self) -> None:
        _decimal("dosimetry", "tiac_h", self.tiac_h)
        _decimal("dosimetry", "whole_body_dose_gy", self.whole_body_dose_gy)
        _decimal("dosimetry", "electron_only_dose_gy", self.electron_only_dose_gy, optional=True)
        for value in self.effective_half_lives_h:
            _decimal("dosimetry", "effective_half_lives_h", value)


@dataclass(frozen=True, slots=True)
class LabResult:
    """A laboratory result in the canonical unit of its test (mibg.core.labs: 10^9/L, g/dL, mg/dL, U/L).

    ``test`` is the key of :data:`mibg.core.labs.LABS` (``anc``, ``platelets``, ``hemoglobin``, ``bilirubin``,
    ``ast``, ``alt``, ``creatinine``, ``tsh``, ``free_t4``, ``systolic_bp``, ``diastolic_bp``); ``grade`` is the CTCAE v5.0 grade when one was computed. ``clause`` is the
    CTCAE clause that gave it, as mibg.core.ctcae states it (for AST, ALT, bilirubin and creatinine: against the
    ULN or against which baseline, decisions.md A33); blank when not known.
    """

    test: str
    value: Decimal
    collected_at: datetime
    lln: Decimal | None = None
    uln: Decimal | None = None
    grade: int | None = None
    clause: str = ""
    #: TSH, free T4 and blood pressure (mibg.core.clinical_rows): no CTCAE grade from the value; the reading (the
    #: flag against the site's range, or the adult blood-pressure threshold grade) and who grades (issue 12).
    reading: str = ""

    def __post_init__(self) -> None:
        from mibg.core.labs import LABS

        if self.test not in LABS:
            raise ReportInputError("lab.test", f"unknown test '{self.test}'; known: {', '.join(LABS)}")
        _decimal("lab", "value", self.value)
        _decimal("lab", "lln", self.lln, optional=True)
        _decimal("lab", "uln", self.uln, optional=True)
        _aware("lab", "collected_at", self.collected_at)
        if self.grade is not None and not 0 <= self.grade <= 5:
            raise ReportInputError("lab.grade", "a CTCAE grade is 0 to 5")


#: FHIR R4 AdverseEvent.outcome codes (http://terminology.hl7.org/CodeSystem/adverse-event-outcome).
AE_OUTCOMES = ("resolved", "recovering", "ongoing", "resolvedWithSequelae", "fatal", "unknown")


@dataclass(frozen=True, slots=True)
class AdverseEventRecord:
    """An adverse event graded with CTCAE v5.0 (decisions.md A18)."""

    term: str
    grade: int
    onset: datetime
    serious: bool = False
    attribution: str = ""
    outcome: str = "ongoing"
    description: str = ""

    def __post_init__(self) -> None:
        _aware("adverse_event", "onset", self.onset)
        if not 1 <= self.grade <= 5:
            raise ReportInputError("adverse_event.grade", "a CTCAE adverse-event grade is 1 to 5")
        if self.outcome not in AE_OUTCOMES:
            raise ReportInputError("adverse_event.outcome", f"'{self.outcome}' is not one of {', '.join(AE_OUTCOMES)}")


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    """Response assessment, e.g. INRC 2017 category CR/PR/MR/SD/PD (clinical-reference §6.2)."""

    assessed_on: date
    category: str
    criteria: str = "INRC 2017"
    notes: str = ""


@dataclass(frozen=True, slots=True)
class StemCellInfusion:
    """Autologous stem-cell rescue (decisions.md "Stem-cell infusion")."""

    infused_at: datetime
    product: str
    cd34_per_kg: Decimal | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        _aware("stem_cell_infusion", "infused_at", self.infused_at)
        _decimal("stem_cell_infusion", "cd34_per_kg", self.cd34_per_kg, optional=True)


@dataclass(frozen=True, slots=True)
class Plots:
    """Plots drawn by the caller (PNG bytes). When absent the reports draw their own from the data."""

    readings_png: bytes | None = None
    recovery_png: bytes | None = None


@dataclass(frozen=True, slots=True)
class SupportiveOrder:
    """One order of the course's supportive-care order set (issue 13; mibg.core.careplan), as documents show it."""

    code: str
    name: str
    resource: str  # FHIR: MedicationRequest or ServiceRequest
    role: str
    start: datetime
    end: datetime | None
    schedule: str
    dose: str  # "" when the order has no dose
    dose_status: str  # "to be confirmed by the site", "confirmed by ...", "site parameter" or ""
    instructions: str
    source: str
    due_times: int
    recorded: int  # due times recorded (done or not done)

    def __post_init__(self) -> None:
        _aware(f"order {self.code}", "start", self.start)
        _aware(f"order {self.code}", "end", self.end)


@dataclass(frozen=True, slots=True)
class CourseRecord:
    """Everything about one course of 131I-MIBG for one patient.

    ``document_time`` is the creation date written into every PDF: the same record gives the same bytes.
    ``protocol_label`` is the label of the protocol definition the course ran under (e.g. ``NCT01370330 v1.0.0``).
    """

    patient: PatientIdentity
    course_number: int
    protocol_label: str
    document_time: datetime
    site: str = ""
    diagnosis: str = "Neuroblastoma"
    eligibility: EligibilityRecord | None = None
    directive: Directive | None = None
    assay: Assay | None = None
    administration: Administration | None = None
    readings: tuple[ExposureReading, ...] = ()
    release: ReleaseRecord | None = None
    dosimetry: DosimetrySummary | None = None
    labs: tuple[LabResult, ...] = ()
    adverse_events: tuple[AdverseEventRecord, ...] = ()
    response: ResponseRecord | None = None
    stem_cell_infusion: StemCellInfusion | None = None
    plots: Plots = field(default_factory=Plots)
    orders: tuple[SupportiveOrder, ...] = ()

    def __post_init__(self) -> None:
        _aware("course", "document_time", self.document_time)
        if self.course_number < 1:
            raise ReportInputError("course.course_number", "courses are numbered from 1")
        if not self.protocol_label.strip():
            raise ReportInputError("course.protocol_label", "every document names the protocol version")
