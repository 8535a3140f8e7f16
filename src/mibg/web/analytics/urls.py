from django.urls import path

from mibg.web.analytics import analysis, views

app_name = "analytics"

urlpatterns = [
    path("", views.page, name="page"),
    *(path(f"{key}.csv", views.table_csv, {"key": key}, name=f"csv-{key}") for key in analysis.KEYS),
]
