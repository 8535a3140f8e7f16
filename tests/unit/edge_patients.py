"""Patients generated at, just below and just above every threshold of a protocol definition (issue 14).

Every threshold is read from the definition given (criteria, dose limits, site windows), so a modified definition
moves the edges with it: an age threshold gives births whose birthday is the day before, the day of and the day
after the planned treatment date; a laboratory threshold gives results 0.01 below, at and 0.01 above it; a window
of days gives dates one day inside, on and one day outside its edge; and so on. Every other field varies at random
(missing, stale, contradictory where the snapshot allows it), so the criteria meet each other in every combination.
Each snapshot is validated as a snapshot from a form or a file is (``PatientSnapshot.model_validate``).

``coverage`` counts, for each threshold, how many patients were generated just below (-1), at (0) and just above (+1)
it, so a test can show that every edge was reached.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mibg.core.calendar import add_months
from mibg.core.snapshot import Attestations, PatientSnapshot
from mibg.core.vocabulary import (
    Cytokine,
    DiagnosisKind,
    DiseaseStatusCategory,
    PerformanceScale,
    RadiotherapyField,
    Sex,
    TherapyKind,
    TransfusionProduct,
    UrinalysisProtein,
)
from mibg.protocol import Criterion, ProtocolDefinition, Quantity

STEP = Decimal("0.01")
PACIFIC = timezone(timedelta(hours=-8))
#: Treatment days at the ends of months and on 29 February, where calendar months are shortest.
DAYS = [date(2026, 12, 10), date(2027, 3, 31), date(2028, 2, 29), date(2026, 8, 31), date(2027, 1, 31),
        date(2027, 5, 1), date(2028, 3, 1)]
#: A unit other than the canonical one for some tests, with the factor a canonical value is multiplied by.
OTHER_UNITS = {"anc": ("/uL", Decimal(1000)), "platelets": ("cells/uL", Decimal(1000)),
               "hemoglobin": ("g/L", Decimal(10)), "creatinine": ("umol/L", Decimal("88.4")),
               "bilirubin": ("umol/L", Decimal("17.1"))}


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "patients"
#: The examples every criterion of which is met (or needs the chair), on their treatment day.
_EXAMPLES = [(EXAMPLES / f"{name}.json").read_text(encoding="utf-8")
             for name in ("eligible-neuroblastoma", "pheo-paraganglioma", "needs-chair-review")]
EXAMPLE_DAY = date(2026, 12, 10)
#: The parts of a snapshot replaced together in a mostly eligible patient.
_PARTS = [("birth_date", "sex"), ("weight_kg", "weight_measured_on"), ("diagnosis",), ("disease_status",),
          ("anti_tumour_therapies", "radiotherapy", "mibg_scans", "enrolment_date"),
          ("cytokines", "planned_infusion_start"), ("prior_mibg_courses",), ("stem_cell_products",),
          ("labs", "transfusions"), ("performance",), ("pregnancy",), ("on_hemodialysis",), ("infection_screen",),
          ("proteinuria",), ("consent",), ("attestations",), ("chair_decisions",), ("planned_mci_per_kg",)]


def _q(criterion: Criterion, name: str) -> Decimal:
    value = criterion.params[name]
    assert isinstance(value, Quantity)
    return value.value


class PatientGenerator:
    """Valid snapshots at the edges of ``protocol``'s thresholds (seeded: the same seed gives the same patients)."""

    def __init__(self, protocol: ProtocolDefinition, seed: int) -> None:
        self.protocol = protocol
        self.rng = random.Random(seed)
        self.coverage: Counter[tuple[str, int]] = Counter()
        site = protocol.site
        self.windows = {name: int(site(name)) for name in (
            "weight_max_age_days", "lab_max_age_days", "assessment_max_age_days", "transfusion_lookback_days",
            "pregnancy_status_max_age_days", "infection_status_max_age_days")}
        self.ages: list[tuple[str, int]] = []
        self.lab_edges: list[tuple[str, str, Decimal]] = []  # (name, test, canonical value)
        self.uln_edges: list[tuple[str, str, Decimal]] = []  # (name, test, multiple of the ULN)
        self.review_ids = [c.id for c in protocol.criteria]
        by_check: dict[str, list[Criterion]] = {}
        for c in protocol.criteria:
            by_check.setdefault(c.check, []).append(c)
        for c in by_check.get("minimum_age", []):
            self.ages.append((f"{c.id} age", int(_q(c, "older_than_years"))))
        for c in by_check.get("pheo_age_range", []):
            self.ages += [(f"{c.id} lower age", int(_q(c, "older_than_years"))),
                          (f"{c.id} upper age", int(_q(c, "younger_than_years")))]
        for c in by_check.get("pregnancy", []):
            self.ages.append((f"{c.id} lactation age", int(_q(c, "lactation_asked_from_age_years"))))
        for c in by_check.get("performance_status", []):
            self.ages.append((f"{c.id} Lansky age", int(_q(c, "lansky_through_age_years"))))
            self.minimum_score = (f"{c.id} score", int(_q(c, "minimum_score")))
        for c in by_check.get("lab_threshold", []):
            self.lab_edges.append((f"{c.id} threshold", c.params["lab"], _q(c, "threshold")))
        for c in by_check.get("lab_uln_multiple", []):
            for test in c.params["labs"]:
                self.uln_edges.append((f"{c.id} {test} multiple", test, _q(c, "below_uln_multiple")))
        scan = by_check["mibg_scan"][0]
        self.scan_window = int(_q(scan, "window_days"))
        self.washout_days = int(_q(by_check["antitumour_therapy_washout"][0], "minimum_days"))
        self.radiotherapy_months = int(_q(by_check["radiotherapy_washout"][0], "minimum_months"))
        cytokines = by_check["cytokine_washout"][0]
        self.cytokine_hours = _q(cytokines, "minimum_hours")
        # Without a start time the dates must guarantee the hours (decisions.md A12): ceil(hours / 24) + 1 days.
        self.cytokine_days = -(-int(self.cytokine_hours * 3600) // 86_400) + 1
        self.review_days = int(_q(cytokines, "long_acting_review_days"))
        prior = by_check["prior_mibg"][0]
        self.prior_months = int(_q(prior, "more_than_months"))
        self.max_cumulative = _q(prior, "maximum_cumulative_mci_per_kg")
        self.minimum_course = _q(prior, "minimum_course_mci_per_kg")
        self.infection_grade = int(_q(by_check["active_infection"][0], "excluding_grade_at_least"))
        r1, s2, r2 = (protocol.dose_limit(rule) for rule in ("R1", "S2", "R2"))
        self.doses = [("R1 minimum", r1.quantity("minimum_mci_per_kg").value),
                      ("R1 maximum", r1.quantity("maximum_mci_per_kg").value),
                      ("R1 warning", r1.quantity("warn_below_mci_per_kg").value),
                      ("S2 gate", s2.quantity("gate_mci_per_kg").value),
                      ("R2 per kg", r2.quantity("maximum_mci_per_kg").value)]
        self.r2_total = r2.quantity("maximum_total_mci").value
        self.minimum_cd34 = s2.quantity("minimum_cd34_per_kg").value
        self.minimum_mnc = s2.quantity("minimum_mnc_per_kg").value

    # ---- choosing values -----------------------------------------------------------------------------------

    def near(self, name: str, value: Any, step: Any) -> Any:
        """``value`` one ``step`` below, at or one step above it, counted in :attr:`coverage`."""
        k = self.rng.choice((-1, 0, 1))
        self.coverage[(name, k)] += 1
        return value + step * k

    def maybe(self, chance: float) -> bool:
        return self.rng.random() < chance

    def flag(self) -> bool | None:
        return self.rng.choice((True, False, None))

    def moment(self, day: date, hour: int = 9) -> datetime:
        return datetime(day.year, day.month, day.day, hour, self.rng.choice((0, 30)), tzinfo=PACIFIC)

    def around(self, name: str, day: date, days: int) -> date:
        """A day ``days`` before ``day``, give or take one (counted), or one of the ends of that window."""
        return self.near(name, day - timedelta(days=days), timedelta(days=1))

    # ---- one patient ---------------------------------------------------------------------------------------

    def patient(self) -> PatientSnapshot:
        """Half the patients drawn at random in every field; half an eligible example patient with one to three
        parts replaced by drawn ones (so eligible and needs-review results are reached too)."""
        for _ in range(20):
            data = self.data()
            if self.maybe(0.5):
                data = self.mostly_eligible(data)
            try:
                return PatientSnapshot.model_validate(data)
            except ValidationError:
                continue  # a combination the snapshot refuses (e.g. weighed before birth): draw again
        raise AssertionError("no valid patient in 20 draws")

    def mostly_eligible(self, drawn: dict[str, Any]) -> dict[str, Any]:
        base = json.loads(self.rng.choice(_EXAMPLES))
        for part in self.rng.sample(_PARTS, self.rng.randint(1, 3)):
            for key in part:
                if key in drawn:
                    base[key] = drawn[key]
                else:
                    base.pop(key, None)
        if "planned_treatment_date" not in base or base["planned_treatment_date"] != drawn["planned_treatment_date"]:
            base["planned_treatment_date"] = EXAMPLE_DAY
        if "planned_infusion_start" in base and base["planned_infusion_start"] is not None:
            base["planned_infusion_start"] = base["planned_infusion_start"].replace(
                year=EXAMPLE_DAY.year, month=EXAMPLE_DAY.month, day=EXAMPLE_DAY.day)
        return base

    def data(self) -> dict[str, Any]:
        rng = self.rng
        day = rng.choice(DAYS)
        data: dict[str, Any] = {"planned_treatment_date": day, "sex": rng.choice(list(Sex))}
        data["birth_date"] = self.birth_date(day)
        weight = None if self.maybe(0.05) else rng.choice(
            [Decimal(rng.randint(30, 800)) / 10, self.r2_edge_weight(), Decimal(2), Decimal(250)])
        data["weight_kg"] = weight
        data["weight_measured_on"] = None if self.maybe(0.05) else rng.choice(
            [self.around("weight window", day, self.windows["weight_max_age_days"]), day, day + timedelta(days=1)])
        if data["weight_measured_on"] is not None and data["weight_measured_on"] < data["birth_date"]:
            data["weight_measured_on"] = day
        kind = rng.choice(list(DiagnosisKind))
        if not self.maybe(0.05):
            data["diagnosis"] = {"kind": kind, "histopathology_confirmed": self.flag(),
                                 "urine_catecholamines_elevated": self.flag(), "tumor_cells_in_bone_marrow": self.flag()}
        if not self.maybe(0.05):
            data["disease_status"] = {"category": rng.choice(list(DiseaseStatusCategory)),
                                      "failure_to_respond_to_standard_therapy": self.flag(),
                                      "progressive_disease": self.flag()}
        enrolment = None if self.maybe(0.3) else day - timedelta(days=rng.randint(0, 30))
        data["enrolment_date"] = enrolment
        planned = None if self.maybe(0.1) else self.dose()
        self.therapies(data, day, enrolment)
        self.cytokines(data, day)
        self.prior_courses(data, day, planned)
        self.stem_cells(data, weight)
        self.labs(data, day)
        self.assessments(data, day, enrolment)
        self.decisions(data)
        data["planned_mci_per_kg"] = planned
        return data

    def birth_date(self, day: date) -> date:
        rng = self.rng
        mode = rng.random()
        if mode < 0.6 and self.ages:
            name, years = rng.choice(self.ages)
            # The ``years``-th birthday the day before, on or the day after the treatment day.
            return add_months(self.near(name, day, timedelta(days=1)), -12 * years)
        if mode < 0.7:
            return rng.choice([date(2016, 2, 29), date(2020, 2, 29), date(2012, 2, 29)])
        return day - timedelta(days=rng.randint(200, 20 * 365))

    def r2_edge_weight(self) -> Decimal:
        """The weight at which the pheochromocytoma cap's two figures meet (total = per kg x weight)."""
        per_kg = self.doses[-1][1]
        return (self.r2_total / per_kg).quantize(Decimal("0.1"))

    def dose(self) -> Decimal:
        rng = self.rng
        if self.maybe(0.7):
            name, value = rng.choice(self.doses)
            return Decimal(self.near(name, value, STEP))
        return Decimal(rng.randint(700, 1900)) / 100

    def therapies(self, data: dict[str, Any], day: date, enrolment: date | None) -> None:
        rng = self.rng
        therapies = None if self.maybe(0.1) else [
            {"description": "cycle", "kind": rng.choice(list(TherapyKind)),
             "last_dose_on": rng.choice([self.around("T2 washout", day, self.washout_days),
                                         day - timedelta(days=rng.randint(0, 120))])}
            for _ in range(rng.randint(0, 2))]
        radiotherapy = None if self.maybe(0.1) else [
            {"field": rng.choice(list(RadiotherapyField)),
             "completed_on": rng.choice([self.near("T3 months", add_months(day, -self.radiotherapy_months),
                                                   timedelta(days=1)),
                                         day - timedelta(days=rng.randint(0, 400))])}
            for _ in range(rng.randint(0, 2))]
        data["anti_tumour_therapies"], data["radiotherapy"] = therapies, radiotherapy
        reference = enrolment or day
        ends = [t["last_dose_on"] for t in therapies or []] + [r["completed_on"] for r in radiotherapy or []]
        scans = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            choices = [self.around("scan window", reference, self.scan_window),
                       self.near("scan window after entry", reference + timedelta(days=self.scan_window),
                                 timedelta(days=1)),
                       reference - timedelta(days=rng.randint(0, 60))]
            if ends:
                choices.append(self.near("scan after therapy", max(ends), timedelta(days=1)))
            scans.append({"scan_date": rng.choice(choices), "avid": self.maybe(0.8), "evaluable_disease": self.maybe(0.8)})
        data["mibg_scans"] = scans

    def cytokines(self, data: dict[str, Any], day: date) -> None:
        rng = self.rng
        start = None if self.maybe(0.5) else self.moment(day)
        data["planned_infusion_start"] = start
        if self.maybe(0.1):
            data["cytokines"] = None
            return
        doses = []
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            if start is not None and self.maybe(0.6):
                seconds = int(self.cytokine_hours * 3600)
                last = self.near("T4 hours", start - timedelta(seconds=seconds), timedelta(seconds=1))
            elif self.maybe(0.5):
                last = self.moment(self.around("T4 review days", day, self.review_days), rng.randint(0, 23))
            else:
                last = self.moment(self.around("T4 calendar days", day, self.cytokine_days), rng.randint(0, 23))
            doses.append({"agent": rng.choice(list(Cytokine)), "last_dose_at": last})
        data["cytokines"] = doses

    def prior_courses(self, data: dict[str, Any], day: date, planned: Decimal | None) -> None:
        rng = self.rng
        if self.maybe(0.7):
            return
        courses = []
        planned = planned or self.dose()
        count = rng.randint(1, 2)
        for _ in range(count):
            when = rng.choice([self.near("T5 months", add_months(day, -self.prior_months), timedelta(days=1)),
                               day - timedelta(days=rng.randint(30, 900))])
            if self.maybe(0.5):  # the cumulative total lands on, just under or just over the maximum
                per_kg = self.near("T5 cumulative", (self.max_cumulative - planned) / count, STEP / count)
            elif self.maybe(0.5):
                per_kg = self.near("T5 minimum course", (self.max_cumulative - self.minimum_course) / count,
                                   STEP / count)
            else:
                per_kg = Decimal(rng.randint(8, 30))
            per_kg = max(per_kg, STEP)
            weight = Decimal(rng.randint(10, 60))
            course: dict[str, Any] = {"infusion_date": when, "mci_per_kg": per_kg, "weight_kg": weight}
            if self.maybe(0.3):
                course["total_mci"] = per_kg * weight
            courses.append(course)
        data["prior_mibg_courses"] = courses

    def stem_cells(self, data: dict[str, Any], weight: Decimal | None) -> None:
        rng = self.rng
        products = []
        per = weight or Decimal(20)
        for _ in range(rng.choice((0, 1, 1, 2))):
            if self.maybe(0.6):
                cells = self.near("S2 CD34 minimum", self.minimum_cd34 * per, Decimal(1))
                product = {"product_type": "pbsc", "total_cd34_cells": max(cells, Decimal(0))}
            else:
                cells = self.near("S2 MNC minimum", self.minimum_mnc * per, Decimal(1))
                product = {"product_type": "bone_marrow", "total_mononuclear_cells": max(cells, Decimal(0))}
            if self.maybe(0.3):  # a share of the cells in each of two bags
                product = {key: (value / 2 if isinstance(value, Decimal) else value) for key, value in product.items()}
            if self.maybe(0.1):
                product["infused_on"] = date(2025, 1, 1)
            products.append(product)
        data["stem_cell_products"] = products

    def labs(self, data: dict[str, Any], day: date) -> None:
        rng = self.rng
        labs = []
        edges = {test: [] for test in ("anc", "platelets", "hemoglobin", "bilirubin", "ast", "alt", "creatinine")}
        for name, test, value in self.lab_edges:
            edges.setdefault(test, []).append(("threshold", name, value))
        for name, test, multiple in self.uln_edges:
            edges.setdefault(test, []).append(("uln", name, multiple))
        lab_window = self.windows["lab_max_age_days"]
        for test, choices in edges.items():
            if self.maybe(0.07):
                continue
            for _ in range(rng.choice((1, 1, 1, 2))):
                uln = Decimal(rng.randint(5, 60))
                kind, name, value = rng.choice(choices) if choices and self.maybe(0.8) else ("random", "", Decimal(1))
                if kind == "threshold":
                    value = self.near(name, value, STEP)
                elif kind == "uln":
                    value = self.near(name, uln * value, STEP)
                else:
                    value = Decimal(rng.randint(1, 2000)) / 10
                value = max(value, Decimal(0))
                unit = {"anc": "10^9/L", "platelets": "10^9/L", "hemoglobin": "g/dL", "ast": "U/L", "alt": "U/L"}.get(
                    test, "mg/dL")
                if test in OTHER_UNITS and self.maybe(0.2):
                    unit, factor = OTHER_UNITS[test]
                    value, uln = value * factor, uln * factor
                collected_day = rng.choice([self.around("lab window", day, lab_window), day, day + timedelta(days=1),
                                            day - timedelta(days=rng.randint(0, lab_window))])
                lab = {"test": test, "value": value, "unit": unit, "collected_at": self.moment(collected_day, 7)}
                if not self.maybe(0.1):
                    lab["uln"] = uln
                labs.append(lab)
        rng.shuffle(labs)
        data["labs"] = labs
        lookback = self.windows["transfusion_lookback_days"]
        transfusions = []
        for _ in range(rng.choice((0, 0, 1, 2))):
            product = rng.choice(list(TransfusionProduct))
            if labs and self.maybe(0.5):  # just inside, at or just outside the look-back before a result
                collected = rng.choice(labs)["collected_at"]
                given = self.near("lookback before a result", collected - timedelta(days=lookback),
                                  timedelta(seconds=1))
            else:
                given = self.moment(self.around("lookback before treatment", day, lookback), rng.randint(0, 23))
            transfusions.append({"product": product, "given_at": given})
        data["transfusions"] = transfusions

    def assessments(self, data: dict[str, Any], day: date, enrolment: date | None) -> None:
        rng = self.rng
        window = self.windows["assessment_max_age_days"]

        def assessed() -> date:
            return rng.choice([self.around("assessment window", day, window), day, day + timedelta(days=1)])

        if not self.maybe(0.05):
            name, minimum = self.minimum_score
            data["performance"] = {"scale": rng.choice(list(PerformanceScale)),
                                   "score": min(max(self.near(name, minimum, 1) if self.maybe(0.7)
                                                    else rng.randint(0, 100), 0), 100),
                                   "assessed_on": assessed()}
        if not self.maybe(0.2):
            potential = self.maybe(0.5)
            pregnancy: dict[str, Any] = {
                "childbearing_potential": potential,
                "pregnant": self.flag() if potential else rng.choice((False, None)),
                "lactating": self.flag() if potential else rng.choice((False, None)),
                "effective_contraception": self.flag(),
                "assessed_on": None if self.maybe(0.1) else rng.choice(
                    [self.around("pregnancy window", day, self.windows["pregnancy_status_max_age_days"]), day])}
            data["pregnancy"] = pregnancy
        data["on_hemodialysis"] = rng.choice((True, False, False, False, None))
        if not self.maybe(0.05):
            data["infection_screen"] = {
                "assessed_on": rng.choice([self.around("infection window", day,
                                                       self.windows["infection_status_max_age_days"]), day]),
                "infections": [{"description": "line infection", "active": self.maybe(0.7),
                                "ctcae_grade": min(max(self.near("X4 grade", self.infection_grade, 1), 1), 5)}
                               for _ in range(rng.choice((0, 0, 1, 2)))]}
        if not self.maybe(0.3):
            upper = Decimal(rng.randint(100, 300))
            urinalysis_on = assessed()
            data["proteinuria"] = {
                "urinalysis_protein": rng.choice(list(UrinalysisProtein)), "urinalysis_on": urinalysis_on,
                "urine_24h_protein_mg": None if self.maybe(0.2) else self.near("24-hour protein", upper, STEP),
                "urine_24h_reference_upper_mg": None if self.maybe(0.1) else upper,
                "urine_24h_collected_on": None if self.maybe(0.1) else rng.choice(
                    [urinalysis_on, urinalysis_on - timedelta(days=1), day, day + timedelta(days=1)])}
        if not self.maybe(0.05):
            signed_on = rng.choice([None, day, day + timedelta(days=1), (enrolment or day) + timedelta(days=1),
                                    (enrolment or day) - timedelta(days=3)])
            data["consent"] = {"signed": self.maybe(0.9), "signed_on": signed_on}
        attestations: dict[str, Any] = {}
        for name in Attestations.model_fields:
            if self.maybe(0.1):
                continue
            at = self.moment(rng.choice([self.around("attestation window", day, window), day,
                                         day + timedelta(days=1)]), 10)
            attestations[name] = {"value": self.maybe(0.85) if name != "significant_organ_impairment"
                                  else self.maybe(0.2), "by": "Dr A. Patel", "at": at}
        data["attestations"] = attestations

    def decisions(self, data: dict[str, Any]) -> None:
        rng = self.rng
        if self.maybe(0.6):
            return
        data["chair_decisions"] = [
            {"criterion": rng.choice([*self.review_ids, "S2", "R2", "R1", "T5"]), "cleared": self.maybe(0.6),
             "by": "Dr Chair", "reason": "reviewed",
             # Several decisions at the same moment: the first of the latest counts, in both paths.
             "at": datetime(2026, 11, rng.randint(1, 3), 12, tzinfo=UTC)}
            for _ in range(rng.randint(1, 4))]

    # ---- dose requests -------------------------------------------------------------------------------------

    def request_overrides(self) -> tuple[str | None, dict[str, Any]]:
        """A preparation and request fields at the edges of the volume (R4) and duration (R6) limits."""
        rng = self.rng
        preparation = rng.choice([None, *self.protocol.preparations])
        overrides: dict[str, Any] = {}
        r4 = self.protocol.dose_limit("R4")
        if self.maybe(0.5):
            edge = rng.choice([r4.quantity("minimum_ml").value, r4.quantity("maximum_ml").value])
            overrides["final_volume_ml"] = self.near("R4 volume", edge, STEP)
        if preparation is not None and self.maybe(0.5):
            chosen = self.protocol.preparations[preparation]
            edge = rng.choice([chosen.infusion_minimum_min, chosen.infusion_maximum_min])
            overrides["infusion_min"] = self.near("R6 duration", edge, STEP)
        if self.maybe(0.1):
            overrides["specific_activity_ci_per_mmol"] = Decimal(rng.randint(5, 20))
        if self.maybe(0.05):
            overrides["final_volume_ml"] = Decimal(0)  # refused: bad input, the reference says why
        return preparation, overrides
