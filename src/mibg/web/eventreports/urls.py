from django.urls import path

from mibg.web.eventreports import views

app_name = "eventreports"

urlpatterns = [
    path("", views.open_list, name="list"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/steps/", views.record_step, name="step"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/report.pdf", views.pdf, name="pdf"),
]
