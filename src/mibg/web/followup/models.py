"""Follow-up of a course after the infusion: laboratory results, transfusions, adverse events, response.

Lab numbers are stored as the exact decimal text that was entered (value, LLN and ULN in the entered unit)
together with the LOINC code, the canonical UCUM unit and the value and range converted to it by
mibg.core.labs. Each result's grade is stored beside it in the core result's one shape (``grade_json``:
``CtcaeGrade.to_json()``, or ``ClinicalReading.to_json()`` for TSH, free T4 and blood pressure), and the course's
count recovery in its shape (:class:`CountRecovery`, ``CourseRecovery.to_json()``; issue 11). Both are derived:
mibg.web.followup.services stores them again, in the same transaction, whenever anything they are computed from
changes (what a grade is keyed by: mibg.core.course_grades), so what is stored is always what mibg.core computes
from the current inputs. Pages, the API and reports read them typed (``from_json``). The INRC response, recorded
once from what the physician entered, is stored in its shape (``InrcAssessment.result_json``).

Nothing is deleted. A record entered in error is voided, with who, when and why; voided records stay in the
tables and in the audit trail, and are left out of grades, plots and the programme view.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from mibg.core.ae_terms import AeTerm, ae_terms
from mibg.core.clinical_rows import is_clinical
from mibg.core.course_grades import Graded, grade_from_text
from mibg.core.labs import LABS, LabValue, lab_value
from mibg.core.recovery import CourseRecovery
from mibg.core.response import (
    CURIE_SKELETAL_SEGMENTS,
    CURIE_SOFT_TISSUE,
    ComponentResponse,
    CurieScore,
    InrcResponse,
    curie_score,
)
from mibg.core.times import site_time
from mibg.core.vocabulary import TransfusionProduct
from mibg.web.corrections import Corrects

_M = TypeVar("_M", bound=models.Model)

#: mibg.core.course_grades.table_digest() of the CTCAE rows the stored grades were derived with (migration
#: followup.0007). A release that changes ``ctcae_v5.json`` stores every grade again in a migration and updates this
#: (tests/web/test_stored_grades.py fails until then).
GRADES_DERIVED_WITH = "1395d60fa5227493"


class LiveQuerySet(models.QuerySet[_M]):
    def live(self) -> LiveQuerySet[_M]:
        """Records not voided."""
        return self.filter(voided_at__isnull=True)


class Voidable(models.Model):
    """A record that can be voided (entered in error), never deleted."""

    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    void_reason = models.TextField(blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


class LabResult(Voidable, Corrects):
    FORM, CSV, API = "form", "csv", "api"
    SOURCES = [(FORM, "entered by hand"), (CSV, "CSV upload"), (API, "API")]

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="lab_results")
    test = models.CharField(max_length=20, choices=[(k, d.name) for k, d in LABS.items()])
    loinc = models.CharField("LOINC", max_length=20)
    # As entered: exact decimal text; the LLN and ULN are in the same unit as the value.
    value = models.CharField(max_length=40)
    unit = models.CharField(max_length=30)
    lln = models.CharField("LLN", max_length=40, blank=True)
    uln = models.CharField("ULN", max_length=40, blank=True)
    # Converted by mibg.core.labs to the test's canonical unit (exact decimal text).
    ucum = models.CharField("canonical UCUM unit", max_length=20)
    value_canonical = models.CharField(max_length=60)
    lln_canonical = models.CharField(max_length=60, blank=True)
    uln_canonical = models.CharField(max_length=60, blank=True)
    collected_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=SOURCES, default=FORM)
    source_detail = models.CharField(max_length=200, blank=True)  # file name and line of a CSV row
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)
    #: The grade's one shape (``CtcaeGrade.to_json()`` / ``ClinicalReading.to_json()``) as JSON text
    #: (mibg.core.course_grades.grade_text), computed in the course's context and stored again by
    #: mibg.web.followup.services whenever that context changes. Text, not a JSON column: the typed grade is read
    #: once per process for the same text (grade_from_text), so a page that shows every grade of a course does not
    #: decode and check each one on every view. Derived: left out of the field-by-field audit of the result
    #: (``AUDIT_DERIVED``); a change of a stored grade has its own audit record.
    grade_json = models.TextField()

    AUDIT_DERIVED = ("grade_json",)

    class Meta:
        ordering = ["collected_at", "test", "id"]
        indexes = [models.Index(fields=["course", "test", "collected_at"])]

    def __str__(self) -> str:
        return f"{self.get_test_display()} {self.value} {self.unit} at {site_time(self.collected_at)}"

    #: Days after the infusion, set by the follow-up page for its table (not stored).
    day: int | None

    @cached_property
    def lab(self) -> LabValue:
        """The core value (canonical unit, range converted alongside)."""
        return lab_value(self.test, self.value, self.unit, lln=self.lln or None, uln=self.uln or None,
                         collected_at=self.collected_at)

    @property
    def clinical(self) -> bool:
        """TSH, free T4 and blood pressure: graded clinically (mibg.core.clinical_rows), not by a CTCAE lab row."""
        return is_clinical(self.test)

    @cached_property
    def grade(self) -> Graded:
        """The stored grade, typed: the CTCAE v5.0 grade with the course's baseline clauses (decisions.md A33), or
        for TSH, free T4 and blood pressure the reading of mibg.core.clinical_rows (flag or adult thresholds, the
        physician's grade recorded as an adverse event)."""
        return grade_from_text(self.grade_json)

    @property
    def display_unit(self) -> str:
        return LABS[self.test].display_unit


class CountRecovery(models.Model):
    """The course's count recovery (nadirs, days below grade 4, the recovery day) in its one shape
    (``CourseRecovery.to_json()``, mibg.recovery version 1), stored by mibg.web.followup.services in the same
    transaction as any change of what it is computed from: the infusion start, the course's ANC, platelet and
    haemoglobin results that count, its transfusions, and the site parameters of the protocol definition. A
    course not given yet has none."""

    course = models.OneToOneField("courses.Course", on_delete=models.PROTECT, primary_key=True,
                                  related_name="count_recovery")
    result_json = models.JSONField()
    derived_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Count recovery of course {self.course_id}"

    @cached_property
    def result(self) -> CourseRecovery:
        return CourseRecovery.from_json(self.result_json, f"count recovery of course {self.course_id}")


class Transfusion(Voidable):
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="transfusions")
    product = models.CharField(max_length=20, choices=[(p.value, p.value.replace("_", " ")) for p in TransfusionProduct])
    given_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["given_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_product_display()} transfusion at {site_time(self.given_at)}"


class AdverseEvent(Voidable):
    ATTRIBUTIONS = [("unrelated", "unrelated"), ("unlikely", "unlikely"), ("possible", "possible"),
                    ("probable", "probable"), ("definite", "definite")]
    OUTCOMES = [("recovering", "recovering / resolving"), ("recovered", "recovered / resolved"),
                ("recovered_sequelae", "recovered with sequelae"), ("not_recovered", "not recovered / not resolved"),
                ("fatal", "fatal"), ("unknown", "unknown")]
    ACTIONS = [("none", "none"), ("treatment", "treatment given"), ("hospitalisation", "hospitalisation"),
               ("course_delayed", "next course delayed"), ("dose_reduced", "next course dose reduced"),
               ("therapy_stopped", "131I-MIBG therapy stopped"), ("other", "other (see description)")]

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="adverse_events")
    term = models.CharField("CTCAE term", max_length=200)
    grade = models.PositiveSmallIntegerField(choices=[(g, str(g)) for g in range(1, 6)])
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    #: Blank on a nurse's draft until the physician attributes and signs it (issue 15).
    attribution = models.CharField(max_length=20, choices=ATTRIBUTIONS, blank=True)
    serious = models.BooleanField("serious (SAE)")
    outcome = models.CharField(max_length=20, choices=OUTCOMES)
    action_taken = models.CharField(max_length=20, choices=ACTIONS)
    description = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    #: The physician who attributed a nurse's draft and signed it (password re-entry), when, and the version signed.
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                  blank=True)
    signed_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["started_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(grade__gte=1, grade__lte=5), name="ae_grade_1_to_5"),
            models.CheckConstraint(condition=models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=models.F("started_on")),
                                   name="ae_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.term}, grade {self.grade}{' (SAE)' if self.serious else ''}, from {self.started_on}"

    @property
    def is_draft(self) -> bool:
        """A nurse's entry not yet attributed and signed by the physician (issue 15)."""
        return self.attribution == ""

    @property
    def ctcae(self) -> AeTerm | None:
        """The CTCAE v5.0 term of the list, or None for a term stored as free text before the list (issue 15)."""
        return ae_terms().get(self.term.strip())

    @property
    def current_review(self) -> SaeReview | None:
        """The physician's review of this version of the event, if any (a later edit needs a new review)."""
        return next((r for r in self.reviews.all() if r.ae_version == self.version), None)

    @property
    def needs_review(self) -> bool:
        return self.serious and not self.voided and self.current_review is None


class SaeReview(models.Model):
    """A physician's signed review of a serious adverse event, of the version of the event that was read."""

    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="reviews")
    ae_version = models.PositiveIntegerField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_name = models.CharField(max_length=150)
    reviewed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField()

    class Meta:
        ordering = ["reviewed_at", "id"]

    def __str__(self) -> str:
        return f"Review of {self.adverse_event} by {self.signed_name}"


_SEGMENTS = (*CURIE_SKELETAL_SEGMENTS, CURIE_SOFT_TISSUE)


class CurieAssessment(Voidable):
    """An MIBG scan scored by the Curie method: 9 skeletal segments and soft tissue, each 0-3 (total 0-30)."""

    BASELINE, FOLLOW_UP = "baseline", "follow_up"
    TIMEPOINTS = [(BASELINE, "baseline"), (FOLLOW_UP, "follow-up")]

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="curie_assessments")
    timepoint = models.CharField(max_length=10, choices=TIMEPOINTS)
    scan_date = models.DateField()
    head_face = models.PositiveSmallIntegerField()
    neck_back_spine = models.PositiveSmallIntegerField()
    ribs_sternum = models.PositiveSmallIntegerField()
    lumbar_sacral_spine = models.PositiveSmallIntegerField()
    pelvis = models.PositiveSmallIntegerField()
    arms = models.PositiveSmallIntegerField()
    forearms_hands = models.PositiveSmallIntegerField()
    thighs = models.PositiveSmallIntegerField()
    legs_feet = models.PositiveSmallIntegerField()
    soft_tissue = models.PositiveSmallIntegerField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scan_date", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(**{f"{key}__lte": 3}), name=f"curie_{key}_0_to_3")
                       for key, _ in _SEGMENTS]

    def __str__(self) -> str:
        return f"Curie score {self.score.total} ({self.get_timepoint_display()}, scan {self.scan_date})"

    @property
    def score(self) -> CurieScore:
        return curie_score([getattr(self, key) for key, _ in CURIE_SKELETAL_SEGMENTS], self.soft_tissue)

    @property
    def segments(self) -> list[tuple[str, int]]:
        return [(name, getattr(self, key)) for key, name in _SEGMENTS]


class InrcAssessment(Voidable):
    """INRC 2017 response: three component responses entered, the overall response derived by mibg.core, stored
    as the result's one shape (issue 11)."""

    COMPONENT_CHOICES = [(r.value, r.value) for r in ComponentResponse]

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="inrc_assessments")
    assessed_on = models.DateField()
    #: ``InrcResponse.to_json()`` (mibg.inrc_response version 1): the three components as entered, the overall
    #: response, the rule and the explanation; no column holds a second copy.
    result_json = models.JSONField()
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assessed_on", "id"]

    def __str__(self) -> str:
        return f"INRC {self.overall or 'no overall response (needs review)'} on {self.assessed_on}"

    @cached_property
    def result(self) -> InrcResponse:
        """The response as it was recorded, read from its one stored shape."""
        return InrcResponse.from_json(self.result_json, f"INRC assessment {self.pk}")

    @property
    def primary(self) -> str:
        return self.result.primary.value

    @property
    def metastases(self) -> str:
        return self.result.metastases.value

    @property
    def marrow(self) -> str:
        return self.result.marrow.value

    @property
    def overall(self) -> str:
        """The overall response, "" for a combination the rules do not define (a clinician decides)."""
        return "" if self.result.overall is None else self.result.overall.value

    @property
    def needs_review(self) -> bool:
        return self.result.needs_review

    @property
    def rule(self) -> str:
        return self.result.rule

    @property
    def explanation(self) -> str:
        return self.result.explanation

    def components(self) -> dict[str, Any]:
        return {"primary": self.primary, "metastases": self.metastases, "marrow": self.marrow}
