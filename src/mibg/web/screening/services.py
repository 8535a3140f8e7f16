"""Screening: the snapshot a course is screened on, its evaluation, and the study chair's decisions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mibg.core.course_state import BEFORE_ADMINISTRATION, CourseState
from mibg.core.eligibility import evaluate_eligibility
from mibg.core.rescreen import VerdictChange, verdict_changes
from mibg.core.snapshot import PatientSnapshot
from mibg.protocol import ProtocolDefinition, load_protocol
from mibg.web.audit.models import AuditEvent
from mibg.web.audit.trail import field_values, log_changes, log_event, log_view
from mibg.web.courses.models import Course
from mibg.web.errors import NotEditable, Refused
from mibg.web.safety import update_versioned
from mibg.web.screening.models import ChairDecision, Evaluation

#: What a new course carries over from the patient's last screening: slow-changing history. Labs,
#: transfusions, assessments, attestations, consent and decisions belong to one course and start empty.
CARRIED = ("diagnosis", "disease_status", "mibg_scans", "anti_tumour_therapies", "radiotherapy", "cytokines",
           "prior_mibg_courses", "stem_cell_products")

EDITABLE_STATES = {CourseState.SCREENING}


def fixed_values(course: Course) -> dict[str, Any]:
    """What the snapshot takes from the patient record, not from the screening form."""
    patient = course.patient
    return {"patient_id": patient.mrn, "birth_date": patient.birth_date.isoformat(), "sex": patient.sex}


def chair_decisions_data(course: Course) -> list[dict[str, Any]]:
    return [{"criterion": d.criterion, "cleared": d.cleared, "by": d.signed_name, "at": d.decided_at.isoformat(),
             "reason": d.reason} for d in course.chair_decisions.all()]


def snapshot_for(course: Course, data: dict[str, Any]) -> PatientSnapshot:
    """The snapshot with the course's recorded chair decisions (only they can clear a criterion)."""
    return PatientSnapshot.model_validate({**data, "chair_decisions": chair_decisions_data(course)})


def evaluate(user: Any, course: Course, snapshot: PatientSnapshot) -> Evaluation:
    # The snapshot's chair decisions are this course's, signed here by a chair (snapshot_for): verified (A27, A35).
    result = evaluate_eligibility(snapshot, decisions_signed_in_application=True, today=timezone.localdate())
    evaluation = Evaluation.objects.create(
        course=course, snapshot_json=snapshot.model_dump_json(), result_json=json.dumps(result.to_json()),
        overall=str(result.overall), protocol_label=result.protocol_label, evaluated_by=user)
    log_changes(user, "create", evaluation, course.patient)
    return evaluation


def save_and_evaluate(user: Any, course: Course, version: int, snapshot: PatientSnapshot) -> Evaluation:
    if course.state_enum not in EDITABLE_STATES:
        raise NotEditable(course.state_enum)
    stored = snapshot.model_copy(update={"chair_decisions": ()})
    with transaction.atomic():
        before = field_values(course)
        update_versioned(course, version, {"snapshot_json": stored.model_dump_json(),
                                           "planned_treatment_date": snapshot.planned_treatment_date},
                         "This course's screening data")
        log_changes(user, "update", course, course.patient, before)
        return evaluate(user, course, snapshot)


def latest_evaluation(course: Course) -> Evaluation | None:
    return course.evaluations.order_by("-evaluated_at", "-id").first()


def dosing_snapshot(course: Course) -> PatientSnapshot | None:
    """The snapshot of the latest evaluation with the chair decisions recorded since (A2, A3 clearances)."""
    evaluation = latest_evaluation(course)
    if evaluation is None:
        return None
    data = json.loads(evaluation.snapshot_json)
    data.pop("chair_decisions", None)
    return snapshot_for(course, data)


class DecisionRefused(Refused):
    """A chair decision the protocol does not allow on this criterion (mibg.web.errors: 409, on the criterion)."""

    default_field = "criterion"


#: Dose limits the chair decides only with the planned dose in front of them (decisions.md A35).
DECIDED_WITH_THE_PLANNED_DOSE = frozenset({"S2", "R2"})


def planned_dose(course: Course) -> dict[str, Any] | None:
    """The planned dose of the latest evaluation, as the chair sees it before deciding a dose limit (A35): mCi/kg,
    weight, activity and the PD criterion's result. None when the screening has no planned mCi/kg."""
    from decimal import Decimal

    from mibg.core.units import Activity

    latest = latest_evaluation(course)
    if latest is None:
        return None
    data = json.loads(latest.snapshot_json)
    if not data.get("planned_mci_per_kg"):
        return None
    mci_per_kg = Decimal(str(data["planned_mci_per_kg"]))
    weight = Decimal(str(data["weight_kg"])) if data.get("weight_kg") else None
    pd = next((c for c in latest.eligibility.criteria if c.id == "PD"), None)
    return {"mci_per_kg": mci_per_kg, "weight_kg": weight, "weight_measured_on": data.get("weight_measured_on"),
            "activity": Activity(mci_per_kg * weight).display() if weight is not None else None,
            "status": str(pd.status) if pd else "", "reason": pd.reason if pd else ""}


def record_chair_decision(user: Any, signed_name: str, course: Course, criterion: str, cleared: bool, reason: str) -> ChairDecision:
    """A signed decision (decisions.md H5, X1; A2, A3 for dose limits), then a fresh evaluation that includes it.

    A decision clears exactly what it names, for this course (A35); a dose limit (S2, R2) is decided only when the
    screening carries the planned dose the chair is shown."""
    if course.state_enum not in BEFORE_ADMINISTRATION:
        raise NotEditable(course.state_enum)
    if criterion in DECIDED_WITH_THE_PLANNED_DOSE and planned_dose(course) is None:
        raise DecisionRefused(_("%(criterion)s is a dose limit: the study chair decides it with the planned dose "
                                "shown (decisions.md A35). Record the planned mCi/kg in the screening first.")
                              % {"criterion": criterion})
    with transaction.atomic():
        decision = ChairDecision.objects.create(course=course, criterion=criterion, cleared=cleared, reason=reason,
                                                decided_by=user, signed_name=signed_name, decided_at=timezone.now())
        log_changes(user, "sign", decision, course.patient, note="study chair decision, signed with password re-entry")
        snapshot = dosing_snapshot(course)
        if snapshot is not None:
            evaluate(user, course, snapshot)
    return decision


# --------------------------------------------------------------------------------------------------------
# Re-screening the programme (issue 14)


@dataclass(frozen=True, slots=True)
class CourseRescreen:
    """One open course whose verdicts a new screening changes."""

    course_id: int
    patient_id: int
    mrn: str
    patient: str
    course_number: int
    state: str
    evaluation_id: int
    screened_under: str
    old_overall: str
    new_overall: str
    changes: tuple[VerdictChange, ...]

    def to_json(self) -> dict[str, Any]:
        return {"course_id": self.course_id, "mrn": self.mrn, "patient": self.patient, "course": self.course_number,
                "state": self.state, "evaluation_id": self.evaluation_id, "screened_under": self.screened_under,
                "old_overall": self.old_overall, "new_overall": self.new_overall,
                "changes": [c.to_json() for c in self.changes]}


@dataclass(frozen=True, slots=True)
class Rescreen:
    """The programme screened again under ``protocol``: every open course, the changed ones listed."""

    protocol: str
    screened_at: datetime
    open_courses: int
    screened: int
    not_screened: int
    changed: tuple[CourseRescreen, ...]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "screened_at": self.screened_at.isoformat(),
                "open_courses": self.open_courses, "screened": self.screened,
                "not_screened_yet": self.not_screened, "changed_courses": len(self.changed),
                "changed_verdicts": sum(len(c.changes) for c in self.changed),
                "stored_evaluations_changed": False,
                "courses": [c.to_json() for c in self.changed]}


#: The courses a re-screening covers: those not yet given activity (decided for issue 14: after administration the
#: screening is history, and nothing it says can change what was given).
RESCREENED_STATES = BEFORE_ADMINISTRATION


def rescreen_programme(user: Any, protocol: ProtocolDefinition | None = None, *,
                       states: Iterable[CourseState] = RESCREENED_STATES) -> Rescreen:
    """Screen every open course again, through :func:`evaluate_eligibility` as :func:`evaluate` does, on the
    snapshot of its latest evaluation with the chair decisions recorded since (:func:`dosing_snapshot`), and list
    the criteria whose verdict changed (old -> new).

    Read-only: no evaluation is stored. A stored evaluation records what a user screened and saw; the listed courses
    are screened again by their physician or coordinator (the screening form), who then sees the whole explanation.
    Audited: one record for the run (counts, protocol) and a view of each patient whose course is listed.
    ``states``: the courses covered (bench/bench_rescreen.py screens every course of a programme with it)."""
    started = time.perf_counter()
    protocol = protocol or load_protocol()
    today = timezone.localdate()
    courses = {c.pk: c for c in Course.objects.filter(state__in=[s.value for s in states])
               .select_related("patient").only("id", "number", "state", "patient__id", "patient__mrn",
                                               "patient__family_name", "patient__given_name")}
    latest: dict[int, tuple[int, str, str, str, str]] = {}
    for row in (Evaluation.objects.filter(course_id__in=courses).order_by("course_id", "-evaluated_at", "-id")
                .values_list("course_id", "id", "snapshot_json", "result_json", "overall", "protocol_label")
                .iterator(chunk_size=500)):
        latest.setdefault(row[0], row[1:])
    decisions: dict[int, list[dict[str, Any]]] = {}
    for course_id, criterion, cleared, by, at, reason in (
            ChairDecision.objects.filter(course_id__in=latest).order_by("decided_at", "id")
            .values_list("course_id", "criterion", "cleared", "signed_name", "decided_at", "reason")):
        decisions.setdefault(course_id, []).append({"criterion": criterion, "cleared": cleared, "by": by,
                                                    "at": at.isoformat(), "reason": reason})
    changed = []
    for course_id, (evaluation_id, snapshot_json, result_json, overall, label) in latest.items():
        data = json.loads(snapshot_json)
        data["chair_decisions"] = decisions.get(course_id, [])
        result = evaluate_eligibility(PatientSnapshot.model_validate(data), protocol,
                                      decisions_signed_in_application=True, today=today)
        stored = json.loads(result_json)["criteria"]
        old = {c["id"]: c["status"] for c in stored}
        changes = verdict_changes(old, result, protocol, {c["id"]: c["title"] for c in stored})
        if changes or overall != str(result.overall):
            course = courses[course_id]
            patient = course.patient
            changed.append(CourseRescreen(course_id, patient.pk, patient.mrn, str(patient), course.number, course.state,
                                          evaluation_id, label, overall, str(result.overall), changes))
    changed.sort(key=lambda c: (c.mrn, c.course_number))
    report = Rescreen(protocol.label, timezone.now(), len(courses), len(latest), len(courses) - len(latest),
                      tuple(changed), time.perf_counter() - started)
    _audit_rescreen(user, report, courses)
    return report


def _audit_rescreen(user: Any, report: Rescreen, courses: dict[int, Course]) -> None:
    with transaction.atomic():
        log_event(user, AuditEvent.VIEW, user, None,
                  note=(f"programme re-screened under {report.protocol} (read-only, nothing stored): "
                        f"{report.screened} of {report.open_courses} open courses screened, "
                        f"{len(report.changed)} with changed verdicts"))
        for row in report.changed:
            log_view(user, courses[row.course_id].patient,
                     f"re-screening under {report.protocol}, course {row.course_number}: {row.old_overall} -> "
                     f"{row.new_overall}; " + ", ".join(f"{c.criterion} {c.old} -> {c.new}" for c in row.changes))
