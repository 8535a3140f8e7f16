from django.urls import path

from mibg.web.treatment import views

app_name = "treatment"

urlpatterns = [
    path("assays/<int:pk>/override/", views.assay_override, name="override"),
    path("administrations/<int:pk>/review/", views.medical_event_review, name="review"),
    path("assays/<int:pk>/correct/", views.assay_correct, name="assay_correct"),
    path("administrations/<int:pk>/correct/", views.administration_correct, name="administration_correct"),
]
