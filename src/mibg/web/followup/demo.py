"""Demo follow-up, made through the services (mibg.web.demo uses this): blood counts after the infusion,
transfusions, adverse events and response.

The counts are constructed, not measured: a typical course after 12-18 mCi/kg, nadir around day 14-17, a
platelet and a red-cell transfusion at the nadir, recovery by day 28. Only values collected before now are
entered, so a course infused recently has only its first days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from mibg.web.courses.models import Course
from mibg.web.followup import services

#: day after the infusion -> (ANC 10^9/L, platelets 10^9/L, haemoglobin g/dL)
COUNTS = {
    -1: ("2.4", "210", "11.2"), 3: ("1.6", "150", "10.6"), 7: ("0.9", "90", "9.8"), 10: ("0.4", "45", "8.9"),
    14: ("0.2", "18", "7.6"), 17: ("0.3", "14", "9.9"), 21: ("0.7", "35", "9.6"), 24: ("1.2", "41", "9.8"),
    28: ("1.6", "62", "10.1"), 35: ("1.9", "95", "10.4"), 42: ("2.1", "140", "10.9"),
}
LIMITS = {"anc": ("10^9/L", "1.5"), "platelets": ("10^9/L", "150"), "hemoglobin": ("g/dL", "11.5")}


def _at(start: datetime, day: int, hour: int = 8) -> datetime:
    return (timezone.localtime(start) + timedelta(days=day)).replace(hour=hour, minute=0, second=0, microsecond=0)


def counts_after(nurse: Any, course: Course) -> None:
    """The blood counts and transfusions of :data:`COUNTS` that fall before now."""
    course = Course.objects.select_related("patient").get(pk=course.pk)
    start = services.infusion_start(course)
    if start is None:
        return
    now = timezone.now()
    for day, values in COUNTS.items():
        if _at(start, day) > now:
            break
        for test, value in zip(("anc", "platelets", "hemoglobin"), values, strict=True):
            unit, lln = LIMITS[test]
            services.add_lab(nurse, course, services.LabEntry(test, value, unit, lln, "", _at(start, day)))
        if day == 14:
            services.add_transfusion(nurse, course, "platelets", _at(start, 14, 13), "apheresis unit")
            services.add_transfusion(nurse, course, "red_cells", _at(start, 14, 15), "10 mL/kg")
    if _at(start, 3) <= now:
        for test, value, unit, uln in (("alt", "96", "U/L", "45"), ("bilirubin", "0.6", "mg/dL", "1.0"),
                                       ("creatinine", "0.5", "mg/dL", "0.7")):
            services.add_lab(nurse, course, services.LabEntry(test, value, unit, "", uln, _at(start, 3)))


def events_and_response(physician: Any, course: Course, *, review: bool) -> None:
    """Febrile neutropenia at the nadir (an SAE, reviewed when ``review``), nausea, and the response."""
    course = Course.objects.select_related("patient").get(pk=course.pk)
    start = services.infusion_start(course)
    if start is None:
        return
    today = timezone.localdate()
    day = timezone.localtime(start).date()
    services.record_adverse_event(physician, course, {
        "term": "Nausea", "grade": 1, "started_on": day, "ended_on": min(day + timedelta(days=2), today),
        "attribution": "probable", "serious": False, "outcome": "recovered", "action_taken": "treatment",
        "description": "ondansetron"})
    onset = next((day + timedelta(days=d) for d in (14, 9) if day + timedelta(days=d) <= today), None)
    if onset is not None:
        ended = onset + timedelta(days=4)
        event = services.record_adverse_event(physician, course, {
            "term": "Febrile neutropenia", "grade": 3, "started_on": onset, "ended_on": ended if ended <= today else None,
            "attribution": "probable", "serious": True, "outcome": "recovered" if ended <= today else "recovering",
            "action_taken": "hospitalisation", "description": "38.9 C with neutropenia; blood cultures negative; "
                                                               "IV antibiotics"})
        if review:
            services.review_sae(physician, physician.signature_name(), event, event.version,
                                "Expected haematological toxicity of 131I-MIBG; reported to the IRB.")
    services.record_curie(physician, course, "baseline", day - timedelta(days=20), {
        "head_face": 1, "neck_back_spine": 2, "ribs_sternum": 2, "lumbar_sacral_spine": 2, "pelvis": 3, "arms": 1,
        "forearms_hands": 0, "thighs": 2, "legs_feet": 1, "soft_tissue": 2})
    if day + timedelta(days=42) <= today:
        services.record_curie(physician, course, "follow_up", day + timedelta(days=42), {
            "head_face": 0, "neck_back_spine": 1, "ribs_sternum": 1, "lumbar_sacral_spine": 1, "pelvis": 2, "arms": 0,
            "forearms_hands": 0, "thighs": 1, "legs_feet": 0, "soft_tissue": 1})
        services.record_inrc(physician, course, day + timedelta(days=42), "PR", "PR", "CR",
                             "MIBG and CT at day 42")
