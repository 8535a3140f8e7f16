from django.urls import path

from mibg.web.plan import views

app_name = "plan"

urlpatterns = [
    path("courses/<int:pk>/orders/record/", views.record, name="record"),
    path("courses/<int:pk>/orders/void/", views.void, name="void"),
    path("courses/<int:pk>/calendar.ics", views.calendar_ics, name="calendar_ics"),
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/count/", views.worklist_count, name="worklist_count"),
    path("worklist/calendar.ics", views.feed_ics, name="feed_ics"),
    path("care-plan/iodide-table/", views.iodide_table, name="iodide_table"),
]
