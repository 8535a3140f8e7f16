# Stored dose plans: from the text-only ``plan_record`` shape to the dose plan's one serialization,
# ``mibg.dose_plan`` version 1 (``DosePlan.to_json()``; issue 11 "One exact shape per result").
#
# The conversion is written out here, on plain JSON, and imports nothing of the live core: a later version of
# the plan gets its own migration, and this one keeps converting what it converts today.
#
# Where the old shape has no value the new one needs, it is taken from the records of the signature itself:
# * the request's volume, duration, specific activity and times from the directive row (times in the clinic's
#   zone, as the documents showed them);
# * diagnosis, stem cells per kg, last MIBG date and treatment date from the screening snapshot the plan was
#   made from (the latest evaluation before the signature with the directive's weight), as
#   ``dose_request_from_snapshot`` computes them; prior mCi/kg = cumulative - this course's mCi/kg;
# * the decay factor and half-life from the "Activity at calibration time" formula the signer saw, checked:
#   activity x factor must give the stored activity at calibration exactly;
# * the MIBG mass, drug volume and infusion rate are the values shown at signing (the old shape kept them only
#   as displayed: 4 and 2 decimals);
# * chair clearances are the rules whose finding reads "Cleared by a recorded study-chair decision";
# * ``max_activity_inclusive`` follows the reason's wording ("below" = exclusive).
# A plan that cannot be converted stops the migration with the directive named: nothing is guessed.
# Every converted row gets an audit record (old and new text, and this explanation).

import json
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations
from django.utils import timezone

SCHEMA, VERSION = "mibg.dose_plan", 1
CLEARED = "Cleared by a recorded study-chair decision"
DECAY = re.compile(r"\(([0-9.]+) d x 24 h/d\)\) = ([-0-9.E+]+) x ([-0-9.E+]+) = ")
NOTE = ("Stored dose plan converted to its one serialization (schema mibg.dose_plan version 1) by migration "
        "directives.0002 (issue 11). Values the old shape lacked were taken from the directive row, the screening "
        "snapshot the plan was made from and the formulas shown at signing; the old text is kept here.")


class Unconvertible(RuntimeError):
    pass


def _dec(value):
    return None if value is None else str(value)


def _trim(value):
    """A column value without the zeros of its column (``50.00`` -> ``50``), value unchanged."""
    if value is None:
        return None
    normal = value.normalize()
    return normal if normal.as_tuple().exponent <= 0 else normal.quantize(Decimal(1))


def _activity(mci):
    return None if mci is None else (str(mci), str(mci * 37), str(mci * 37 / 1000))


def _calculation(old, name):
    return next((c for c in old.get("calculations") or [] if c.get("name") == name), None)


def _input(text):
    name, _, rest = text.partition(" = ")
    when = ""
    if rest.endswith(")") and " (" in rest:
        rest, when = rest.rsplit(" (", 1)
        when = when[:-1]
    value, _, unit = rest.partition(" ")
    return {"name": name, "value": value, "unit": unit, "when": when, "field": ""}


def _snapshot(Evaluation, directive):
    evaluations = Evaluation.objects.filter(course_id=directive.course_id, evaluated_at__lte=directive.signed_at)
    chosen = None
    for evaluation in evaluations.order_by("-evaluated_at", "-id"):
        snapshot = json.loads(evaluation.snapshot_json)
        if chosen is None:
            chosen = snapshot
        raw = snapshot.get("weight_kg")
        if raw is not None and Decimal(str(raw)) == directive.weight_kg:
            return snapshot
    if chosen is None:
        raise Unconvertible(f"written directive {directive.pk}: no screening evaluation before its signature")
    return chosen


def convert(old, directive, snapshot, zone):
    weight, per_kg = Decimal(old["weight_kg"]), Decimal(old["mci_per_kg"])
    activity = Decimal(old["activity"]["mci"])
    if activity != weight * per_kg:
        raise Unconvertible(f"written directive {directive.pk}: {activity} mCi is not {weight} kg x {per_kg} mCi/kg")
    products = snapshot.get("stem_cell_products") or []
    snap_weight = Decimal(str(snapshot.get("weight_kg") or weight))
    cd34 = [Decimal(str(p["total_cd34_cells"])) / snap_weight for p in products
            if p.get("product_type") == "pbsc" and p.get("total_cd34_cells") is not None]
    mnc = [Decimal(str(p["total_mononuclear_cells"])) / snap_weight for p in products
           if p.get("product_type") == "bone_marrow" and p.get("total_mononuclear_cells") is not None]
    prior_dates = [str(c["infusion_date"])[:10] for c in snapshot.get("prior_mibg_courses") or []]
    findings = []
    for f in old.get("findings") or []:
        cleared = f["message"].startswith(CLEARED)
        findings.append({"rule": f["rule"], "severity": f["severity"], "message": f["message"], "inputs": [],
                         "reference": f.get("reference") or "", "chair_clearable": cleared,
                         "cleared_by": "study chair" if cleared else ""})
    calculations = [{"name": c["name"], "value": str(c["value"]), "unit": c.get("unit") or "",
                     "formula": c.get("formula") or "", "inputs": [_input(str(i)) for i in c.get("inputs") or []]}
                    for c in old.get("calculations") or []]
    calibration_time = directive.calibration_time.astimezone(zone)
    administration_time = directive.administration_time.astimezone(zone)
    calibration = None
    at_calibration = old.get("activity_at_calibration")
    if at_calibration:
        formula = (_calculation(old, "Activity at calibration time") or {}).get("formula", "")
        match = DECAY.search(formula)
        if match is None or Decimal(match.group(2)) != activity:
            raise Unconvertible(f"written directive {directive.pk}: the decay formula shown at signing cannot be read")
        half_life, factor = match.group(1), Decimal(match.group(3))
        drawn = activity * factor
        if drawn != Decimal(at_calibration["mci"]):
            raise Unconvertible(f"written directive {directive.pk}: {activity} mCi x {factor} is not the stored "
                                f"{at_calibration['mci']} mCi at calibration")
        seconds = (calibration_time - administration_time).total_seconds()
        calibration = {
            "activity_from_mci": str(activity), "time_from": administration_time.isoformat(),
            "time_to": calibration_time.isoformat(), "elapsed_hours": str(Decimal(str(seconds)) / Decimal(3600)),
            "half_life_days": half_life, "factor": str(factor), "activity_to_mci": str(drawn),
            "activity_to_mbq": str(drawn * 37),
        }
    cumulative = Decimal(old["cumulative_mci_per_kg"])
    reason = old.get("max_activity_reason") or ""
    maximum = Decimal(old["max_activity"]["mci"]) if old.get("max_activity") else None
    clearances = sorted({f["rule"] for f in findings if f["cleared_by"]})
    mass = _calculation(old, "MIBG mass")
    drug = _calculation(old, "Drug volume")
    rate = _calculation(old, "Infusion rate")
    sa_mmol = directive.specific_activity_ci_per_mmol
    sa_mg = directive.specific_activity_mci_per_mg
    a_mci, a_mbq, a_gbq = _activity(activity)
    return {
        "schema": SCHEMA, "schema_version": VERSION,
        "status": old["status"], "protocol": old["protocol"],
        "request": {
            "weight_kg": str(weight), "mci_per_kg": str(per_kg),
            "diagnosis": (snapshot.get("diagnosis") or {}).get("kind") or "neuroblastoma",
            "preparation": old.get("preparation"),
            "specific_activity_ci_per_mmol": _dec(_trim(sa_mmol)), "specific_activity_mci_per_mg": _dec(_trim(sa_mg)),
            "final_volume_ml": _dec(_trim(directive.final_volume_ml)), "infusion_min": _dec(_trim(directive.infusion_min)),
            "cd34_per_kg": _dec(max(cd34)) if cd34 else None, "marrow_mnc_per_kg": _dec(max(mnc)) if mnc else None,
            "prior_mci_per_kg": str(cumulative - per_kg),
            "last_mibg_date": max(prior_dates) if prior_dates else None,
            "treatment_date": str(snapshot["planned_treatment_date"])[:10] if snapshot.get("planned_treatment_date") else None,
            "calibration_time": calibration_time.isoformat(), "administration_time": administration_time.isoformat(),
            "chair_clearances": clearances,
        },
        "activity_mci": a_mci, "activity_mbq": a_mbq, "activity_gbq": a_gbq,
        "max_activity_mci": _dec(maximum), "max_activity_mbq": _dec(maximum * 37) if maximum is not None else None,
        "max_activity_inclusive": not reason.startswith("below "),
        "max_activity_reason": reason,
        "stem_cells_adequate": bool(old.get("stem_cells_adequate")),
        "cumulative_mci_per_kg": str(cumulative),
        "mibg_mass_mg": str(mass["value"]) if mass else None,
        "drug_volume_ml": str(drug["value"]) if drug else None,
        "infusion_rate_ml_per_h": str(rate["value"]) if rate else None,
        "calibration": calibration,
        "activity_at_calibration_mci": calibration["activity_to_mci"] if calibration else None,
        "activity_at_calibration_mbq": calibration["activity_to_mbq"] if calibration else None,
        "decay_factor": calibration["factor"] if calibration else None,
        "findings": findings,
        "calculations": calculations,
    }


def forwards(apps, schema_editor):
    from mibg.web.audit.chain import seal

    WrittenDirective = apps.get_model("directives", "WrittenDirective")
    Evaluation = apps.get_model("screening", "Evaluation")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    zone = ZoneInfo(settings.TIME_ZONE)
    for directive in WrittenDirective.objects.select_related("course").order_by("pk").iterator():
        old = json.loads(directive.plan_json)
        if old.get("schema") == SCHEMA:
            continue
        new_text = json.dumps(convert(old, directive, _snapshot(Evaluation, directive), zone))
        WrittenDirective.objects.filter(pk=directive.pk).update(plan_json=new_text)
        event = AuditEvent(at=timezone.now(), user=None, username="system", action="update",
                           model="directives.WrittenDirective", object_id=str(directive.pk),
                           object_repr=f"Written directive v{directive.version} ({directive.status})"[:200],
                           patient_id=directive.course.patient_id, field="plan_json",
                           old_value=directive.plan_json, new_value=new_text, note=NOTE)
        seal([event])
        event.save()


class Migration(migrations.Migration):

    dependencies = [
        ("directives", "0001_initial"),
        ("screening", "0001_initial"),
        ("audit", "0004_chain_constraints"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
