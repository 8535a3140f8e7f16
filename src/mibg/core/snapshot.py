"""PatientSnapshot: everything screening and dose planning read about one patient at one moment.

A snapshot is plain, immutable data (pydantic v2, frozen). Optional fields mean "not recorded": the
eligibility rules turn a missing value into "unknown", never a guess. Times are timezone-aware; lab values
are exact decimals with their unit and reference range. ``mibg schema`` exports the JSON Schema.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mibg.core.times import site_date
from mibg.core.vocabulary import (
    Cytokine,
    DiagnosisKind,
    DiseaseStatusCategory,
    LabTest,
    PerformanceScale,
    RadiotherapyField,
    Sex,
    StemCellProductType,
    TherapyKind,
    TransfusionProduct,
    UrinalysisProtein,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


Positive = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
#: A body weight: positive; the validator of PatientSnapshot keeps it in the plausible range the dose planner
#: accepts (site parameters plausible_weight_kg_min/_max, 2 to 250 kg), so a typing slip such as 2200 kg or
#: 0.001 kg is refused on the screening form, not carried into a dose.
WeightKg = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class Diagnosis(_Frozen):
    kind: DiagnosisKind
    diagnosed_on: date | None = None
    histopathology_confirmed: bool | None = None
    urine_catecholamines_elevated: bool | None = None
    tumor_cells_in_bone_marrow: bool | None = None


class DiseaseStatus(_Frozen):
    category: DiseaseStatusCategory
    failure_to_respond_to_standard_therapy: bool | None = None
    progressive_disease: bool | None = None
    assessed_on: date | None = None


class MibgScan(_Frozen):
    scan_date: date
    avid: bool
    evaluable_disease: bool


class AntiTumourTherapy(_Frozen):
    """A systemic therapy, a surgery aimed at the tumour or another anti-tumour therapy; ``last_dose_on`` is the
    day it ended (last dose, day of the operation). Radiotherapy and 131I-MIBG have their own lists and count
    as anti-tumour therapy too (decisions.md A21)."""

    description: str = Field(min_length=1)
    last_dose_on: date
    kind: TherapyKind = TherapyKind.SYSTEMIC


class Radiotherapy(_Frozen):
    field: RadiotherapyField
    completed_on: date


class CytokineDose(_Frozen):
    agent: Cytokine
    last_dose_at: AwareDatetime


#: A prior course's total mCi may differ from mCi/kg x weight by 1 % of that product or by 0.5 mCi, whichever is
#: larger (decisions.md A25): rounding of the recorded figures, never a different dose.
PRIOR_COURSE_TOLERANCE_FRACTION = Decimal("0.01")
PRIOR_COURSE_TOLERANCE_MCI = Decimal("0.5")


class PriorMibgCourse(_Frozen):
    infusion_date: date
    mci_per_kg: Positive
    weight_kg: WeightKg
    total_mci: Positive | None = None

    @model_validator(mode="after")
    def _figures_agree(self) -> PriorMibgCourse:
        """mCi/kg, weight and total mCi must describe the same dose, or the lifetime total could be understated
        (decisions.md A25)."""
        if self.total_mci is None:
            return self
        product = self.mci_per_kg * self.weight_kg
        tolerance = max(product * PRIOR_COURSE_TOLERANCE_FRACTION, PRIOR_COURSE_TOLERANCE_MCI)
        if abs(self.total_mci - product) > tolerance:
            raise ValueError(
                f"mci_per_kg, weight_kg and total_mci disagree: {self.mci_per_kg} mCi/kg x {self.weight_kg} kg = "
                f"{product.normalize():f} mCi, but total_mci is {self.total_mci} mCi (they may differ by at most "
                f"{tolerance.normalize():f} mCi: 1 % or 0.5 mCi, decisions.md A25); correct the figure that is wrong")
        return self

    @property
    def counted_mci_per_kg(self) -> Decimal:
        """The mCi/kg this course counts for in the lifetime total: total mCi / weight when the total is recorded,
        rounded up to the site's step (0.001 mCi/kg) so the total is never understated; else the recorded mCi/kg
        (A14, A25; :func:`mibg.core.cumulative.course_mci_per_kg`)."""
        from mibg.core.cumulative import course_mci_per_kg

        if self.total_mci is None:
            return self.mci_per_kg
        return course_mci_per_kg(self.total_mci, self.weight_kg)


class StemCellProduct(_Frozen):
    product_type: StemCellProductType
    purged: bool = False
    total_cd34_cells: NonNegative | None = None
    total_mononuclear_cells: NonNegative | None = None
    collected_on: date | None = None
    label: str = ""
    #: The day the product was given back; an infused product no longer counts as stored (decisions.md A24).
    infused_on: date | None = None

    @model_validator(mode="after")
    def _count_for_type(self) -> StemCellProduct:
        if self.product_type is StemCellProductType.PBSC and self.total_cd34_cells is None:
            raise ValueError("a peripheral blood stem-cell product needs total_cd34_cells")
        if self.product_type is StemCellProductType.BONE_MARROW and self.total_mononuclear_cells is None:
            raise ValueError("a bone-marrow product needs total_mononuclear_cells")
        return self


class LabResult(_Frozen):
    """One result; ``uln``/``lln`` are the reporting lab's limits in the same unit as ``value``."""

    test: LabTest
    value: NonNegative
    unit: str = Field(min_length=1)
    collected_at: AwareDatetime
    uln: Positive | None = None
    lln: NonNegative | None = None

    @model_validator(mode="after")
    def _unit_accepted(self) -> LabResult:
        from mibg.core.errors import InputError
        from mibg.core.labs import conversion_factor

        try:
            conversion_factor(self.test.value, self.unit)
        except InputError as error:
            raise ValueError(error.message) from None
        return self


class Transfusion(_Frozen):
    product: TransfusionProduct
    given_at: AwareDatetime


class PerformanceStatus(_Frozen):
    scale: PerformanceScale
    score: Annotated[int, Field(ge=0, le=100)]
    assessed_on: date


class PregnancyStatus(_Frozen):
    childbearing_potential: bool
    pregnant: bool | None = None
    lactating: bool | None = None
    effective_contraception: bool | None = None
    assessed_on: date | None = None

    @model_validator(mode="after")
    def _not_contradictory(self) -> PregnancyStatus:
        """Pregnant (or lactating) and "not of childbearing potential" cannot both be true (decisions.md A23)."""
        if not self.childbearing_potential:
            for name in ("pregnant", "lactating"):
                if getattr(self, name):
                    raise ValueError(f"{name} is yes but childbearing_potential is no: the record contradicts itself; "
                                     f"correct {name} or childbearing_potential (decisions.md A23)")
        return self


class Infection(_Frozen):
    description: str = Field(min_length=1)
    ctcae_grade: Annotated[int, Field(ge=1, le=5)]
    active: bool = True


class InfectionScreen(_Frozen):
    assessed_on: date
    infections: tuple[Infection, ...] = ()


class Proteinuria(_Frozen):
    urinalysis_protein: UrinalysisProtein
    urinalysis_on: date
    urine_24h_protein_mg: NonNegative | None = None
    urine_24h_reference_upper_mg: Positive | None = None
    urine_24h_collected_on: date | None = None


class Consent(_Frozen):
    signed: bool
    signed_on: date | None = None
    signed_by: str = ""


class Attestation(_Frozen):
    """A clinician's statement on a criterion the protocol leaves to judgement (decisions.md A17)."""

    value: bool
    by: str = Field(min_length=1)
    at: AwareDatetime
    note: str = ""


class Attestations(_Frozen):
    life_expectancy_over_6_weeks: Attestation | None = None
    recovered_from_prior_toxicity: Attestation | None = None
    able_to_cooperate_with_radiation_safety: Attestation | None = None
    normal_lung_function: Attestation | None = None
    no_cardiac_dysfunction: Attestation | None = None
    no_major_organ_disease: Attestation | None = None
    significant_organ_impairment: Attestation | None = None
    cytopenia_due_to_marrow_metastasis: Attestation | None = None


class ChairDecision(_Frozen):
    """A study chair's recorded decision on a 'needs review' criterion or a clearable dose limit."""

    criterion: str = Field(min_length=1)
    cleared: bool
    by: str = Field(min_length=1)
    at: AwareDatetime
    reason: str = Field(min_length=1)


class PatientSnapshot(_Frozen):
    """The screening data of one patient for one planned course."""

    patient_id: str = ""
    birth_date: date
    sex: Sex = Sex.UNKNOWN
    weight_kg: WeightKg | None = None
    weight_measured_on: date | None = None
    diagnosis: Diagnosis | None = None
    disease_status: DiseaseStatus | None = None
    mibg_scans: tuple[MibgScan, ...] = ()
    anti_tumour_therapies: tuple[AntiTumourTherapy, ...] | None = None
    radiotherapy: tuple[Radiotherapy, ...] | None = None
    cytokines: tuple[CytokineDose, ...] | None = None
    prior_mibg_courses: tuple[PriorMibgCourse, ...] = ()
    stem_cell_products: tuple[StemCellProduct, ...] = ()
    labs: tuple[LabResult, ...] = ()
    transfusions: tuple[Transfusion, ...] = ()
    performance: PerformanceStatus | None = None
    pregnancy: PregnancyStatus | None = None
    on_hemodialysis: bool | None = None
    infection_screen: InfectionScreen | None = None
    proteinuria: Proteinuria | None = None
    consent: Consent | None = None
    attestations: Attestations = Attestations()
    chair_decisions: tuple[ChairDecision, ...] = ()
    enrolment_date: date | None = None
    planned_treatment_date: date
    planned_infusion_start: AwareDatetime | None = None
    planned_mci_per_kg: Positive | None = None

    @field_validator("weight_kg")
    @classmethod
    def _plausible_weight(cls, value: Decimal | None) -> Decimal | None:
        from mibg.core.errors import InputError
        from mibg.core.units import parse_weight_kg

        if value is None:
            return None
        try:
            return parse_weight_kg(value)
        except InputError as error:
            raise ValueError(error.message) from None

    @field_validator("weight_measured_on")
    @classmethod
    def _weighed_after_birth(cls, value: date | None, info: ValidationInfo) -> date | None:
        # The weight sets the dose (A = weight x mCi/kg); a weighing dated before the birth is a wrong date.
        born = info.data.get("birth_date")
        if value is not None and isinstance(born, date) and value < born:
            raise ValueError("is before the date of birth: check the date of the weighing")
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> PatientSnapshot:
        if self.birth_date > self.planned_treatment_date:
            raise ValueError("birth_date is after planned_treatment_date")
        if self.enrolment_date and self.enrolment_date > self.planned_treatment_date:
            raise ValueError("enrolment_date is after planned_treatment_date")
        # The 24-hour cytokine rule reads the start, every other window the date: they must be the same day (the
        # site's day, however the start is written: issues 11, 14).
        start = self.planned_infusion_start
        if start is not None and site_date(start) != self.planned_treatment_date:
            raise ValueError(f"planned_infusion_start ({start.isoformat()}) is not on planned_treatment_date "
                             f"({self.planned_treatment_date}): correct one of them")
        return self


def snapshot_json_schema() -> dict[str, object]:
    """The JSON Schema of :class:`PatientSnapshot` (documented in docs/patient-snapshot.md)."""
    return PatientSnapshot.model_json_schema()


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "PRIOR_COURSE_TOLERANCE_FRACTION",
    "PRIOR_COURSE_TOLERANCE_MCI",
    "AntiTumourTherapy",
    "Attestation",
    "Attestations",
    "ChairDecision",
    "Consent",
    "CytokineDose",
    "Diagnosis",
    "DiseaseStatus",
    "Infection",
    "InfectionScreen",
    "LabResult",
    "MibgScan",
    "NonNegative",
    "PatientSnapshot",
    "PerformanceStatus",
    "Positive",
    "PregnancyStatus",
    "PriorMibgCourse",
    "Proteinuria",
    "Radiotherapy",
    "StemCellProduct",
    "Transfusion",
    "WeightKg",
    "snapshot_json_schema",
]
