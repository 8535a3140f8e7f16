"""Documents URLs: one per kind of course document (``courses/<pk>/<kind>.<suffix>``), the patient's FHIR Bundle
and its import, the programme exports and the study record."""

from django.urls import path

from mibg.web.documents import views

app_name = "documents"

urlpatterns = [
    *(path(f"courses/<int:pk>/{d.key}.{d.suffix}", views.document_view(d.key), name=d.key)
      for d in views.DOCUMENTS.values()),
    path("patients/<int:pk>/fhir.json", views.patient_fhir, name="patient_fhir"),
    path("patients/<int:pk>/fhir-import/", views.fhir_import, name="fhir_import"),
    path("programme.xlsx", views.programme_xlsx, name="programme_xlsx"),
    path("programme.csv", views.programme_csv, name="programme_csv"),
    path("exports/", views.exports, name="exports"),
    path("study-record/", views.study_record, name="study_record"),
    path("references/", views.references, name="references"),
    path("study-record/protocol-fhir.json", views.study_record_fhir, name="study_record_fhir"),
]
