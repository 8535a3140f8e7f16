"""Possible medical events and serious adverse events recorded before event reports existed get their draft report,
discovered when the event was recorded (the moment the application knew of it), opened by the user who recorded it.
Their deadlines are computed from the protocol definition like any other report's (mibg.core.event_reports)."""

from django.db import migrations


def open_reports(apps, schema_editor):
    EventReport = apps.get_model("eventreports", "EventReport")
    Administration = apps.get_model("treatment", "Administration")
    AdverseEvent = apps.get_model("followup", "AdverseEvent")
    for a in Administration.objects.filter(possible_medical_event=True, event_report__isnull=True):
        EventReport.objects.create(course_id=a.course_id, kind="medical_event", administration_id=a.pk,
                                   discovered_at=a.recorded_at, description=a.message, created_by_id=a.recorded_by_id)
    for e in AdverseEvent.objects.filter(serious=True, voided_at__isnull=True, event_report__isnull=True):
        EventReport.objects.create(
            course_id=e.course_id, kind="sae", adverse_event_id=e.pk, discovered_at=e.recorded_at,
            description=f"{e.term}, CTCAE grade {e.grade}, from {e.started_on.isoformat()}. {e.description}".strip(),
            created_by_id=e.recorded_by_id)


class Migration(migrations.Migration):
    dependencies = [("eventreports", "0001_initial")]

    operations = [migrations.RunPython(open_reports, migrations.RunPython.noop)]
