"""A synthetic programme for measuring the application at scale (``mibg generate-programme``).

Every record is marked as synthetic: MRNs start with ``SYN-``, patients are called "Synthetic 00001", the
staff who "entered" them are the users ``synthetic-<role>`` (no usable password), and each lab result says
where it came from in ``source_detail``. The generator refuses a database that holds any patient, so it can
never mix invented records with real ones.

The clinical numbers are not copied from a template: each course's screening is evaluated, its dose planned,
its assay and administration checked and its readings fitted by mibg.core, exactly as the services do, so a
generated course reads like one entered through the pages. What is faster than the services is the storing:
rows are written with ``bulk_create`` in batches, one transaction for the whole run.

Audit trail (a choice, stated here and in the README): one ``create`` event per generated patient, whose note
says the patient and every record of its courses are synthetic and were made by this generator with its seed,
plus one summary event for the run. Field-by-field events for a million synthetic lab values would only
measure the audit table; the trail still says, for every patient, where its records came from.

Deterministic: the same seed and the same ``as_of`` date give the same records (ids aside).
"""

from __future__ import annotations

import json
import math
import random
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from mibg.core.administration import administered_activity, check_assay
from mibg.core.course_grades import grade_course, grade_text, screening_values
from mibg.core.decay import activity_to_draw_at_calibration
from mibg.core.dosing import dose_request_from_snapshot, plan_dose
from mibg.core.eligibility import evaluate_eligibility
from mibg.core.identity import mrn_key
from mibg.core.labs import LABS, lab_value
from mibg.core.snapshot import PatientSnapshot
from mibg.core.units import Activity
from mibg.core.verification import Prescription, verify
from mibg.protocol import load_protocol
from mibg.web import permissions as p
from mibg.web.accounts.models import User
from mibg.web.audit.models import AuditEvent
from mibg.web.courses.models import Course, StateChange
from mibg.web.demo import at, ensure_roles, snapshot_data
from mibg.web.directives import services as directive_services
from mibg.web.directives.models import Verification, WrittenDirective
from mibg.web.followup import services as followup
from mibg.web.followup.models import CountRecovery, LabResult
from mibg.web.patients.models import Patient
from mibg.web.radiation import services as radiation
from mibg.web.radiation.models import ExposureReading, ReleaseRecord
from mibg.web.screening.models import Evaluation
from mibg.web.treatment.models import Administration, Assay, administration_fields

BATCH = 5000
MRN_PREFIX = "SYN-"

#: Role -> (username, printed name) of the synthetic staff who "entered" the generated records.
STAFF = {
    p.NURSE: ("synthetic-nurse", "Synthetic Nurse, RN"),
    p.PHYSICIAN: ("synthetic-physician", "Synthetic Physician, MD"),
    p.PHYSICIST: ("synthetic-physicist", "Synthetic Physicist, PhD"),
    p.PHARMACIST: ("synthetic-pharmacist", "Synthetic Pharmacist, PharmD"),
}

#: The states a patient's last course can be in, with their share of all courses (the rest are closed).
#: Most courses are closed, some are in follow-up, a few are on their way (issue 7).
OPEN_SHARES = [("follow-up", 0.08), ("screening", 0.004), ("eligible", 0.004), ("directive signed", 0.004),
               ("verified", 0.003), ("assayed", 0.002), ("administered", 0.002), ("in-patient", 0.004),
               ("released", 0.004)]
ORDER = ["screening", "eligible", "directive signed", "verified", "assayed", "administered", "in-patient", "released",
         "follow-up", "closed"]
STEPS = [  # event, state it reaches
    ("confirm_eligibility", "eligible"), ("sign_directive", "directive signed"), ("verify", "verified"),
    ("accept_assay", "assayed"), ("administer", "administered"), ("admit", "in-patient"), ("release", "released"),
    ("start_follow_up", "follow-up"), ("close", "closed")]
#: Days of follow-up with labs for a closed course, and how long after the infusion it was closed.
CLOSED_FOLLOW_UP_DAYS = 120
CBC = ("anc", "platelets", "hemoglobin")
CHEMISTRY = ("bilirubin", "ast", "alt", "creatinine")


class GenerateRefused(Exception):
    """The database is not one a synthetic programme may be written into."""


@dataclass
class Counts:
    patients: int = 0
    courses: int = 0
    states: dict[str, int] = field(default_factory=dict)
    evaluations: int = 0
    directives: int = 0
    administrations: int = 0
    readings: int = 0
    releases: int = 0
    labs: int = 0
    audit_events: int = 0
    seconds: float = 0.0


@dataclass
class _Plan:
    """One course before it is stored: the numbers the core computed for it."""

    patient_index: int
    number: int
    state: str
    treatment_day: date
    weight: Decimal
    mci_per_kg: Decimal
    lab_share: float = 0.0
    course: Course | None = None
    administration: Administration | None = None
    readings: list[ExposureReading] = field(default_factory=list)
    labs: list[Any] = field(default_factory=list)
    screening: list[Any] = field(default_factory=list)  # the screening's lab values (baselines, decisions.md A33)


def _staff() -> dict[str, User]:
    ensure_roles()
    from django.contrib.auth.models import Group

    people = {}
    for role, (username, printed) in STAFF.items():
        user, made = User.objects.get_or_create(username=username, defaults={"printed_name": printed,
                                                                             "first_name": "Synthetic"})
        if made:
            user.set_unusable_password()  # nobody logs in as the generator
            user.save(update_fields=["password"])
            user.groups.set(Group.objects.filter(name=role))
        people[role] = user
    return people


def _bulk(model: Any, rows: list[Any]) -> list[Any]:
    created: list[Any] = model.objects.bulk_create(rows, batch_size=BATCH)
    return created


def _course_states(rng: random.Random, patients: int, courses: int) -> list[list[str]]:
    """Courses per patient (1 to 4, at least one each) and their states: all closed but possibly the last."""
    per_patient = [1] * patients
    extra = courses - patients
    candidates = list(range(patients))
    while extra > 0:
        i = rng.choice(candidates)
        if per_patient[i] < 4:
            per_patient[i] += 1
            extra -= 1
        else:
            candidates.remove(i)
    open_states: list[str] = []
    for state, share in OPEN_SHARES:
        open_states += [state] * round(share * courses)
    open_states = open_states[:patients]
    last_open = rng.sample(range(patients), len(open_states))
    states = [["closed"] * n for n in per_patient]
    for i, state in zip(last_open, open_states, strict=True):
        states[i][-1] = state
    return states


def _last_day(rng: random.Random, state: str, as_of: date) -> date:
    """The treatment day of a patient's last course, so that its state is plausible on ``as_of``."""
    if ORDER.index(state) <= ORDER.index("verified"):
        return as_of + timedelta(days=3)
    if state in ("assayed", "administered"):
        return as_of
    if state == "in-patient":
        return as_of - timedelta(days=1)
    if state == "released":  # released from isolation, follow-up not started yet
        return as_of - timedelta(days=14)
    if state == "follow-up":
        return as_of - timedelta(days=rng.randint(10, 100))
    return as_of - timedelta(days=rng.randint(CLOSED_FOLLOW_UP_DAYS + 10, 900))


def _weight_for_age(rng: random.Random, years: float) -> Decimal:
    return Decimal(f"{max(9.0, min(60.0, 8 + 2.6 * years + rng.gauss(0, 2.5))):.1f}")


def _snapshot(patient: Patient, plan: _Plan, prior: list[dict[str, str]], rng: random.Random) -> PatientSnapshot:
    data = snapshot_data(plan.treatment_day, weight=str(plan.weight), mci_per_kg=str(plan.mci_per_kg),
                         attester=STAFF[p.PHYSICIAN][1])
    # Enough CD34+ cells for the dose (>= 2e6/kg above 12 mCi/kg, clinical-reference §2.4), varied per patient.
    data["stem_cell_products"][0]["total_cd34_cells"] = f"{plan.weight * Decimal(rng.randint(30, 80)) * 10**5:.3E}"
    data["stem_cell_products"][0]["label"] = "Synthetic PBSC product"
    data["stem_cell_products"][0]["collected_on"] = (plan.treatment_day - timedelta(days=1200 - 0)).isoformat()
    data["prior_mibg_courses"] = prior
    data.update({"patient_id": patient.mrn, "birth_date": patient.birth_date.isoformat(), "sex": patient.sex})
    return PatientSnapshot.model_validate({**data, "chair_decisions": []})


def _readings(rng: random.Random, plan: _Plan, administration: Administration, user: User,
              now: datetime, n: int) -> list[ExposureReading]:
    """``n`` readings at 1 m, evenly spaced from the end of the infusion until the rate is under the site limit
    (2 mR/h), mono-exponential with an effective half-life of 18-30 h and 3 % noise; an in-patient has those
    taken so far."""
    start = administration.started_at
    r0 = float(administration.administered_mci) * rng.uniform(0.13, 0.17)  # mR/h at 1 m per mCi, as the worked example
    half = rng.uniform(18, 30)
    first = 2.0  # hours after the start: the end of the infusion, before the first void
    release_h = math.ceil((first + half * math.log2(r0 / 1.6)) / 6) * 6
    hours = [first] + [round(first + (release_h - first) * k / (n - 1), 2) for k in range(1, n)]
    rows = []
    for i, h in enumerate(hours):
        measured_at = start + timedelta(hours=h)
        if measured_at > now:
            break
        rate = r0 * 2 ** (-(h - first) / half) * (1 if i == 0 else math.exp(rng.gauss(0, 0.03)))
        if i == len(hours) - 1:
            rate = min(rate, 1.9)
        rows.append(ExposureReading(
            course=plan.course, measured_at=measured_at, mr_per_h=Decimal(f"{rate:.2f}"), before_first_void=i == 0,
            instrument_id="SYN-METER-1", instrument_calibration_due=plan.treatment_day + timedelta(days=180),
            measured_by=STAFF[p.PHYSICIST][1], recorded_by=user, recorded_at=measured_at + timedelta(minutes=5)))
    return rows


class _LabMaker:
    """Labs over the follow-up days: blood counts fall to a nadir around day 28-35 and recover (clinical-reference
    §4), chemistry stays near normal. Values are entered in the canonical units and read by mibg.core.labs."""

    RANGES = {"anc": ("1.5", ""), "platelets": ("150", ""), "hemoglobin": ("11.5", ""), "bilirubin": ("", "1.0"),
              "ast": ("", "50"), "alt": ("", "45"), "creatinine": ("", "0.7")}

    def __init__(self, seed: int, user: User) -> None:
        self.seed = seed
        self.user = user
        self.cache: dict[tuple[str, str], tuple[str, str, str]] = {}
        self.detail = f"synthetic: mibg generate-programme --seed {seed}"

    def _canonical(self, test: str, value: str) -> tuple[str, str, str]:
        key = (test, value)
        if key not in self.cache:
            lln, uln = self.RANGES[test]
            lab = lab_value(test, value, LABS[test].display_unit, lln=lln or None, uln=uln or None)
            self.cache[key] = (str(lab.value), "" if lab.lln is None else str(lab.lln), "" if lab.uln is None else str(lab.uln))
        return self.cache[key]

    def for_course(self, rng: random.Random, plan: _Plan, infusion: datetime, quota: int, last_day: int,
                   now: datetime) -> Iterator[LabResult]:
        base = {"anc": rng.uniform(1.2, 3.5), "platelets": rng.uniform(90, 300), "hemoglobin": rng.uniform(9.5, 12.5)}
        nadir = {"anc": rng.uniform(0.1, 1.0), "platelets": rng.uniform(8, 70), "hemoglobin": rng.uniform(7.2, 9.0)}
        nadir_day = rng.uniform(24, 38)
        draws = math.ceil(quota / 5) + 1  # 3 blood counts at every draw, 4 chemistry values at every other one
        made = 0
        for k in range(draws):
            day = 1 + (last_day - 1) * k / max(1, draws - 1)
            collected = infusion + timedelta(days=day, hours=-2 + rng.random())
            if collected > now - timedelta(hours=1):
                break
            dip = math.exp(-(((day - nadir_day) / 12) ** 2))
            values = {t: base[t] - (base[t] - nadir[t]) * dip for t in CBC}
            tests = list(CBC) + (list(CHEMISTRY) if k % 2 == 0 else [])
            for test in tests:
                if made >= quota:
                    return
                if test == "anc":
                    text = f"{max(0.01, values['anc'] * rng.uniform(0.9, 1.1)):.2f}"
                elif test == "platelets":
                    text = f"{max(2, values['platelets'] * rng.uniform(0.9, 1.1)):.0f}"
                elif test == "hemoglobin":
                    text = f"{values['hemoglobin'] * rng.uniform(0.97, 1.03):.1f}"
                elif test == "bilirubin":
                    text = f"{rng.uniform(0.2, 0.9):.1f}"
                elif test == "creatinine":
                    text = f"{rng.uniform(0.2, 0.6):.2f}"
                else:
                    text = f"{rng.uniform(15, 60):.0f}"
                canonical, lln, uln = self._canonical(test, text)
                definition = LABS[test]
                low, high = self.RANGES[test]
                made += 1
                yield LabResult(course=plan.course, test=test, loinc=definition.loinc, value=text,
                                unit=definition.display_unit, lln=low, uln=high, ucum=definition.ucum,
                                value_canonical=canonical, lln_canonical=lln, uln_canonical=uln, collected_at=collected,
                                source=LabResult.CSV, source_detail=self.detail, entered_by=self.user,
                                entered_at=min(now, collected + timedelta(hours=3)))


def generate(*, patients: int, courses: int, labs: int, readings: int = 200_000, seed: int = 1,
             as_of: date | None = None, say: Callable[[str], None] = lambda _: None) -> Counts:
    """Write a synthetic programme; refuses (:class:`GenerateRefused`) a database that holds any patient.

    ``readings`` is the number of exposure-rate readings aimed at, shared evenly over the courses that reached the
    in-patient stay (at least 2 each, as a fit needs; in-patients have only those taken so far); 0 for none."""
    if Patient.objects.exists():
        raise GenerateRefused("the database already holds patients; a synthetic programme is written only into an "
                              "empty database (never beside real records)")
    started = clock.perf_counter()
    with transaction.atomic():
        counts = _generate(patients, courses, labs, readings, seed, as_of or timezone.localdate(), say)
    with connection.cursor() as cursor:
        # Fresh statistics for the query planner: without them PostgreSQL read a course's labs through the
        # index of who entered them (200,000 rows each) instead of the course's (bench/RESULTS.md).
        cursor.execute("ANALYZE")
    counts.seconds = clock.perf_counter() - started
    return counts


def _generate(n_patients: int, n_courses: int, n_labs: int, n_readings: int, seed: int, as_of: date,
              say: Callable[[str], None]) -> Counts:
    rng = random.Random(seed)
    protocol = load_protocol()
    staff = _staff()
    nurse, physician, physicist, pharmacist = (staff[r] for r in (p.NURSE, p.PHYSICIAN, p.PHYSICIST, p.PHARMACIST))
    now = timezone.now()
    counts = Counts()
    width = max(5, len(str(n_patients)))

    # ---- patients and the shape of their courses ----
    states = _course_states(rng, n_patients, n_courses)
    patients, plans = [], []
    for i, course_states in enumerate(states):
        last = _last_day(rng, course_states[-1], as_of)
        days = [last]
        for _ in course_states[1:]:
            days.insert(0, days[0] - timedelta(days=rng.randint(200, 420)))  # more than 6 months apart (protocol)
        age_at_first = rng.uniform(1.5, 14)
        birth = days[0] - timedelta(days=round(age_at_first * 365.25))
        mrn = f"{MRN_PREFIX}{i + 1:0{width}d}"
        patients.append(Patient(mrn=mrn, mrn_key=mrn_key(mrn), given_name="Synthetic",
                                family_name=f"{i + 1:0{width}d}", birth_date=birth, sex=rng.choice(["female", "male"]),
                                created_at=at(days[0] - timedelta(days=30), 9), created_by=nurse))
        cumulative = Decimal(0)
        for number, (state, day) in enumerate(zip(course_states, days, strict=True), start=1):
            years = (day - birth).days / 365.25
            # mCi/kg: 12-18 for a first course, less later; the lifetime total stays under 60 mCi/kg (protocol).
            choices = [Decimal(x) for x in (("12", "15", "18") if number == 1 else ("8", "10", "12"))]
            mci_per_kg = rng.choice([c for c in choices if cumulative + c <= 54] or [Decimal(8)])
            cumulative += mci_per_kg
            plans.append(_Plan(i, number, state, day, _weight_for_age(rng, years), mci_per_kg))
    patients = _bulk(Patient, patients)
    counts.patients = len(patients)
    say(f"  {len(patients)} patients")

    # ---- courses, screening, directives, verification, assay, administration (the core computes each) ----
    course_rows, evaluations, directives = [], [], []
    prior: dict[int, list[dict[str, str]]] = {}
    computed = []
    for plan in plans:
        patient = patients[plan.patient_index]
        t = plan.treatment_day
        snapshot = _snapshot(patient, plan, list(prior.get(plan.patient_index, [])), rng)
        stored = snapshot.model_copy(update={"chair_decisions": ()})
        course = Course(patient=patient, number=plan.number, state=plan.state, planned_treatment_date=t,
                        snapshot_json=stored.model_dump_json(), created_at=at(t - timedelta(days=20), 9), created_by=nurse,
                        closed_reason="Follow-up complete (synthetic course)" if plan.state == "closed" else "",
                        version=2 + ORDER.index(plan.state))
        plan.course = course
        course_rows.append(course)
        result = evaluate_eligibility(snapshot, protocol)
        if str(result.overall) != "eligible":
            raise RuntimeError(f"generated course {patient.mrn}/{plan.number} is not eligible: {result.overall}")
        dose = None
        if ORDER.index(plan.state) >= ORDER.index("directive signed"):
            entry = directive_services.DirectiveInput(plan.mci_per_kg, "draximage", Decimal("12"), Decimal("50"),
                                                      Decimal("100"), "central_line", at(t, 7), at(t, 9))
            dose = plan_dose(dose_request_from_snapshot(
                snapshot, mci_per_kg=plan.mci_per_kg, preparation="draximage", specific_activity_ci_per_mmol=Decimal(12),
                final_volume_ml=Decimal(50), infusion_min=Decimal(100), calibration_time=entry.calibration_time,
                administration_time=entry.administration_time, protocol=protocol))
            if dose.blocked:
                raise RuntimeError(f"generated course {patient.mrn}/{plan.number}: the dose plan is blocked")
            if ORDER.index(plan.state) >= ORDER.index("administered"):
                prior.setdefault(plan.patient_index, []).append({
                    "infusion_date": t.isoformat(), "mci_per_kg": str(plan.mci_per_kg), "weight_kg": str(plan.weight),
                    "total_mci": str(dose.activity.mci)})
        computed.append((plan, snapshot, result, dose))
    course_rows = _bulk(Course, course_rows)
    counts.courses = len(course_rows)
    for plan in plans:
        counts.states[plan.state] = counts.states.get(plan.state, 0) + 1
    say(f"  {len(course_rows)} courses")

    steps = []
    for plan, snapshot, result, dose in computed:
        assert plan.course is not None
        course, t = plan.course, plan.treatment_day
        evaluations.append(Evaluation(course=course, snapshot_json=snapshot.model_dump_json(),
                                      result_json=json.dumps(result.to_json()), overall=str(result.overall),
                                      protocol_label=result.protocol_label, evaluated_by=nurse,
                                      evaluated_at=at(t - timedelta(days=3), 11)))
        plan.screening = screening_values(json.loads(evaluations[-1].snapshot_json).get("labs") or [])
        if dose is not None:
            entry = directive_services.DirectiveInput(plan.mci_per_kg, "draximage", Decimal("12"), Decimal("50"),
                                                      Decimal("100"), "central_line", at(t, 7), at(t, 9))
            name = physician.signature_name()
            directives.append(WrittenDirective(
                course=course, version=1, weight_kg=dose.request.weight_kg, mci_per_kg=plan.mci_per_kg,
                activity_mci=dose.activity.mci, preparation="draximage", specific_activity_ci_per_mmol=Decimal(12),
                final_volume_ml=Decimal(50), infusion_min=Decimal(100), route="central_line",
                calibration_time=entry.calibration_time, administration_time=entry.administration_time,
                plan_json=json.dumps(dose.to_json()), protocol_label=dose.protocol_label,
                signed_by=physician, signed_name=name, signed_at=at(t - timedelta(days=1), 15),
                signature_meaning=directive_services.signature_meaning(name, course, entry, dose)))
        moments = {"confirm_eligibility": at(t - timedelta(days=3), 12), "sign_directive": at(t - timedelta(days=1), 15),
                   "verify": at(t - timedelta(days=1), 17), "accept_assay": at(t, 7, 45), "administer": at(t, 10, 45),
                   "admit": at(t, 10, 50)}
        before = "screening"
        for event, reached in STEPS:
            if ORDER.index(reached) > ORDER.index(plan.state):
                break
            if event in moments:  # release, follow-up and close are dated once the readings are known
                who = {"verify": physicist, "accept_assay": pharmacist, "admit": nurse}.get(event, physician)
                steps.append(StateChange(course=course, event=event, from_state=before, to_state=reached, by=who,
                                         at=moments[event], occurred_at=at(t, 9) if event == "administer" else None,
                                         note="synthetic course"))
            before = reached
    counts.evaluations = len(_bulk(Evaluation, evaluations))
    directives = _bulk(WrittenDirective, directives)
    counts.directives = len(directives)
    by_course = {d.course_id: d for d in directives}
    say(f"  {counts.evaluations} screening evaluations, {counts.directives} signed directives")

    verifications, assays = [], []
    for plan, *_ in computed:
        d = by_course.get(plan.course.pk) if plan.course else None
        if d is None:
            continue
        t = plan.treatment_day
        if ORDER.index(plan.state) >= ORDER.index("verified"):
            check = verify(Prescription(d.weight_kg, d.mci_per_kg, d.activity_mci), signed_by=str(physician.pk),
                           verifier=str(physicist.pk), weight_kg=d.weight_kg, mci_per_kg=d.mci_per_kg)
            verifications.append(Verification(directive=d, by=physicist, signed_name=physicist.signature_name(),
                                              at=at(t - timedelta(days=1), 17), weight_kg=d.weight_kg,
                                              mci_per_kg=d.mci_per_kg, result_json=check.to_json()))
        if ORDER.index(plan.state) >= ORDER.index("assayed"):
            half_life = protocol.constant("i131_half_life_days")
            measured_at = at(t, 7, 30)
            drawn = activity_to_draw_at_calibration(Activity(d.activity_mci), measured_at, d.administration_time, half_life)
            measured = (drawn.activity_to.mci * Decimal(str(round(rng.uniform(0.97, 1.03), 3)))).quantize(Decimal("0.1"))
            check_a = check_assay(d.activity, measured, measured_at, d.administration_time)
            assays.append(Assay(course=plan.course, directive=d, lot=f"SYN-LOT-{d.course_id}", calibration_time=at(t, 7),
                                specific_activity=Decimal(12), specific_activity_unit="Ci/mmol",
                                calibrator_id="SYN-CALIBRATOR-1", result_json=check_a.to_json(),
                                recorded_by=pharmacist, recorded_at=at(t, 7, 40)))
    _bulk(Verification, verifications)
    assays = _bulk(Assay, assays)
    assay_of = {a.course_id: a for a in assays}

    administrations = []
    for plan in plans:
        assert plan.course is not None
        if ORDER.index(plan.state) < ORDER.index("administered"):
            continue
        d, a, t = by_course[plan.course.pk], assay_of[plan.course.pk], plan.treatment_day
        residual = Decimal(f"{rng.uniform(1.0, 4.0):.1f}")
        started, ended, residual_at = at(t, 9), at(t, 10, 40), at(t, 11)
        given = administered_activity(d.activity, a.measured_mci, a.measured_at, residual, residual_at, started)
        plan.administration = Administration(
            course=plan.course, directive=d, assay=a, ended_at=ended, route="central_line",
            volume_ml=Decimal(50), **administration_fields(given), recorded_by=nurse,
            recorded_at=at(t, 10, 45))
        administrations.append(plan.administration)
    counts.administrations = len(_bulk(Administration, administrations))
    say(f"  {counts.administrations} administrations")

    # ---- readings, the signed release, and the steps after it ----
    readings: list[ExposureReading] = []
    stays = [plan for plan in plans
             if plan.administration is not None and ORDER.index(plan.state) >= ORDER.index("in-patient")]
    for i, plan in enumerate(stays if n_readings else []):
        # An even share of the readings asked for; the remainder goes one each to the first courses.
        share = n_readings // len(stays) + (1 if i < n_readings % len(stays) else 0)
        assert plan.administration is not None  # a stay has its administration (above)
        plan.readings = _readings(rng, plan, plan.administration, physicist, now, max(2, share))
        readings += plan.readings
    counts.readings = len(_bulk(ExposureReading, readings))
    releases = []
    for plan in plans:
        if ORDER.index(plan.state) < ORDER.index("released") or not plan.readings:
            continue
        assert plan.course is not None
        assert plan.administration is not None
        dosimetry = radiation.dosimetry_from(plan.course, plan.administration, plan.readings, None, protocol)
        refusal = radiation.release_refusal(dosimetry)
        if refusal is not None:
            raise RuntimeError(f"generated course {plan.course.patient.mrn}/{plan.number}: {refusal}")
        assert dosimetry.release is not None
        assert dosimetry.retention is not None
        assert dosimetry.dose is not None
        last_reading = plan.readings[-1]
        released_at = last_reading.measured_at + timedelta(hours=1)
        name = physicist.signature_name()
        given_to = "Synthetic parent (legal guardian)"
        releases.append(ReleaseRecord(
            course=plan.course, released_at=released_at, reading=last_reading, dose_rate_mr_per_h=dosimetry.release.dose_rate_mrem_per_h,
            site_limit_mr_per_h=dosimetry.release.site_limit_mrem_per_h,
            criteria_met=",".join(c.id for c in dosimetry.release.criteria if c.met), rule=radiation.release_rule(dosimetry),
            assessment_json=json.dumps({"release": dosimetry.release.to_json(), "retention": dosimetry.retention.to_json(),
                                        "whole_body_dose": dosimetry.dose.to_json(), "readings_basis": dosimetry.fingerprint}),
            instructions_json=json.dumps(radiation.family_instructions(dosimetry, released_at)), instructions_given_to=given_to,
            protocol_label=protocol.label, signed_by=physicist, signed_name=name, signed_at=released_at,
            signature_meaning=radiation.signature_meaning(name, dosimetry, given_to)))
        later = [("release", "in-patient", "released", physicist, released_at, released_at),
                 ("start_follow_up", "released", "follow-up", physician, released_at + timedelta(hours=1), None),
                 ("close", "follow-up", "closed", physician,
                  at(plan.treatment_day + timedelta(days=CLOSED_FOLLOW_UP_DAYS + 5), 12), None)]
        for event, before, reached, who, when, occurred in later:
            if ORDER.index(reached) <= ORDER.index(plan.state):
                steps.append(StateChange(course=plan.course, event=event, from_state=before, to_state=reached, by=who,
                                         at=when, occurred_at=occurred, note="synthetic course"))
    counts.releases = len(_bulk(ReleaseRecord, releases))
    _bulk(StateChange, steps)
    say(f"  {counts.readings} exposure-rate readings, {counts.releases} signed releases")

    # ---- follow-up labs: the total shared among courses in follow-up or closed, by days of follow-up ----
    followed = [pl for pl in plans if pl.state in ("follow-up", "closed") and pl.administration is not None]
    for pl in followed:
        pl.lab_share = float(min(CLOSED_FOLLOW_UP_DAYS, (as_of - pl.treatment_day).days))
    total_share = sum(pl.lab_share for pl in followed) or 1.0
    maker = _LabMaker(seed, nurse)
    buffer: list[LabResult] = []
    remaining = n_labs
    for k, pl in enumerate(followed):
        assert pl.administration is not None
        quota = remaining if k == len(followed) - 1 else min(remaining, round(n_labs * pl.lab_share / total_share))
        remaining -= quota
        last_day = max(1, min(CLOSED_FOLLOW_UP_DAYS, (as_of - pl.treatment_day).days - 1))
        made = list(maker.for_course(rng, pl, pl.administration.started_at, quota, last_day, now))
        # Each result's grade and the course's count recovery stored as the services store them (issue 11).
        assert pl.course is not None
        grades = grade_course([(i, r.lab) for i, r in enumerate(made)], pl.administration.started_at, pl.screening,
                              pl.course.patient.birth_date)
        for i, r in enumerate(made):
            r.grade_json = grade_text(grades[i])
        pl.labs = made
        buffer.extend(made)
        if len(buffer) >= BATCH * 4:
            counts.labs += len(_bulk(LabResult, buffer))
            buffer = []
    counts.labs += len(_bulk(LabResult, buffer))
    _bulk(CountRecovery, [
        CountRecovery(course=pl.course, result_json=recovery.to_json(), derived_at=now) for pl in plans
        if pl.administration is not None and pl.course is not None
        and (recovery := followup.compute_recovery(pl.course, pl.labs, [], pl.administration.started_at)) is not None])
    say(f"  {counts.labs} laboratory results")

    # ---- the audit trail: one event per patient, one for the run ----
    note_for: dict[int, list[str]] = {}
    for plan in plans:
        note_for.setdefault(plan.patient_index, []).append(f"course {plan.number} {plan.state}")
    events = [AuditEvent(user=nurse, username=nurse.username, action=AuditEvent.CREATE, model="patients.Patient",
                         object_id=str(patient.pk), object_repr=str(patient)[:200], patient=patient,
                         note=f"synthetic patient and records made by mibg generate-programme --seed {seed} "
                              f"(as of {as_of}): {', '.join(note_for[i])}")
              for i, patient in enumerate(patients)]
    events.append(AuditEvent(user=None, username="system", action=AuditEvent.CREATE, model="mibg.generate-programme",
                             note=f"synthetic programme, seed {seed}, as of {as_of}: {counts.patients} patients, "
                                  f"{counts.courses} courses, {counts.labs} laboratory results, {counts.readings} "
                                  f"readings (MRNs {MRN_PREFIX}...)"))
    counts.audit_events = len(_bulk(AuditEvent, events))
    return counts
