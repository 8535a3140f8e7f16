"""Results stored before they had one shape are converted by data migrations (issue 11 "One exact shape per
result"), each row with an audit record, and read back as the result that was recorded: nothing stored is lost.

Each test takes a course through the real steps with today's code, moves the one app back to the migration
before the conversion, writes rows the way the old code wrote them (parallel Decimal columns), then migrates
forward and reads the typed core result from the stored shape.
"""

from __future__ import annotations

import importlib
import json
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from clinic_helpers import floats_in
from mibg.core.administration import AdministeredActivity, AssayCheck, administered_activity, check_assay
from mibg.core.response import inrc_overall
from mibg.core.units import Activity
from mibg.core.verification import VerificationResult
from mibg.web.audit.chain import verify as verify_chain
from mibg.web.audit.models import AuditEvent
from mibg.web.courses.services import current_directive
from mibg.web.directives.models import Verification
from mibg.web.followup.models import InrcAssessment
from mibg.web.treatment.models import Administration, Assay


def _back_to(target: tuple[str, str]):
    """Migrate one app back to ``target``; the historical models there."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


def _forward() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_sams_verifications_stored_as_columns_read_back_as_the_verification_results_they_were(make_course, people):
    course = make_course(until="directive signed")
    directive = current_directive(course)
    old = _back_to(("directives", "0002_dose_plan_schema_v1")).get_model("directives", "Verification")
    # As verify_directive wrote them before issue 11: a refusal (the weight typed as 22.5), then the match.
    refused = old.objects.create(directive_id=directive.pk, by_id=people["sam"].pk, signed_name="Sam Physicist",
                                 weight_kg=Decimal("22.500"), mci_per_kg=Decimal("18.000"), accepted=False,
                                 differing="weight_kg,activity_mci", message="The entries differ from the written "
                                 "directive. Nothing was accepted.")
    matched = old.objects.create(directive_id=directive.pk, by_id=people["sam"].pk, signed_name="Sam Physicist",
                                 weight_kg=Decimal("22.000"), mci_per_kg=Decimal("18.000"), accepted=True, differing="",
                                 message="Matches the written directive exactly: weight, dose per kg and activity.")
    _forward()
    rows = {v.pk: v for v in Verification.objects.all()}
    # 22.5 kg x 18 mCi/kg = 405 mCi; 22 kg x 18 mCi/kg = 396 mCi (the verifier's own entries).
    assert rows[refused.pk].result == VerificationResult(False, ("weight_kg", "activity_mci"), Decimal("405.000000"),
                                                         refused.message)
    assert rows[matched.pk].result == VerificationResult(True, (), Decimal("396"), matched.message)
    assert rows[matched.pk].result_json["second_activity_mci"] == "396.000000"  # text, never a float
    assert not hasattr(rows[matched.pk], "differing")  # the parallel columns are gone
    assert list(directive.verifications.filter(result_json__accepted=True)) == [rows[matched.pk]]
    events = AuditEvent.objects.filter(model="directives.Verification", field="result_json", username="system")
    assert sorted(int(e.object_id) for e in events) == sorted([refused.pk, matched.pk])
    before = json.loads(events.get(object_id=str(refused.pk)).old_value)
    assert before == {"accepted": False, "differing": "weight_kg,activity_mci", "message": refused.message}
    assert verify_chain().intact


def _old_assay_columns(check: AssayCheck) -> dict[str, object]:
    """What record_assay stored before issue 11: the computed values rounded half to even."""
    return {"corrected_mci": check.corrected.mci.quantize(Decimal("0.0001"), ROUND_HALF_EVEN),
            "deviation_percent": check.deviation_percent.quantize(Decimal("0.001"), ROUND_HALF_EVEN),
            "within_tolerance": check.within_tolerance, "message": check.message}


@pytest.mark.django_db(transaction=True)
def test_rileys_assays_and_noras_administrations_stored_as_rounded_columns_read_back_exactly(make_course, people):
    course = make_course(until="verified", days_ahead=-1)
    directive = current_directive(course)
    t_adm = directive.administration_time
    zone = ZoneInfo(settings.TIME_ZONE)
    # Riley measured 399.8 mCi 90 min before the planned time, then (a correction) 480.0 mCi: 21 % high, stopped.
    measured_at = t_adm - timedelta(hours=1, minutes=30)
    first = check_assay(directive.activity, Decimal("399.8"), measured_at, t_adm, display_zone=zone)
    second = check_assay(directive.activity, Decimal("490.0"), measured_at, t_adm, display_zone=zone)
    assert (first.within_tolerance, second.within_tolerance) == (True, False)
    # Nora: the infusion started 10 min late, 3.25 mCi left in the syringe and line 100 min after the start.
    started = t_adm + timedelta(minutes=10)
    residual_at = started + timedelta(minutes=100)
    given = administered_activity(directive.activity, Decimal("399.8"), measured_at, Decimal("3.25"), residual_at,
                                  started)
    old = _back_to(("treatment", "0002_corrections"))
    OldAssay, OldAdministration = old.get_model("treatment", "Assay"), old.get_model("treatment", "Administration")
    common = {"course_id": course.pk, "directive_id": directive.pk, "lot": "LSA-24-0117", "calibration_time": t_adm,
              "specific_activity": Decimal("12.000"), "specific_activity_unit": "Ci/mmol", "measured_at": measured_at,
              "calibrator_id": "Capintec CRC-55tR #2", "recorded_by_id": people["riley"].pk}
    stopped = OldAssay.objects.create(**common, measured_mci=Decimal("490.000"), **_old_assay_columns(second))
    assay = OldAssay.objects.create(**common, measured_mci=Decimal("399.800"), **_old_assay_columns(first))
    rounded = {name: getattr(given, attr).activity_to.mci.quantize(Decimal("0.0001"), ROUND_HALF_EVEN) for name, attr in
               (("pre_corrected_mci", "before"), ("residual_corrected_mci", "residual"))}
    administration = OldAdministration.objects.create(
        course_id=course.pk, directive_id=directive.pk, assay_id=assay.pk, started_at=started,
        ended_at=started + timedelta(minutes=90), route="central_line", volume_ml=Decimal("50.00"),
        residual_mci=Decimal("3.250"), residual_measured_at=residual_at,
        pre_corrected_mci=rounded["pre_corrected_mci"], residual_corrected_mci=rounded["residual_corrected_mci"],
        administered_mci=given.administered.mci.quantize(Decimal("0.0001"), ROUND_HALF_EVEN),
        deviation_percent=given.deviation_percent.quantize(Decimal("0.001"), ROUND_HALF_EVEN),
        possible_medical_event=given.possible_medical_event, message=given.message, recorded_by_id=people["nora"].pk)
    _forward()
    assays = {a.pk: a for a in Assay.history.all()}
    # The exact results, not the rounded columns: e.g. the administered activity with every digit.
    assert assays[assay.pk].result == first
    assert assays[stopped.pk].result == second
    stored = Administration.objects.get(pk=administration.pk)
    assert stored.result == given
    assert stored.administered_mci == given.administered.mci != administration.administered_mci
    assert AdministeredActivity.from_json(json.loads(json.dumps(stored.result_json))) == given
    for row in (*assays.values(), stored):
        assert floats_in(row.result_json) == []
    assert not Administration.objects.filter(result_json__possible_medical_event=True).exists()
    events = {(e.model, int(e.object_id)): e for e in AuditEvent.objects.filter(field="result_json", username="system",
                                                                              model__startswith="treatment.")}
    assert set(events) == {("treatment.Assay", assay.pk), ("treatment.Assay", stopped.pk),
                           ("treatment.Administration", administration.pk)}
    kept = json.loads(events[("treatment.Administration", administration.pk)].old_value)
    assert kept["administered_mci"] == str(administration.administered_mci)
    assert kept["message"] == given.message
    assert verify_chain().intact


def test_a_stored_assay_whose_rounded_column_disagrees_with_its_entries_stops_the_migration_naming_it() -> None:
    migration = importlib.import_module("mibg.web.treatment.migrations.0003_assay_administration_result_json")
    zone = ZoneInfo("America/Los_Angeles")
    t_adm = datetime(2026, 12, 10, 9, 0, tzinfo=zone)
    check = check_assay(Activity(Decimal("396.000000")), Decimal("399.8"), t_adm, t_adm, display_zone=zone)
    row = SimpleNamespace(pk=41, measured_mci=Decimal("399.800"), measured_at=t_adm,
                          directive=SimpleNamespace(activity_mci=Decimal("396.000000"), administration_time=t_adm),
                          **_old_assay_columns(check))
    assert migration.assay(row, zone)["within_tolerance"] is True
    row.corrected_mci = Decimal("399.7000")  # not 399.8 mCi at no elapsed time
    with pytest.raises(migration.Unconvertible, match="assay 41"):
        migration.assay(row, zone)


@pytest.mark.django_db(transaction=True)
def test_dr_patels_inrc_assessments_stored_as_columns_read_back_as_the_responses_they_were(make_course, people):
    course = make_course(until="follow-up", days_ahead=-60)
    OldInrc = _back_to(("followup", "0003_nurse_draft_adverse_events")).get_model("followup", "InrcAssessment")
    rows = {}
    # As record_inrc wrote them before issue 11: PR/PR/CR gives PR; PD in any component gives PD; CR/CR/MD is a
    # combination the rules leave to a clinician (no overall response, needs review; clinical-reference §6.2).
    for components in (("PR", "PR", "CR"), ("PD", "CR", "NI"), ("CR", "CR", "MD")):
        result = inrc_overall(*components)
        rows[components] = (result, OldInrc.objects.create(
            course_id=course.pk, assessed_on=date(2026, 1, 20), primary=components[0], metastases=components[1],
            marrow=components[2], overall="" if result.overall is None else result.overall.value,
            needs_review=result.needs_review, rule=result.rule, explanation=result.explanation,
            recorded_by_id=people["patel"].pk))
    _forward()
    for result, old in rows.values():
        stored = InrcAssessment.objects.get(pk=old.pk)
        assert stored.result == result
        assert stored.result_json == result.to_json()
    assert rows[("CR", "CR", "MD")][0].needs_review
    assert InrcAssessment.objects.get(pk=rows[("CR", "CR", "MD")][1].pk).overall == ""
    events = AuditEvent.objects.filter(model="followup.InrcAssessment", field="result_json", username="system")
    assert events.count() == 3
    assert verify_chain().intact


@pytest.mark.django_db(transaction=True)
def test_noras_labs_entered_before_grades_were_stored_get_their_grades_and_the_courses_recovery(make_course, people):
    """followup 0007: results stored without a grade (graded on every read until then) get the grade the core
    computes in the course's context, and the course its count recovery, with one audit record per course. Hand
    values (clinical-reference §6.1): ALT 100 U/L (ULN 40) before the infusion is the baseline, abnormal; 130 U/L on
    day 5 is 1.3 x baseline, under 1.5: grade 0; ANC 0.4 x 10^9/L is < 0.5: grade 4, the nadir."""
    from mibg.core.labs import lab_value
    from mibg.web.followup import services as followup
    from mibg.web.followup.models import CountRecovery, LabResult

    course = make_course(until="follow-up", days_ahead=-20)
    untouched = make_course(until="administered", days_ahead=-2)  # given, no result yet: a recovery of no data
    start = course.administrations.get().started_at
    OldLab = _back_to(("followup", "0006_lab_tests_thyroid_and_blood_pressure")).get_model("followup", "LabResult")
    assert "grade_json" not in {f.name for f in OldLab._meta.get_fields()}

    def old(test, value, unit, at, lln="", uln="", **extra):
        # As _create_lab wrote them before issue 11's stored grades: the entry and its canonical conversion only.
        lab = lab_value(test, value, unit, lln=lln or None, uln=uln or None, collected_at=at)
        return OldLab.objects.create(course_id=course.pk, test=test, loinc=lab.definition.loinc, value=value, unit=unit,
                                     lln=lln, uln=uln, ucum=lab.definition.ucum, value_canonical=str(lab.value),
                                     lln_canonical="" if lab.lln is None else str(lab.lln),
                                     uln_canonical="" if lab.uln is None else str(lab.uln), collected_at=at,
                                     source="form", entered_by_id=people["nora"].pk, **extra)

    baseline = old("alt", "100", "U/L", start - timedelta(hours=1), uln="40")
    day5 = old("alt", "130", "U/L", start + timedelta(days=5), uln="40")
    anc = old("anc", "0.4", "10^9/L", start + timedelta(days=7), lln="1.5")
    voided = old("anc", "4.0", "10^9/L", start + timedelta(days=8), lln="1.5", voided_at=timezone.now(),
                 voided_by_id=people["nora"].pk, void_reason="wrong patient")
    _forward()
    rows = {r.pk: r for r in LabResult.objects.filter(course=course)}
    assert (rows[baseline.pk].grade.grade, rows[baseline.pk].grade.baseline) == (1, None)  # 2.5 x ULN, on the ULN
    assert (rows[day5.pk].grade.grade, rows[day5.pk].grade.baseline) == (0, Decimal("100"))
    assert rows[anc.pk].grade.grade == 4
    assert rows[voided.pk].grade.grade == 0  # 4.0 >= LLN 1.5: within normal (voided, still graded)
    recovery = CountRecovery.objects.get(course=course).result
    assert (recovery.anc.nadir, recovery.anc.nadir_day) == (Decimal("0.4"), 7)
    assert str(CountRecovery.objects.get(course=untouched).result.recovery.status) == "no data"
    events = AuditEvent.objects.filter(model="courses.Course", field="grade_json, recovery", username="system")
    assert sorted(int(e.object_id) for e in events) == sorted([course.pk, untouched.pk])
    said = json.loads(events.get(object_id=str(course.pk)).new_value)
    assert said["grades"] == {str(baseline.pk): "grade 1", str(day5.pk): "grade 0", str(anc.pk): "grade 4",
                              str(voided.pk): "grade 0"}
    assert verify_chain().intact
    # What the migration stored is what the services store: deriving again changes nothing.
    before = AuditEvent.objects.count()
    followup.rederive(people["nora"], course, "checked")
    assert {r.pk: r.grade_json for r in LabResult.objects.filter(course=course)} == {
        pk: r.grade_json for pk, r in rows.items()}
    assert AuditEvent.objects.count() == before
