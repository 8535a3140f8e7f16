"""JSON API for documents (registered on mibg.web.api's NinjaAPI): a patient's record as a FHIR R4 Bundle.

``GET /api/patients/{patient_id}/fhir`` -> ``application/fhir+json``, the same Bundle as the patient page's
download, under the same rules: ``patient.view``, refused while a course's directive is hidden from the caller
(10 CFR 35.41), recorded in the audit trail with the SHA-256 of the bytes.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router

from mibg.reports.errors import ReportInputError
from mibg.web.api_types import ERRORS
from mibg.web.audit.trail import log_download
from mibg.web.course_record import hidden_course
from mibg.web.documents import fhir
from mibg.web.errors import Refused
from mibg.web.patients.models import Patient
from mibg.web.permissions import require

router = Router(tags=["documents"])



#: The 200 answer is a FHIR R4 Bundle (a JSON object) in its own media type, declared so clients can check it.
BUNDLE = {"responses": {200: {"description": "A FHIR R4 Bundle of type collection",
                                "content": {"application/fhir+json": {"schema": {"type": "object"}}}}}}


@router.get("/patients/{patient_id}/fhir", response={200: None, **ERRORS}, openapi_extra=BUNDLE,
            summary="The patient's record as a FHIR R4 Bundle")
def patient_fhir(request: HttpRequest, patient_id: int) -> HttpResponse:
    require(request.user, "patient.view")
    patient = get_object_or_404(Patient, pk=patient_id)
    hidden = hidden_course(request.user, patient)
    if hidden is not None:
        raise PermissionDenied(_("The Bundle holds the directive of course %(number)s: it opens for you after the "
                                 "independent verification (10 CFR 35.41).")
                               % {"number": hidden.number})
    try:
        data = fhir.patient_bundle_json(patient).encode("utf-8")
    except ReportInputError as error:  # stored records that disagree: no Bundle rather than a wrong one (409)
        raise Refused(_("The stored records disagree (%(field)s: %(message)s).")
                      % {"field": error.field, "message": error.message}, error.field) from None
    log_download(request.user, patient, patient, "FHIR R4 Bundle of the patient's record (API)", data)
    return HttpResponse(data, content_type="application/fhir+json", headers={"Cache-Control": "no-store"})
