"""Follow-up URLs. Each takes one ``pk`` at most: the course's, or the record's for pages about one record."""

from django.urls import path

from mibg.web.followup import views

app_name = "followup"

urlpatterns = [
    path("courses/<int:pk>/", views.course_followup, name="course"),
    path("courses/<int:pk>/labs/new/", views.lab_new, name="lab_new"),
    path("courses/<int:pk>/labs/upload/", views.lab_upload, name="lab_upload"),
    path("courses/<int:pk>/transfusions/new/", views.transfusion_new, name="transfusion_new"),
    path("courses/<int:pk>/recovery.png", views.recovery_png, name="recovery_png"),
    path("courses/<int:pk>/recovery.svg", views.recovery_svg, name="recovery_svg"),
    path("courses/<int:pk>/adverse-events/new/", views.ae_new, name="ae_new"),
    path("courses/<int:pk>/curie/new/", views.curie_new, name="curie_new"),
    path("courses/<int:pk>/inrc/new/", views.inrc_new, name="inrc_new"),
    path("labs/<int:pk>/void/", views.lab_void, name="lab_void"),
    path("labs/<int:pk>/correct/", views.lab_correct, name="lab_correct"),
    path("transfusions/<int:pk>/void/", views.transfusion_void, name="transfusion_void"),
    path("adverse-events/<int:pk>/edit/", views.ae_edit, name="ae_edit"),
    path("adverse-events/<int:pk>/void/", views.ae_void, name="ae_void"),
    path("adverse-events/<int:pk>/sign/", views.ae_sign, name="ae_sign"),
    path("adverse-events/<int:pk>/review/", views.sae_review, name="sae_review"),
    path("curie/<int:pk>/void/", views.curie_void, name="curie_void"),
    path("inrc/<int:pk>/void/", views.inrc_void, name="inrc_void"),
    path("ctcae-terms/", views.ctcae_terms, name="ctcae_terms"),
    path("programme/", views.programme_view, name="programme"),
    path("programme.csv", views.programme_csv, name="programme_csv"),
    path("programme.png", views.programme_png, name="programme_png"),
]
