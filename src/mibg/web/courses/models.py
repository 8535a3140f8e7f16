"""A treatment course: one episode of 131I-MIBG therapy, with a state that moves only forward."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from mibg.core.course_state import CourseState


class Course(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="courses")
    number = models.PositiveIntegerField()  # 1, 2, ... per patient
    state = models.CharField(max_length=20, choices=[(s.value, s.label) for s in CourseState],
                             default=CourseState.SCREENING.value)
    planned_treatment_date = models.DateField(null=True, blank=True)
    #: The screening data being worked on (PatientSnapshot JSON); each evaluation keeps its own copy.
    snapshot_json = models.TextField(blank=True)
    closed_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["patient", "number"]
        constraints = [models.UniqueConstraint(fields=["patient", "number"], name="one_number_per_course")]

    def __str__(self) -> str:
        return f"Course {self.number} of {self.patient}"

    @property
    def state_enum(self) -> CourseState:
        return CourseState(self.state)


class StateChange(models.Model):
    """One step of a course: who, when it was recorded, when it happened clinically, and a note."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="steps")
    event = models.CharField(max_length=30)
    from_state = models.CharField(max_length=20)
    to_state = models.CharField(max_length=20)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    occurred_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.course}: {self.from_state} -> {self.to_state}"
