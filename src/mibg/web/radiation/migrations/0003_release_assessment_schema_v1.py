# Stored release assessments: the ``as_dict()`` shapes signed at release (exact values written as binary floats)
# become each result's one serialization, version 1 (``ReleaseAssessment.to_json()``, ``RetentionFit.to_json()``,
# ``WholeBodyDose.to_json()``; issue 11 "One exact shape per result").
#
# Written out here on plain JSON, importing nothing of the live core. What the conversion does:
# * a Decimal stored as a float (activity, weight, readings, limits, doses to others) becomes the text of the
#   float's shortest representation: exact for every value entered with at most 15 significant digits; a
#   computed value with more digits (a decay-corrected activity, a retention ratio) keeps its first 15-17;
# * values derived from others are computed again from them (MBq = mCi x 37, mSv = mrem x 0.01, "met" =
#   value <= limit, releasable now), so the record is consistent;
# * findings get an empty list of inputs (the old shape did not keep them); fitted curves an empty covariance
#   (not kept either); the trapezoid integral its last reading, from the last point.
# A record that lacks a field stops the migration with the record named. Every converted record gets an audit
# record with the old text.

import json
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

VERSION = 1
NOTE = ("Signed release assessment converted to the results' one serialization (mibg.release, mibg.retention_fit, "
        "mibg.whole_body_dose version 1) by migration radiation.0003 (issue 11). Exact values had been stored as "
        "binary floats; they are kept as the text of the float's shortest representation. The old text is kept here.")


class Unconvertible(RuntimeError):
    pass


def _text(value):
    """A stored float (or int) as exact decimal text through its shortest representation; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unconvertible(f"expected a number, found {value!r}")
    return str(Decimal(repr(value) if isinstance(value, float) else str(value)))


def _finding(f):
    return {"rule": f["rule"], "severity": f["severity"], "message": f["message"], "inputs": f.get("inputs", []),
            "reference": f.get("reference", ""), "chair_clearable": bool(f.get("chair_clearable", False)),
            "cleared_by": f.get("cleared_by", "")}


def _others(d):
    mrem = _text(d["mrem"])
    return {"mrem": mrem, "msv": str(Decimal(mrem) * Decimal("0.01")), "half_life_days": _text(d["half_life_days"]),
            "occupancy": _text(d["occupancy"]), "basis": d["basis"], "calculation": d["calculation"]}


def release(old):
    criteria = []
    for c in old["criteria"]:
        value, limit = _text(c["value"]), _text(c["limit"])
        criteria.append({**c, "value": value, "limit": limit, "met": Decimal(value) <= Decimal(limit),
                         "first_met_h": _text(c["first_met_h"])})
    administered, retained = _text(old["administered_mci"]), _text(old["retained_mci"])
    return {
        "schema": "mibg.release", "schema_version": VERSION,
        "administered_mci": administered, "administered_mbq": str(Decimal(administered) * 37),
        "as_of_h": _text(old["as_of_h"]), "dose_rate_mrem_per_h": _text(old["dose_rate_mrem_per_h"]),
        "retained_mci": retained, "retained_mbq": str(Decimal(retained) * 37),
        "site_limit_mrem_per_h": _text(old["site_limit_mrem_per_h"]), "site_limit_source": old["site_limit_source"],
        "releasable_now": {"federal": any(c["met"] for c in criteria if c["scope"] != "site"),
                           "site": all(c["met"] for c in criteria if c["scope"] == "site")},
        "predicted_release_federal_h": old["predicted_release_federal_h"],
        "predicted_release_site_h": old["predicted_release_site_h"],
        "criteria": criteria,
        "dose_to_others": _others(old["dose_to_others"]),
        "dose_to_others_effective": _others(old["dose_to_others_effective"]),
        "dose_to_others_at_site_limit": _others(old["dose_to_others_at_site_limit"]),
        "written_instructions": old["written_instructions"],
        "release_record": old["release_record"],
        "findings": [_finding(f) for f in old["findings"]],
        "calculations": old["calculations"],
    }


def _fit(f):
    return {"model": f["model"], "components": f["components"], "covariance": f.get("covariance", []),
            "rss_ln_r": f["rss_ln_r"], "n_points": f["n_points"], "aicc": f["aicc"]}


def retention(old):
    points = [{"hours": _text(p["hours"]), "net_mrem_per_h": _text(p["net_mrem_per_h"]),
               "retention": _text(p["retention"]), "label": p["label"]} for p in old["points"]]
    trapezoid = old.get("trapezoid")
    if trapezoid is not None:
        last = old["points"][-1]
        trapezoid = {**trapezoid, "last_hours": float(last["hours"]), "last_retention": float(last["retention"])}
    return {
        "schema": "mibg.retention_fit", "schema_version": VERSION,
        "model": old["model"], "method": old["method"], "first_reading_h": old["first_reading_h"], "points": points,
        "components": old["components"], "fit": _fit(old["fit"]) if old.get("fit") else None,
        "candidates": [_fit(c) for c in old["candidates"]], "trapezoid": trapezoid,
        "tiac_h": old["tiac_h"], "tiac_se_h": old["tiac_se_h"], "effective_half_life_h": old["effective_half_life_h"],
        "effective_half_life_se_h": old["effective_half_life_se_h"], "notes": old["notes"],
        "findings": [_finding(f) for f in old["findings"]], "calculations": old["calculations"],
        "reference": old["reference"],
    }


def whole_body_dose(old):
    administered = _text(old["administered_mci"])
    return {
        "schema": "mibg.whole_body_dose", "schema_version": VERSION,
        **{key: old[key] for key in ("tiac_h", "cumulated_activity_mbq_h", "photon_absorbed_fraction_source", "method",
                                     "whole_body_dose_gy", "whole_body_dose_se_gy", "whole_body_dose_electron_only_gy",
                                     "whole_body_dose_at_phi_gy", "notes", "calculations", "reference")},
        "administered_mci": administered, "administered_mbq": str(Decimal(administered) * 37),
        "weight_kg": _text(old["weight_kg"]), "photon_absorbed_fraction": _text(old["photon_absorbed_fraction"]),
        "energy_per_decay_mev": _text(old["energy_per_decay_mev"]),
        "s_value_gy_kg_per_bq_s": _text(old["s_value_gy_kg_per_bq_s"]),
    }


def convert(old, pk):
    try:
        return {"release": release(old["release"]), "retention": retention(old["retention"]),
                "whole_body_dose": whole_body_dose(old["whole_body_dose"]), "readings_basis": old["readings_basis"]}
    except (KeyError, TypeError, IndexError, Unconvertible) as error:
        raise Unconvertible(f"release record {pk}: the stored assessment cannot be converted ({error!r})") from None


def forwards(apps, schema_editor):
    from mibg.web.audit.chain import seal

    ReleaseRecord = apps.get_model("radiation", "ReleaseRecord")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    for record in ReleaseRecord.objects.select_related("course").order_by("pk").iterator():
        old = json.loads(record.assessment_json)
        if (old.get("release") or {}).get("schema") == "mibg.release":
            continue
        new_text = json.dumps(convert(old, record.pk))
        ReleaseRecord.objects.filter(pk=record.pk).update(assessment_json=new_text)
        event = AuditEvent(at=timezone.now(), user=None, username="system", action="update",
                           model="radiation.ReleaseRecord", object_id=str(record.pk),
                           object_repr=f"Release of course {record.course_id}"[:200],
                           patient_id=record.course.patient_id, field="assessment_json",
                           old_value=record.assessment_json, new_value=new_text, note=NOTE)
        seal([event])
        event.save()


class Migration(migrations.Migration):

    dependencies = [
        ("radiation", "0002_corrections_and_early_stem_cells"),
        ("audit", "0004_chain_constraints"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
