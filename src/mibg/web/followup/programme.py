"""The programme view: every administered course of every patient, with dose, whole-body dose, count nadirs and
recovery, worst CTCAE grades, adverse events, stem-cell rescue and response, as a table, a CSV with the unit
of every column in its header, and scatter plots of administered mCi/kg against the whole-body dose and the
platelet and neutrophil nadirs.

Everything is computed from the stored records each time (mibg.core grades, recovery and response); nothing is
copied. Whole-body dose and stem-cell rescue come from the radiation-safety app when it is installed and has
them; otherwise the cells are blank ("not recorded"), never zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from mibg.core.ctcae import load_ctcae
from mibg.core.labs import LABS
from mibg.core.times import site_time
from mibg.core.units import Activity, round_mbq, round_mci
from mibg.web.followup import plots, services
from mibg.web.followup.models import (
    AdverseEvent,
    CountRecovery,
    CurieAssessment,
    InrcAssessment,
    LabResult,
    Transfusion,
)
from mibg.web.treatment.models import Administration

WHOLE_BODY_SOURCE = gettext_lazy("whole-body dose: as the radiation-safety page of the course computes it from the exposure "
                     "readings (decisions.md 'Whole-body dose'), to 0.001 Gy; blank until there are enough readings")


@dataclass(frozen=True)
class Column:
    key: str
    header: StrOrPromise  # with the unit in brackets, as the CSV writes it (in the active language)


def _grade_columns() -> list[Column]:
    order = list(LABS)
    terms = sorted(load_ctcae().terms.values(), key=lambda t: order.index(t.test))
    return [Column(f"worst:{t.test}", format_lazy(gettext_lazy("Worst CTCAE v5.0 grade: {term} (grade 0-4)"), term=t.name))
            for t in terms]


COLUMNS: list[Column] = [
    Column("mrn", "MRN"),
    Column("patient", gettext_lazy("Patient")),
    Column("course", gettext_lazy("Course (number)")),
    Column("infusion_at", gettext_lazy("Infusion start (site time)")),
    Column("weight_kg", gettext_lazy("Weight (kg)")),
    Column("administered_mci", gettext_lazy("Administered activity (mCi)")),
    Column("administered_mbq", gettext_lazy("Administered activity (MBq)")),
    Column("mci_per_kg", gettext_lazy("Administered activity per kg (mCi/kg)")),
    Column("whole_body_gy", gettext_lazy("Whole-body dose (Gy)")),
    Column("anc_nadir", gettext_lazy("ANC nadir (10^9/L)")),
    Column("anc_nadir_day", gettext_lazy("ANC nadir day (days after infusion)")),
    Column("anc_days_g4", gettext_lazy("ANC below the grade 4 threshold (days)")),
    Column("platelet_nadir", gettext_lazy("Platelet nadir (10^9/L)")),
    Column("platelet_nadir_day", gettext_lazy("Platelet nadir day (days after infusion)")),
    Column("platelet_days_g4", gettext_lazy("Platelets below the grade 4 threshold (days)")),
    Column("hemoglobin_nadir", gettext_lazy("Haemoglobin nadir (g/dL)")),
    Column("recovery_day", gettext_lazy("Count recovery day (days after infusion)")),
    Column("recovery_status", gettext_lazy("Count recovery status")),
    Column("platelet_transfusions", gettext_lazy("Platelet transfusions after infusion (count)")),
    Column("red_cell_transfusions", gettext_lazy("Red-cell transfusions after infusion (count)")),
    *_grade_columns(),
    Column("max_ae_grade", gettext_lazy("Highest adverse-event grade (grade 1-5)")),
    Column("sae_count", gettext_lazy("Serious adverse events (count)")),
    Column("sae_unreviewed", gettext_lazy("Serious adverse events not yet reviewed (count)")),
    Column("stem_cell_rescue", gettext_lazy("Stem-cell rescue (date; cells/kg)")),
    Column("relative_curie", gettext_lazy("Relative Curie score (follow-up / baseline, ratio)")),
    Column("inrc", gettext_lazy("INRC 2017 overall response (latest)")),
]


def _by_course(model: Any, course_ids: list[int], *prefetch: str) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    for record in model.objects.live().filter(course_id__in=course_ids).prefetch_related(*prefetch):
        out[record.course_id].append(record)
    return out


#: The whole-body dose is a fitted float (mibg.core.dosimetry); the table and the CSV give it to 0.001 Gy.
DOSE_STEP = Decimal("0.001")


def _whole_body(courses: list[Any]) -> dict[int, Decimal]:
    """Whole-body dose (Gy) per course, as the radiation-safety app computes it from the course's readings."""
    if not apps.is_installed("mibg.web.radiation"):
        return {}
    from mibg.web.radiation.services import dosimetry_of_courses

    return {pk: Decimal(repr(d.dose.dose_gy)).quantize(DOSE_STEP)
            for pk, d in dosimetry_of_courses(courses).items() if d.dose is not None}


def _rescue(course_ids: list[int]) -> dict[int, str]:
    if not apps.is_installed("mibg.web.radiation"):
        return {}
    from mibg.web.radiation.models import StemCellInfusion

    out: dict[int, list[str]] = defaultdict(list)
    for infusion in StemCellInfusion.objects.filter(course_id__in=course_ids):
        out[infusion.course_id].append(f"{timezone.localtime(infusion.infused_at):%Y-%m-%d}; "
                                       f"{infusion.cells_per_kg:.2E} {infusion.unit}")
    return {course_id: " + ".join(parts) for course_id, parts in out.items()}


def rows() -> list[dict[str, Any]]:
    """One row per administered course, in order of infusion."""
    administrations = list(Administration.objects.select_related("course__patient", "directive").order_by("started_at"))
    ids = [a.course_id for a in administrations]
    labs, transfusions = _by_course(LabResult, ids), _by_course(Transfusion, ids)
    events = _by_course(AdverseEvent, ids, "reviews")
    curie, inrc = _by_course(CurieAssessment, ids), _by_course(InrcAssessment, ids)
    whole_body, rescue = _whole_body([a.course for a in administrations]), _rescue(ids)
    recoveries = {r.course_id: r for r in CountRecovery.objects.filter(course_id__in=ids)}  # as stored (issue 11)
    out = []
    for a in administrations:
        course, patient = a.course, a.course.patient
        stored = recoveries.get(course.pk)
        recovery = None if stored is None else stored.result
        worst = {w.record.test: w.grade.grade for w in services.worst_by_term(labs[course.pk], a.started_at)}
        course_events = events[course.pk]
        relative = [r for _, r in services.relative_scores(curie[course.pk]) if r is not None and r.ratio is not None]
        latest_inrc = max(inrc[course.pk], key=lambda r: (r.assessed_on, r.pk), default=None)
        after = [t for t in transfusions[course.pk] if t.given_at >= a.started_at]
        row: dict[str, Any] = {
            "course_obj": course, "mrn": patient.mrn, "patient": f"{patient.family_name.upper()}, {patient.given_name}",
            "course": course.number, "infusion_at": timezone.localtime(a.started_at),
            "weight_kg": a.directive.weight_kg, "administered_mci": a.administered_mci,
            "administered_mbq": Activity(a.administered_mci).mbq,
            "mci_per_kg": services.administered_mci_per_kg(a.administered_mci, a.directive.weight_kg),
            "whole_body_gy": whole_body.get(course.pk),
            "platelet_transfusions": sum(1 for t in after if t.product == "platelets"),
            "red_cell_transfusions": sum(1 for t in after if t.product == "red_cells"),
            "max_ae_grade": max((e.grade for e in course_events), default=None),
            "sae_count": sum(1 for e in course_events if e.serious),
            "sae_unreviewed": sum(1 for e in course_events if e.needs_review),
            "stem_cell_rescue": rescue.get(course.pk),
            "relative_curie": relative[-1].ratio if relative else None,
            "inrc": None if latest_inrc is None else (latest_inrc.overall or _("needs review")),
        }
        for test in LABS:
            row[f"worst:{test}"] = worst.get(test)
        if recovery is not None:
            row.update({
                "anc_nadir": recovery.anc.nadir, "anc_nadir_day": recovery.anc.nadir_day,
                "anc_days_g4": recovery.anc.days_below_grade4,
                "platelet_nadir": recovery.platelets.nadir, "platelet_nadir_day": recovery.platelets.nadir_day,
                "platelet_days_g4": recovery.platelets.days_below_grade4,
                "hemoglobin_nadir": recovery.hemoglobin.nadir,
                "recovery_day": recovery.recovery.day, "recovery_status": str(recovery.recovery.status),
            })
        out.append(row)
    return out


#: Ratios (relative Curie score) are exact in the row; the table and the CSV show them to 0.01, half to even.
RATIO_STEP = Decimal("0.01")


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key == "infusion_at":
        infusion_at: datetime = value
        return site_time(infusion_at)
    if key == "relative_curie":
        return str(value.quantize(RATIO_STEP))
    if isinstance(value, Decimal):
        return format(value, "f")  # as stored or computed: 0.001-step figures keep their three decimals
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet must not read a name or an MRN as a formula (CSV injection)
    return str(value)


def csv_cells(row: dict[str, Any]) -> list[str]:
    return [_cell(c.key, row.get(c.key)) for c in COLUMNS]


#: On the page an activity is read as everywhere else on screen (0.1 mCi, 1 MBq: mibg.core.units); the CSV keeps
#: every digit of the record.
SHOWN_ROUNDED = {"administered_mci": round_mci, "administered_mbq": round_mbq}


def display_cells(row: dict[str, Any]) -> list[str]:
    def shown(key: str, value: Any) -> str:
        if value is None:
            return "—"
        if key == "infusion_at":
            return site_time(value)
        if key in SHOWN_ROUNDED:
            return str(SHOWN_ROUNDED[key](Decimal(value)))
        return _cell(key, value)

    return [shown(c.key, row.get(c.key)) for c in COLUMNS]


def figure(data: list[dict[str, Any]]) -> Any:
    def points(key: str) -> list[plots.Point]:
        return [plots.Point(r["mci_per_kg"], r.get(key), f"{r['mrn']} #{r['course']}") for r in data]

    return plots.programme_figure([
        (_("Whole-body dose"), _("whole-body dose (Gy)"), points("whole_body_gy")),
        (_("Platelet nadir"), _("platelet nadir (10^9/L)"), points("platelet_nadir")),
        (_("ANC nadir"), _("ANC nadir (10^9/L)"), points("anc_nadir")),
    ])
