"""A complete sample course, built with the real core calculations, for demonstrations and tests.

The patient is the example EX-001 (examples/patients/eligible-neuroblastoma.json): 22.0 kg, 18 mCi/kg, so
396 mCi = 14652 MBq = 14.652 GBq (396 x 37 = 14652). Eligibility, the dose plan, the assay check and the
administered activity come from mibg.core; the CTCAE grades are the hand-derived grades of the values
against clinical-reference §6.1; the dosimetry follows clinical-reference §4.3 (trapezoid plus exponential
tail) on the readings of the §4.4 worked example with one more reading at 120 h. Sample data only.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from mibg.core.administration import administered_activity, check_assay
from mibg.core.dosing import DoseRequest, plan_dose
from mibg.core.eligibility import evaluate_eligibility
from mibg.core.snapshot import PatientSnapshot
from mibg.core.units import Activity
from mibg.core.verification import Prescription, verify
from mibg.protocol import load_protocol
from mibg.reports.record import (
    Administration,
    AdverseEventRecord,
    Assay,
    AssayMeasurement,
    CourseRecord,
    Directive,
    DosimetryConstant,
    DosimetrySummary,
    EligibilityRecord,
    ExposureReading,
    IndependentVerification,
    LabResult,
    PatientIdentity,
    ReleaseRecord,
    ResponseRecord,
    Signature,
    StemCellInfusion,
)

PST = timezone(timedelta(hours=-8), "PST")


def _t(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PST)


SNAPSHOT: dict[str, Any] = {
    "patient_id": "EX-001",
    "birth_date": "2020-04-17",
    "sex": "female",
    "weight_kg": "22.0",
    "weight_measured_on": "2026-12-07",
    "diagnosis": {"kind": "neuroblastoma", "diagnosed_on": "2023-02-10", "histopathology_confirmed": True},
    "disease_status": {"category": "relapsed", "progressive_disease": True,
                       "failure_to_respond_to_standard_therapy": False, "assessed_on": "2026-11-20"},
    "mibg_scans": [{"scan_date": "2026-11-18", "avid": True, "evaluable_disease": True}],
    "anti_tumour_therapies": [{"description": "topotecan/cyclophosphamide cycle 4", "last_dose_on": "2026-11-05"}],
    "radiotherapy": [{"field": "other", "completed_on": "2025-06-01"}],
    "cytokines": [{"agent": "g_csf", "last_dose_at": "2026-12-01T08:00:00-08:00"}],
    "prior_mibg_courses": [],
    "stem_cell_products": [{"product_type": "pbsc", "total_cd34_cells": "1.1E+8", "collected_on": "2023-06-01",
                            "label": "PBSC bag 1-4"}],
    "labs": [
        {"test": "anc", "value": "1.4", "unit": "10^9/L", "collected_at": "2026-12-07T07:30:00-08:00", "lln": "1.5"},
        {"test": "platelets", "value": "95", "unit": "10^9/L", "collected_at": "2026-12-07T07:30:00-08:00",
         "lln": "150"},
        {"test": "hemoglobin", "value": "10.8", "unit": "g/dL", "collected_at": "2026-12-07T07:30:00-08:00",
         "lln": "11.5"},
        {"test": "bilirubin", "value": "0.4", "unit": "mg/dL", "collected_at": "2026-12-07T07:30:00-08:00",
         "uln": "1.0"},
        {"test": "ast", "value": "42", "unit": "U/L", "collected_at": "2026-12-07T07:30:00-08:00", "uln": "50"},
        {"test": "alt", "value": "35", "unit": "U/L", "collected_at": "2026-12-07T07:30:00-08:00", "uln": "45"},
        {"test": "creatinine", "value": "0.4", "unit": "mg/dL", "collected_at": "2026-12-07T07:30:00-08:00",
         "uln": "0.7"},
    ],
    "transfusions": [{"product": "red_cells", "given_at": "2026-12-04T14:00:00-08:00"}],
    "performance": {"scale": "lansky", "score": 80, "assessed_on": "2026-12-07"},
    "pregnancy": {"childbearing_potential": False, "assessed_on": "2026-12-07"},
    "on_hemodialysis": False,
    "infection_screen": {"assessed_on": "2026-12-07", "infections": []},
    "consent": {"signed": True, "signed_on": "2026-11-25", "signed_by": "mother (legal guardian)"},
    "attestations": {
        name: {"value": value, "by": "Dr A. Patel", "at": "2026-12-07T10:00:00-08:00"}
        for name, value in (
            ("life_expectancy_over_6_weeks", True),
            ("recovered_from_prior_toxicity", True),
            ("able_to_cooperate_with_radiation_safety", True),
            ("normal_lung_function", True),
            ("no_cardiac_dysfunction", True),
            ("no_major_organ_disease", True),
            ("significant_organ_impairment", False),
        )
    },
    "enrolment_date": "2026-11-26",
    "planned_treatment_date": "2026-12-10",
    "planned_mci_per_kg": "18",
}

PHYSICIAN = "Dr A. Patel"
PHYSICIST = "R. Chen, MS DABR"
INFUSION_START = _t(10, 10, 0)
INFUSION_END = _t(10, 10, 30)

#: (hours from the start of the infusion, mR/h at 1 m): clinical-reference §4.4 plus a reading at 120 h.
READINGS = ((Decimal("0.5"), Decimal("60.0")), (Decimal(24), Decimal("29.0")), (Decimal(48), Decimal("14.1")),
            (Decimal(72), Decimal("7.0")), (Decimal(96), Decimal("3.5")), (Decimal(120), Decimal("1.7")))

#: (test, value in the canonical unit, collected, lln, uln, CTCAE v5.0 grade by hand from clinical-reference §6.1).
LABS = (
    ("anc", "1.4", _t(7, 7, 30), "1.5", None, 1),  # < LLN - 1.5
    ("platelets", "95", _t(7, 7, 30), "150", None, 1),  # < LLN - 75
    ("hemoglobin", "10.8", _t(7, 7, 30), "11.5", None, 1),  # < LLN - 10.0
    ("bilirubin", "0.4", _t(7, 7, 30), None, "1.0", 0),
    ("ast", "42", _t(7, 7, 30), None, "50", 0),
    ("alt", "35", _t(7, 7, 30), None, "45", 0),
    ("creatinine", "0.4", _t(7, 7, 30), None, "0.7", 0),
    ("anc", "0.3", _t(24, 9), "1.5", None, 4),  # < 0.5
    ("platelets", "18", _t(24, 9), "150", None, 4),  # < 25
    ("hemoglobin", "7.8", _t(24, 9), "11.5", None, 3),  # < 8.0
    ("anc", "0.9", datetime(2027, 1, 7, 9, 30, tzinfo=PST), "1.5", None, 3),  # < 1.0 - 0.5
    ("platelets", "45", datetime(2027, 1, 7, 9, 30, tzinfo=PST), "150", None, 3),  # < 50 - 25
    ("hemoglobin", "9.4", datetime(2027, 1, 7, 9, 30, tzinfo=PST), "11.5", None, 2),  # < 10.0 - 8.0
)


def sample_patient() -> PatientIdentity:
    return PatientIdentity(family="Example", given="Ava", mrn="EX-001", birth_date=date(2020, 4, 17), sex="female")


def sample_course() -> CourseRecord:
    """Course 1 of EX-001 from eligibility to response, every section filled."""
    protocol = load_protocol()
    snapshot = PatientSnapshot.model_validate(SNAPSHOT)
    eligibility = evaluate_eligibility(snapshot, protocol)
    weight = Decimal("22.0")
    plan = plan_dose(DoseRequest(
        weight_kg=weight, mci_per_kg=Decimal(18), preparation="azedra", final_volume_ml=Decimal(30),
        infusion_min=Decimal(30), cd34_per_kg=Decimal("1.1E+8") / weight, treatment_date=date(2026, 12, 10),
        calibration_time=_t(9, 12), administration_time=INFUSION_START), protocol)
    prescribed = plan.activity
    signed = Signature(PHYSICIAN, "Authorised user (physician)", _t(9, 16, 0),
                       "I direct the administration of this dosage (10 CFR 35.40)")
    check = verify(Prescription(weight, Decimal(18), prescribed.mci), signed_by=PHYSICIAN, verifier=PHYSICIST,
                   weight_kg="22.0", mci_per_kg="18")
    directive = Directive(
        plan=plan, weight_kg=weight, weight_measured_on=date(2026, 12, 7),
        preparation=protocol.preparations["azedra"].name, lot="AZ-26-1187", specific_activity=Decimal(2500),
        specific_activity_unit="mCi/mg", signatures=(signed,),
        verification=IndependentVerification(
            Signature(PHYSICIST, "Medical physicist (verifier)", _t(9, 16, 40),
                      "I verified the directive independently (10 CFR 35.41)"),
            check.accepted, check.message, Decimal("22.0"), Decimal(18)))
    assay_check = check_assay(prescribed, "399.8", _t(10, 8, 30), INFUSION_START, protocol)
    pre = AssayMeasurement(Decimal("399.8"), _t(10, 8, 30), "Capintec CRC-55tR #2",
                           assay_check.corrected.mci)
    given = administered_activity(prescribed, "399.8", _t(10, 8, 30), "4.1", _t(10, 11, 15), INFUSION_START, protocol)
    residual = AssayMeasurement(Decimal("4.1"), _t(10, 11, 15), "Capintec CRC-55tR #2", given.residual.activity_to.mci)
    nurse = Signature("N. Okafor, RN", "Nurse (administration)", _t(10, 10, 35), "I administered this dose as recorded")
    readings = tuple(ExposureReading(INFUSION_START + timedelta(hours=float(h)), rate,
                                     "after the end of the infusion, before the first void" if i == 0 else "")
                     for i, (h, rate) in enumerate(READINGS))
    return CourseRecord(
        patient=sample_patient(),
        course_number=1,
        protocol_label=protocol.label,
        document_time=_t(15, 17, 0, month=1, year=2027),
        site="UCSF Benioff Children's Hospital (sample)",
        eligibility=EligibilityRecord(eligibility, _t(8, 9, 0), signatures=(
            Signature(PHYSICIAN, "Treating physician (investigator)", _t(8, 9, 5),
                      "I reviewed every criterion and confirm eligibility"),)),
        directive=directive,
        assay=Assay("AZ-26-1187", _t(9, 12), pre, assay_check.within_tolerance, assay_check.message,
                    Signature("M. Lopez, PharmD", "Nuclear pharmacist", _t(10, 8, 35), "I assayed this dose")),
        administration=_administration(given, residual, nurse),
        readings=readings,
        release=ReleaseRecord(
            basis="Measured dose rate at 1 m at or below the site limit (decisions.md 'Release')",
            criterion="<= 2 mR/h at 1 m (site limit; federal 7 mR/h, 10 CFR 35.75)",
            released_at=_t(15, 10, 30), last_reading_mr_per_h_at_1m=Decimal("1.7"), instructions_given=True,
            signature=Signature(PHYSICIST, "Radiation safety officer's delegate", _t(15, 10, 20),
                                "I authorise the release on the basis recorded")),
        dosimetry=sample_dosimetry(given.administered.mci, weight),
        labs=tuple(LabResult(test, Decimal(v), at, None if lln is None else Decimal(lln),
                             None if uln is None else Decimal(uln), grade) for test, v, at, lln, uln, grade in LABS),
        adverse_events=(
            AdverseEventRecord("Platelet count decreased", 4, _t(24, 9), False, "probable", "resolved",
                               "Nadir 18 x 10^9/L; platelet transfusions"),
            AdverseEventRecord("Neutrophil count decreased", 4, _t(24, 9), False, "probable", "recovering",
                               "Nadir 0.3 x 10^9/L"),
            AdverseEventRecord("Nausea", 1, _t(10, 14), False, "possible", "resolved", ""),
        ),
        response=ResponseRecord(date(2027, 2, 4), "PR", "INRC 2017", "MIBG Curie score 12 -> 5"),
        stem_cell_infusion=StemCellInfusion(_t(24, 11), "Autologous PBSC (bags 1-2)", Decimal("2.5E+6"),
                                            "Planned rescue 14 days after MIBG (decisions.md)"),
    )


def _administration(given: Any, residual: AssayMeasurement, nurse: Signature) -> Administration:
    return Administration(
        start=INFUSION_START, end=INFUSION_END, administered_mci=given.administered.mci, volume_ml=Decimal(30),
        route="intravenous", access="central venous line", residual=residual,
        deviation_percent=given.deviation_percent, possible_medical_event=given.possible_medical_event,
        deviations=(), signature=nurse)


def sample_dosimetry(administered_mci: Decimal, weight_kg: Decimal) -> DosimetrySummary:
    """Trapezoid plus exponential tail (clinical-reference §4.3 step 2) and D = A0 tau E / m (step 5)."""
    protocol = load_protocol()
    hours = [h for h, _ in READINGS]
    first = READINGS[0][1]
    r = [rate / first for _, rate in READINGS]
    area = hours[0]  # r = 1 from the start of the infusion to the first reading (decisions.md)
    for i in range(1, len(r)):
        area += (r[i - 1] + r[i]) / 2 * (hours[i] - hours[i - 1])
    decay = Decimal(repr(math.log(float(READINGS[-2][1] / READINGS[-1][1])) / float(hours[-1] - hours[-2])))
    tiac_h = area + r[-1] / decay
    t_eff = Decimal(repr(math.log(2))) / decay
    e_electron = protocol.constant("mean_electron_energy_mev")
    e_photon = protocol.constant("mean_photon_energy_mev")
    joule = protocol.constant("joule_per_mev")
    phi = Decimal("0.25")
    per_kg = Activity(administered_mci).bq * tiac_h * 3600 / weight_kg
    return DosimetrySummary(
        method="Exposure-rate readings at 1 m; trapezoid plus exponential tail (clinical-reference §4.3); "
               "D = A0 x tau x (E_e + phi x E_gamma) / m",
        tiac_h=tiac_h.quantize(Decimal("0.01")),
        effective_half_lives_h=(t_eff.quantize(Decimal("0.1")),),
        whole_body_dose_gy=(per_kg * (e_electron + phi * e_photon) * joule).quantize(Decimal("0.01")),
        electron_only_dose_gy=(per_kg * e_electron * joule).quantize(Decimal("0.01")),
        photon_absorbed_fraction=phi,
        body_mass_kg=weight_kg,
        constants=tuple(DosimetryConstant(name, protocol.constant(name), protocol.constants[name].unit,
                                          protocol.constants[name].source)
                        for name in ("mean_electron_energy_mev", "mean_photon_energy_mev", "joule_per_mev")),
    )
