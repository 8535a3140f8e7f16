from django.urls import path

from mibg.web.screening import views

app_name = "screening"

urlpatterns = [
    path("<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("rescreen/", views.rescreen, name="rescreen"),
]
