"""Demo data: one user per role and a handful of patients at different stages, made through the services.

Every record is created the way a person would create it (so the audit trail, the evaluations and the
signatures are real). Dates are relative to today so the screening windows hold whenever the demo runs.
The passwords are generated and returned once; they are never stored in clear.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from mibg.core.decay import activity_to_draw_at_calibration
from mibg.core.units import Activity
from mibg.protocol import load_protocol
from mibg.web import course_record
from mibg.web import permissions as p
from mibg.web.accounts.models import User
from mibg.web.courses import services as courses
from mibg.web.courses.models import Course
from mibg.web.directives import services as directives
from mibg.web.directives.models import Verification, WrittenDirective
from mibg.web.followup import demo as followup_demo
from mibg.web.patients import services as patients
from mibg.web.plan import demo as plan_demo
from mibg.web.radiation import demo as radiation_demo
from mibg.web.screening import services as screening
from mibg.web.treatment import services as treatment

PEOPLE = [
    ("patel", "Asha", "Patel", "Dr Asha Patel, MD", [p.PHYSICIAN]),
    ("chen", "Wei", "Chen", "Dr Wei Chen, MD (study chair)", [p.CHAIR]),
    ("sam", "Sam", "Okafor", "Sam Okafor, PhD, DABR", [p.PHYSICIST]),
    ("riley", "Riley", "Novak", "Riley Novak, PharmD", [p.PHARMACIST]),
    ("nora", "Nora", "Diaz", "Nora Diaz, RN", [p.NURSE]),
    ("morgan", "Morgan", "Lee", "Morgan Lee (monitor)", [p.READONLY]),
    ("admin", "Site", "Administrator", "Site administrator", [p.ADMIN]),
]


def ensure_roles() -> None:
    for role in p.ROLES:
        Group.objects.get_or_create(name=role)


def make_user(username: str, roles: list[str], password: str, printed_name: str = "", first: str = "", last: str = "") -> User:
    ensure_roles()
    user = User.objects.create_user(username=username, password=password, printed_name=printed_name,
                                    first_name=first, last_name=last)
    user.groups.set(Group.objects.filter(name__in=roles))
    if p.ADMIN in roles:
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    return user


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def snapshot_data(t: date, *, weight: str = "22.0", mci_per_kg: str = "18", attester: str = "Dr Asha Patel, MD",
                  anc: str = "1.4", platelets: str = "95", marrow_cytopenia: bool = False) -> dict[str, Any]:
    """A complete neuroblastoma screening (as examples/patients/eligible-neuroblastoma.json) for treatment on ``t``."""

    def d(days: int) -> str:
        return (t - timedelta(days=days)).isoformat()

    def dt(days: int, hour: int) -> str:
        return at(t - timedelta(days=days), hour).isoformat()

    lab_at = dt(3, 7)
    attest = {"value": True, "by": attester, "at": dt(3, 10)}
    data: dict[str, Any] = {
        "weight_kg": weight, "weight_measured_on": d(3),
        "diagnosis": {"kind": "neuroblastoma", "diagnosed_on": d(1400), "histopathology_confirmed": True},
        "disease_status": {"category": "relapsed", "progressive_disease": True,
                           "failure_to_respond_to_standard_therapy": False, "assessed_on": d(20)},
        "mibg_scans": [{"scan_date": d(22), "avid": True, "evaluable_disease": True}],
        "anti_tumour_therapies": [{"description": "topotecan/cyclophosphamide cycle 4", "last_dose_on": d(35)}],
        "radiotherapy": [],
        "cytokines": [{"agent": "g_csf", "last_dose_at": dt(9, 8)}],
        "stem_cell_products": [{"product_type": "pbsc", "total_cd34_cells": "1.1E+8", "collected_on": d(1200),
                                "label": "PBSC bags 1-4"}],
        "labs": [
            {"test": "anc", "value": anc, "unit": "10^9/L", "collected_at": lab_at, "lln": "1.5"},
            {"test": "platelets", "value": platelets, "unit": "10^9/L", "collected_at": lab_at, "lln": "150"},
            {"test": "hemoglobin", "value": "10.8", "unit": "g/dL", "collected_at": lab_at, "lln": "11.5"},
            {"test": "bilirubin", "value": "0.4", "unit": "mg/dL", "collected_at": lab_at, "uln": "1.0"},
            {"test": "ast", "value": "42", "unit": "U/L", "collected_at": lab_at, "uln": "50"},
            {"test": "alt", "value": "35", "unit": "U/L", "collected_at": lab_at, "uln": "45"},
            {"test": "creatinine", "value": "0.4", "unit": "mg/dL", "collected_at": lab_at, "uln": "0.7"},
        ],
        "transfusions": [{"product": "red_cells", "given_at": dt(6, 14)}],
        "performance": {"scale": "lansky", "score": 80, "assessed_on": d(3)},
        "pregnancy": {"childbearing_potential": False, "lactating": False, "assessed_on": d(3)},
        "on_hemodialysis": False,
        "infection_screen": {"assessed_on": d(3), "infections": []},
        "consent": {"signed": True, "signed_on": d(15), "signed_by": "mother (legal guardian)"},
        "attestations": {name: dict(attest) for name in (
            "life_expectancy_over_6_weeks", "recovered_from_prior_toxicity", "able_to_cooperate_with_radiation_safety",
            "normal_lung_function", "no_cardiac_dysfunction", "no_major_organ_disease")},
        "enrolment_date": d(14),
        "planned_treatment_date": t.isoformat(),
        "planned_infusion_start": at(t, 9).isoformat(),
        "planned_mci_per_kg": mci_per_kg,
    }
    data["attestations"]["significant_organ_impairment"] = {**attest, "value": False}
    if marrow_cytopenia:
        data["attestations"]["cytopenia_due_to_marrow_metastasis"] = {**attest, "value": True}
    return data


def _fresh(course: Course) -> Course:
    return Course.objects.select_related("patient").get(pk=course.pk)


def screen(user: User, course: Course, data: dict[str, Any]) -> Any:
    base = course_record.screening_form_data(course)
    snapshot = screening.snapshot_for(course, {**base, **data, "prior_mibg_courses": base.get("prior_mibg_courses", [])})
    return screening.save_and_evaluate(user, course, _fresh(course).version, snapshot)


def directive_entry(t: date, mci_per_kg: str = "18") -> directives.DirectiveInput:
    return directives.DirectiveInput(Decimal(mci_per_kg), "draximage", Decimal("12"), Decimal("50"), Decimal("100"),
                                     "central_line", at(t, 7), at(t, 9))


def run_course(people: dict[str, User], course: Course, t: date, *, until: str, weight: str = "22.0",
               mci_per_kg: str = "18", residual: str = "2.5") -> None:
    """Take a course through the real steps up to ``until`` (a CourseState value)."""
    order = ["screening", "eligible", "directive signed", "verified", "assayed", "administered", "in-patient", "released",
             "follow-up", "closed"]
    stop = order.index(until)
    screen(people["nora"], course, snapshot_data(t, weight=weight, mci_per_kg=mci_per_kg))
    if stop >= 1:
        course_record.take_step(people["patel"], course, "confirm_eligibility", _fresh(course).version, note="demo")
    if stop >= 4 and at(t, 7, 30) > timezone.now():
        # decisions.md A29: an assay or an administration is never recorded ahead of the clock.
        raise ValueError(f"a course is assayed or administered in the past: {t} 07:30 has not come yet")
    past = at(t, 7) <= timezone.now()
    if past:  # a course given in the past was screened before its directive was signed (the day before, at 16:00)
        course.evaluations.update(evaluated_at=at(t - timedelta(days=1), 12))
    if stop >= 2:
        name = people["patel"].signature_name()
        directive = directives.sign(people["patel"], name, _fresh(course), _fresh(course).version,
                                    directive_entry(t, mci_per_kg))
        if past:  # a course given in the past was signed the day before (A29: signature before administration)
            WrittenDirective.objects.filter(pk=directive.pk).update(signed_at=at(t - timedelta(days=1), 16))
    if stop >= 3:
        directive = courses.current_directive(course)
        verification = directives.verify_directive(people["sam"], _fresh(course), _fresh(course).version,
                                                   directive.weight_kg, directive.mci_per_kg,
                                                   people["sam"].signature_name())
        if past:
            Verification.objects.filter(pk=verification.pk).update(at=at(t - timedelta(days=1), 17))
    if stop >= 4:
        directive = courses.current_directive(course)
        half_life = load_protocol().constant("i131_half_life_days")
        measured_at = at(t, 7, 30)
        drawn = activity_to_draw_at_calibration(Activity(directive.activity_mci), measured_at, directive.administration_time, half_life)
        entry = treatment.AssayInput("LSA-24-0117", at(t, 7), Decimal("12"), drawn.activity_to.mci.quantize(Decimal("0.1")),
                                     measured_at, "Capintec CRC-55tR #2")
        treatment.record_assay(people["riley"], _fresh(course), _fresh(course).version, entry)
    if stop >= 5:
        patient = course.patient
        given = treatment.AdministrationInput(at(t, 9), at(t, 10, 40), "central_line", Decimal("50"), Decimal(residual),
                                              at(t, 11), f"{patient.given_name} {patient.family_name}",
                                              patient.birth_date, patient.mrn)
        treatment.record_administration(people["nora"], _fresh(course), _fresh(course).version, given)
    for event, who, when in (("admit", "nora", at(t, 10, 45)), ("release", "sam", at(t + timedelta(days=4), 11)),
                             ("start_follow_up", "patel", None), ("close", "patel", None)):
        target = {"admit": "in-patient", "release": "released", "start_follow_up": "follow-up", "close": "closed"}[event]
        if stop >= order.index(target) and event == "release":  # readings at 1 m, then the physicist's signed release
            assert when is not None  # the release has its time in the table above
            radiation_demo.release(people[who], _fresh(course), when)
        elif stop >= order.index(target):
            course_record.take_step(people[who], _fresh(course), event, _fresh(course).version, occurred_at=when)


PATIENTS = [
    # mrn, given, family, birth date offset in days, sex
    ("DEMO-1001", "Ava", "Martin", 6 * 365, "female"),
    ("DEMO-1002", "Liam", "Nguyen", 7 * 365, "male"),
    ("DEMO-1003", "Mia", "Garcia", 5 * 365, "female"),
    ("DEMO-1004", "Noah", "Smith", 8 * 365, "male"),
    ("DEMO-1005", "Emma", "Johnson", 9 * 365, "female"),
    ("DEMO-1006", "Lucas", "Brown", 10 * 365, "male"),
    ("DEMO-1007", "Zoe", "Wilson", 4 * 365, "female"),
    ("DEMO-1008", "Oliver", "Davis", 7 * 365 + 200, "male"),
]


@transaction.atomic
def load() -> dict[str, str]:
    """Create the demo users and patients; return {username: password} (shown once by the caller)."""
    passwords: dict[str, str] = {}
    people: dict[str, User] = {}
    for username, first, last, printed, roles in PEOPLE:
        passwords[username] = secrets.token_urlsafe(12)
        people[username] = make_user(username, roles, passwords[username], printed, first, last)
    today = timezone.localdate()
    made = {}
    for mrn, given, family, age_days, sex in PATIENTS:
        patient = patients.create_patient(people["nora"], {"mrn": mrn, "given_name": given, "family_name": family,
                                                           "birth_date": today - timedelta(days=age_days), "sex": sex})
        made[mrn] = (patient, courses.create_course(people["nora"], patient))
    soon = today + timedelta(days=3)
    # Screening, incomplete: labs, attestations and consent not entered yet.
    partial = {k: v for k, v in snapshot_data(soon).items() if k not in ("labs", "attestations", "consent", "transfusions")}
    screen(people["nora"], made["DEMO-1001"][1], partial)
    run_course(people, made["DEMO-1002"][1], soon, until="eligible", weight="24.5")
    run_course(people, made["DEMO-1003"][1], soon, until="directive signed", weight="19.35", mci_per_kg="15")
    run_course(people, made["DEMO-1004"][1], today - timedelta(days=1), until="administered", weight="27.2",
               mci_per_kg="12")
    run_course(people, made["DEMO-1005"][1], today - timedelta(days=1), until="in-patient", weight="30.1")
    radiation_demo.readings_so_far(people["sam"], made["DEMO-1005"][1])
    # Released: infused 5 days ago, readings at 1 m and the physicist's signed release yesterday.
    run_course(people, made["DEMO-1008"][1], today - timedelta(days=5), until="released", weight="23.6")
    followup_demo.counts_after(people["nora"], made["DEMO-1008"][1])  # the day -1 and day 3 labs, as a clinic has them
    lucas, first_course = made["DEMO-1006"]
    run_course(people, first_course, today - timedelta(days=240), until="closed", weight="28.0", mci_per_kg="12")
    second = courses.create_course(people["nora"], lucas)
    run_course(people, second, today - timedelta(days=10), until="follow-up", weight="31.0", mci_per_kg="15")
    for course, reviewed in ((first_course, True), (second, False)):  # counts, transfusions, adverse events, response
        followup_demo.counts_after(people["nora"], course)
        followup_demo.events_and_response(people["patel"], course, review=reviewed)
    # Needs review: thrombocytopenia attributed to tumour in the marrow goes to the study chair (H5).
    zoe_course = made["DEMO-1007"][1]
    screen(people["nora"], zoe_course, snapshot_data(soon, platelets="14", marrow_cytopenia=True, weight="16.4"))
    # The care the team gave and recorded as it went (issue 15): readings for the patient given a dose yesterday,
    # and every supportive-care due time already past; what is left on the worklists is what is due now.
    radiation_demo.readings_so_far(people["sam"], made["DEMO-1004"][1])
    for course in Course.objects.filter(patient__mrn__startswith="DEMO-").select_related("patient"):
        plan_demo.care_so_far(people, course)
    related_trials()
    return passwords


#: The example related trials (issue 13 §5), when the demo runs from a checkout that has them.
EXAMPLE_TRIALS = Path(__file__).resolve().parents[3] / "examples" / "trials"


def related_trials() -> None:
    """Store examples/trials/*.json as related trials, as `mibg protocol import examples/trials/` would."""
    from mibg.protocol.study_record import parse_study_record
    from mibg.web.trials.services import import_related

    files = sorted(EXAMPLE_TRIALS.glob("*.json")) if EXAMPLE_TRIALS.is_dir() else []
    documents = []
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        parse_study_record(data)
        documents.append((f"examples/trials/{path.name}", data))
    if documents:
        import_related(documents, what="the demo (examples/trials)")
