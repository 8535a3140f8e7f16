"""The one patient service: every door that creates or edits a patient (the patient form, ``POST /api/patients``,
``mibg patient add``, the FHIR import's patient check) comes here and gets the same refusal.

The identity rules are the core's (mibg.core.identity, decisions.md A34); this module adds what needs the stored
patients: an MRN is unique by its key (spaces and case ignored), checked under a lock of the key and kept by the
``patient_mrn_key_unique`` constraint. Refusals are :class:`InputError` naming the field; nothing is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from mibg.core.errors import InputError
from mibg.core.identity import SAME_PATIENT, Identity, check_identity, identity_problems, mrn_key
from mibg.web.audit.trail import field_values, log_changes
from mibg.web.changes import changed
from mibg.web.patients.models import Patient
from mibg.web.safety import update_versioned

PATIENT_FIELDS = ("mrn", "family_name", "given_name", "birth_date", "sex")


def _today() -> date:
    return timezone.localdate()


def problems(values: dict[str, Any], instance: Patient | None = None) -> dict[str, str]:
    """Every refusal of ``values`` by field (the form shows them all): the A34 rules, then the MRN's uniqueness."""
    found = identity_problems(values, _today())
    if "mrn" not in found and same_mrn(str(values["mrn"]), instance) is not None:
        found["mrn"] = CLASH
    return found


def same_mrn(mrn: str, instance: Patient | None = None) -> Patient | None:
    """The stored patient whose MRN is the same as ``mrn`` by A34 (spaces and case ignored), other than ``instance``."""
    clash = Patient.objects.filter(mrn_key=mrn_key(mrn), mrn_duplicate_of__isnull=True)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    return clash.order_by("pk").first()


#: The one refusal of a second record for the same MRN, whichever check finds it (the query or the constraint).
CLASH = f"another patient has this MRN: {SAME_PATIENT}"


def _checked(values: dict[str, Any], instance: Patient | None) -> Identity:
    identity = check_identity(values, _today())
    if same_mrn(identity.mrn, instance) is not None:
        raise InputError("mrn", CLASH)
    return identity


def create_patient(user: Any, values: dict[str, Any]) -> Patient:
    """Store a new patient after the A34 rules; :class:`InputError` naming the field otherwise."""
    identity = _checked(values, None)
    try:
        with transaction.atomic():
            patient = Patient.objects.create(created_by=user, **identity.as_values())
            log_changes(user, "create", patient, patient)
    except IntegrityError:  # the same MRN stored by someone else since the check above
        raise InputError("mrn", CLASH) from None
    return patient


def update_patient(user: Any, patient: Patient, version: int, values: dict[str, Any]) -> None:
    """Save an edit of ``patient`` from ``version`` after the A34 rules (:class:`InputError`, or Conflict)."""
    identity = _checked(values, patient)
    fields = {**identity.as_values(), "mrn_key": identity.mrn_key}
    if patient.mrn_duplicate_of_id is not None and identity.mrn_key != patient.mrn_key:
        fields["mrn_duplicate_of"] = None  # an MRN corrected by a person: no longer the same as the older record's
    try:
        with transaction.atomic():
            before = field_values(patient)
            update_versioned(patient, version, fields, "This patient's record")
            log_changes(user, "update", patient, patient, before)
            if before["birth_date"] != field_values(patient)["birth_date"]:  # the age at a blood pressure (issue 12)
                for course in patient.courses.all():
                    changed(user, course, "date of birth corrected")
    except IntegrityError:
        raise InputError("mrn", CLASH) from None


def matching(patients: QuerySet[Patient], q: str) -> QuerySet[Patient]:
    """Patients whose MRN, family name or given name contains each word of ``q`` ("ava mart" finds Ava Martin):
    the patient list's search and the API's ``q``."""
    for word in q.split():
        patients = patients.filter(Q(mrn__icontains=word) | Q(family_name__icontains=word) | Q(given_name__icontains=word))
    return patients
