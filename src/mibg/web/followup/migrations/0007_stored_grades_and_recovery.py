# Stored grades and count recoveries (issue 11 "One exact shape per result"): until now each laboratory result's
# CTCAE v5.0 grade and each course's count recovery were computed again on every read. They are now stored in the
# core result's one shape, ``LabResult.grade_json`` (``CtcaeGrade.to_json()``, mibg.ctcae_grade version 1, or
# ``ClinicalReading.to_json()``, mibg.clinical_reading version 1) and ``CountRecovery.result_json``
# (``CourseRecovery.to_json()``, mibg.recovery version 1), and derived again by mibg.web.followup.services whenever
# what they are computed from changes. Migration 0008 makes the grade required.
#
# Unlike the conversions of stored columns (directives 0003, treatment 0003, followup 0004), nothing stored is
# converted here: both results are computed from their inputs, so this migration computes them with mibg.core
# (mibg.core.course_grades, mibg.core.recovery), on purpose, from exactly what the services read: a stored grade
# is by definition what the core computes from the current inputs, and the CTCAE grading is too large to write
# out twice. The inputs, read here from the historical models as the services read them:
# * the course's results that count (not voided) with the entered value, unit, LLN, ULN and collection time;
# * the infusion start: the start of the course's current administration (not superseded), latest first;
# * the screening results of the course's latest evaluation (baselines, decisions.md A33);
# * the patient's date of birth (blood pressure, issue 12); the transfusions that count (recovery).
# A voided result is graded in its course's context too (its baseline from the results that count). A result that
# cannot be graded stops the migration with the result named: nothing is guessed. One audit record per course
# says what was stored: each result's grade (or reading) and the recovery's status and day.

import json

from django.db import migrations, models
from django.utils import timezone

NOTE = ("Grades of the course's laboratory results and its count recovery stored in their one shape by migration "
        "followup.0007 (issue 11): computed by mibg.core from the stored inputs, as the pages computed them on every "
        "read until now.")


class Ungradable(RuntimeError):
    pass


def _value(row):
    from mibg.core.labs import lab_value

    return lab_value(row.test, row.value, row.unit, lln=row.lln or None, uln=row.uln or None,
                     collected_at=row.collected_at)


def _screening(course):
    from mibg.core.course_grades import screening_values

    evaluation = course.evaluations.order_by("-evaluated_at", "-id").first()
    return [] if evaluation is None else screening_values(json.loads(evaluation.snapshot_json).get("labs") or [])


def derive(course, labs, transfusions):
    """(grades by result id, recovery shape or None) of one course, from its historical rows."""
    from mibg.core.course_grades import grade_course
    from mibg.core.errors import InputError
    from mibg.core.recovery import TransfusionEvent, course_recovery, series_from_labs
    from mibg.core.vocabulary import TransfusionProduct

    administration = (course.administrations.filter(superseded_at__isnull=True).order_by("-started_at").first())
    start = None if administration is None else administration.started_at
    screening = _screening(course)
    live = [r for r in labs if r.voided_at is None]
    values = {r.pk: _value(r) for r in labs}
    grades = {}
    try:
        grades.update(grade_course([(r.pk, values[r.pk]) for r in live], start, screening, course.patient.birth_date))
        for r in labs:
            if r.voided_at is not None:
                grades[r.pk] = grade_course([*[(x.pk, values[x.pk]) for x in live], (r.pk, values[r.pk])], start,
                                            screening, course.patient.birth_date)[r.pk]
    except InputError as error:
        raise Ungradable(f"course {course.pk}: a laboratory result cannot be graded ({error.field}: "
                         f"{error.message})") from None
    recovery = None
    if start is not None:
        local = timezone.localtime(start)
        series = [values[r.pk] for r in live]
        lln = {}
        for r in live:
            if values[r.pk].lln is not None and r.test in ("anc", "platelets", "hemoglobin"):
                lln[r.test] = values[r.pk].lln
        recovery = course_recovery(
            local, anc=series_from_labs(series, "anc"), platelets=series_from_labs(series, "platelets"),
            hemoglobin=series_from_labs(series, "hemoglobin"),
            transfusions=[TransfusionEvent(TransfusionProduct(t.product), t.given_at) for t in transfusions
                          if t.voided_at is None],
            lln=lln).to_json()
    return {pk: g.to_json() for pk, g in grades.items()}, recovery


def _said(grade):
    if grade["schema"] == "mibg.clinical_reading":
        return grade["flag"] or (f"grade {grade['grade_from_value']}" if grade["grade_from_value"] is not None
                                 else "grade: the physician's")
    return f"grade {grade['grade']}"


def forwards(apps, schema_editor):
    from mibg.web.audit.chain import seal

    Course = apps.get_model("courses", "Course")
    LabResult = apps.get_model("followup", "LabResult")
    Transfusion = apps.get_model("followup", "Transfusion")
    CountRecovery = apps.get_model("followup", "CountRecovery")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    with_labs = set(LabResult.objects.values_list("course_id", flat=True))
    given = set(apps.get_model("treatment", "Administration").objects.values_list("course_id", flat=True))
    for course in Course.objects.filter(pk__in=with_labs | given).select_related("patient").order_by("pk"):
        labs = list(LabResult.objects.filter(course_id=course.pk).order_by("pk"))
        if labs and all(r.grade_json is not None for r in labs) and CountRecovery.objects.filter(course_id=course.pk).exists():
            continue
        grades, recovery = derive(course, labs, list(Transfusion.objects.filter(course_id=course.pk)))
        for r in labs:
            LabResult.objects.filter(pk=r.pk).update(grade_json=grades[r.pk])
        if recovery is not None:
            CountRecovery.objects.update_or_create(course_id=course.pk, defaults={"result_json": recovery})
        said = {"grades": {str(r.pk): _said(grades[r.pk]) for r in labs},
                "recovery": None if recovery is None else {"status": recovery["recovery"]["status"],
                                                           "day": recovery["recovery"]["day"]}}
        event = AuditEvent(at=timezone.now(), user=None, username="system", action="update", model="courses.Course",
                           object_id=str(course.pk), object_repr=f"Course {course.number} of patient {course.patient_id}"[:200],
                           patient_id=course.patient_id, field="grade_json, recovery", old_value="",
                           new_value=json.dumps(said, sort_keys=True), note=NOTE)
        seal([event])
        event.save()


class Migration(migrations.Migration):

    dependencies = [
        ("followup", "0006_lab_tests_thyroid_and_blood_pressure"),
        ("courses", "0001_initial"),
        ("treatment", "0004_assay_administration_result_only"),
        ("screening", "0002_eligibility_schema_v1"),
        ("audit", "0004_chain_constraints"),
    ]

    operations = [
        migrations.AddField(model_name="labresult", name="grade_json", field=models.JSONField(null=True)),
        migrations.CreateModel(
            name="CountRecovery",
            fields=[
                ("course", models.OneToOneField(on_delete=models.deletion.PROTECT, primary_key=True,
                                                related_name="count_recovery", serialize=False, to="courses.course")),
                ("result_json", models.JSONField()),
                ("derived_at", models.DateTimeField(default=timezone.now)),
            ],
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
