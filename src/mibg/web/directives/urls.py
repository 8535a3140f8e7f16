from django.urls import path

from mibg.web.directives import views

app_name = "directives"

urlpatterns = [path("<int:pk>/print/", views.directive_print, name="print")]
