# Stored assays and administrations: the parallel Decimal columns (rounded to 0.0001 mCi and 0.001 %) become
# each result's one serialization (issue 11 "One exact shape per result"): ``mibg.assay`` version 1
# (``AssayCheck.to_json()``) and ``mibg.administration`` version 1 (``AdministeredActivity.to_json()``), in the
# JSON column ``result_json``. Migration 0004 then drops the old columns.
#
# Written out here on plain values, importing nothing of the live core. The exact result is computed again from
# what was entered, as mibg.core.administration and mibg.core.decay computed it when this was written:
# * the decay correction: elapsed hours = seconds / 3600 (exact), factor = exp(-ln2 x h / (8.0207 d x 24 h/d))
#   written to 10 significant digits, activity = measured x factor (exact);
# * the assay is carried from its measurement to the directive's administration time; the administration's
#   pre-administration assay and residual to the start of the infusion; administered = pre - residual;
# * deviation = (activity - prescribed) / prescribed x 100, prescribed = the directive's activity;
# * the tolerance (10 CFR 35.63) is the one the stored message names ("Within 20 %", "More than 20 %"), the
#   medical-event threshold (10 CFR 35.3045) the one it names ("A difference of 20 % or more") or else the site's
#   20 %; times are written in the clinic's zone, the assay's message shown in it.
# The recomputed values must round to the stored columns exactly and give the stored verdicts; a row that does
# not stops the migration with the row named: nothing is guessed. Every converted row gets an audit record
# with the old columns and the new text. The message is kept as it was worded then (the typed result words it
# again when read).

import json
import math
import re
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

VERSION = 1
#: The I-131 half-life of the protocol definition when this migration was written (ICRP-107).
HALF_LIFE_DAYS = Decimal("8.0207")
#: The site's medical-event threshold when this migration was written (10 CFR 35.3045).
MEDICAL_EVENT_PERCENT = Decimal("20")
STORED, PERCENT = Decimal("0.0001"), Decimal("0.001")
TOLERANCE = re.compile(r"(?:Within|More than) ([0-9.]+) %")
THRESHOLD = re.compile(r"A difference of ([0-9.]+) % or more")
NOTE = ("Stored {what} converted to the result's one serialization ({schema} version 1) by migration "
        "treatment.0003 (issue 11): the exact values were computed again from the entries and agree with the "
        "rounded columns, which are kept here with the message as it was worded.")


class Unconvertible(RuntimeError):
    pass


def _rounded(value, step):
    return value.quantize(step, rounding=ROUND_HALF_EVEN)


def _activity(mci):
    return str(mci), str(mci * 37)


def correction(activity, time_from, time_to, zone):
    elapsed = Decimal(str((time_to - time_from).total_seconds())) / Decimal(3600)
    rate = math.log(2) / float(HALF_LIFE_DAYS * Decimal(24))
    factor = Decimal(f"{math.exp(-rate * float(elapsed)):.10g}")
    to = activity * factor
    mci, mbq = _activity(to)
    return {"activity_from_mci": str(activity), "time_from": time_from.astimezone(zone).isoformat(),
            "time_to": time_to.astimezone(zone).isoformat(), "elapsed_hours": str(elapsed),
            "half_life_days": str(HALF_LIFE_DAYS), "factor": str(factor), "activity_to_mci": mci,
            "activity_to_mbq": mbq}, to


def _deviation(actual, prescribed):
    return (actual - prescribed) / prescribed * Decimal(100)


def _agree(pk, what, checks):
    for name, found, expected in checks:
        if found != expected:
            raise Unconvertible(f"{what} {pk}: the stored {name} {found} is not {expected} computed again from the "
                                "entries")


def assay(row, zone):
    prescribed = row.directive.activity_mci
    shape, corrected = correction(row.measured_mci, row.measured_at, row.directive.administration_time, zone)
    deviation = _deviation(corrected, prescribed)
    found = TOLERANCE.search(row.message or "")
    if found is None:
        raise Unconvertible(f"assay {row.pk}: the stored message names no tolerance")
    tolerance = Decimal(found.group(1))
    within = abs(deviation) <= tolerance
    _agree(row.pk, "assay", [("corrected activity", row.corrected_mci, _rounded(corrected, STORED)),
                             ("deviation", row.deviation_percent, _rounded(deviation, PERCENT)),
                             ("verdict (within tolerance)", row.within_tolerance, within)])
    return {"schema": "mibg.assay", "schema_version": VERSION, "prescribed_mci": str(prescribed), "correction": shape,
            "deviation_percent": str(deviation), "tolerance_percent": str(tolerance), "within_tolerance": within,
            "display_zone": zone.key, "message": row.message}


def administration(row, zone):
    prescribed = row.directive.activity_mci
    before, pre = correction(row.assay.measured_mci, row.assay.measured_at, row.started_at, zone)
    residual, left = correction(row.residual_mci, row.residual_measured_at, row.started_at, zone)
    given = pre - left
    deviation = _deviation(given, prescribed)
    found = THRESHOLD.search(row.message or "")
    threshold = Decimal(found.group(1)) if found else MEDICAL_EVENT_PERCENT
    event = abs(deviation) >= threshold
    _agree(row.pk, "administration", [
        ("assay at the start", row.pre_corrected_mci, _rounded(pre, STORED)),
        ("residual at the start", row.residual_corrected_mci, _rounded(left, STORED)),
        ("administered activity", row.administered_mci, _rounded(given, STORED)),
        ("deviation", row.deviation_percent, _rounded(deviation, PERCENT)),
        ("possible medical event", row.possible_medical_event, event)])
    mci, mbq = _activity(given)
    cents = Decimal("0.01")
    formula = (f"A_adm = A_pre(t_adm) - A_res(t_adm) = {pre.quantize(cents)} mCi - {left.quantize(cents)} mCi = "
               f"{given.quantize(cents)} mCi")
    return {"schema": "mibg.administration", "schema_version": VERSION, "prescribed_mci": str(prescribed),
            "before": before, "residual": residual, "administered_mci": mci, "administered_mbq": mbq,
            "deviation_percent": str(deviation), "medical_event_percent": str(threshold),
            "possible_medical_event": event, "formula": formula, "message": row.message}


def _old(row, names):
    return json.dumps({name: str(getattr(row, name)) for name in names}, sort_keys=True)


ASSAY_COLUMNS = ("measured_mci", "measured_at", "corrected_mci", "deviation_percent", "within_tolerance", "message")
ADMINISTRATION_COLUMNS = ("residual_mci", "residual_measured_at", "pre_corrected_mci", "residual_corrected_mci",
                          "administered_mci", "deviation_percent", "possible_medical_event", "message")


def forwards(apps, schema_editor):
    from mibg.web.audit.chain import seal

    AuditEvent = apps.get_model("audit", "AuditEvent")
    zone = ZoneInfo(settings.TIME_ZONE)
    for model, convert, columns, what, schema in (
            ("Assay", assay, ASSAY_COLUMNS, "assay", "mibg.assay"),
            ("Administration", administration, ADMINISTRATION_COLUMNS, "administration", "mibg.administration")):
        Model = apps.get_model("treatment", model)
        rows = Model._base_manager.select_related("course", "directive", *(("assay",) if model == "Administration" else ()))
        for row in rows.order_by("pk").iterator():
            if row.result_json is not None:
                continue
            new = convert(row, zone)
            Model._base_manager.filter(pk=row.pk).update(result_json=new)
            event = AuditEvent(at=timezone.now(), user=None, username="system", action="update",
                               model=f"treatment.{model}", object_id=str(row.pk),
                               object_repr=f"{model} {row.pk} of course {row.course_id}"[:200],
                               patient_id=row.course.patient_id, field="result_json",
                               old_value=_old(row, columns), new_value=json.dumps(new, sort_keys=True),
                               note=NOTE.format(what=what, schema=schema))
            seal([event])
            event.save()


class Migration(migrations.Migration):

    dependencies = [
        ("treatment", "0002_corrections"),
        ("directives", "0002_dose_plan_schema_v1"),
        ("audit", "0004_chain_constraints"),
    ]

    operations = [
        migrations.AddField(model_name="assay", name="result_json", field=models.JSONField(null=True)),
        migrations.AddField(model_name="administration", name="result_json", field=models.JSONField(null=True)),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
