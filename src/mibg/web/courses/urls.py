from django.urls import path

from mibg.web.courses import views
from mibg.web.directives import views as directive_views
from mibg.web.permissions import STEP_ACTIONS
from mibg.web.screening import views as screening_views
from mibg.web.treatment import views as treatment_views

app_name = "courses"

urlpatterns = [
    path("<int:pk>/", views.course_detail, name="detail"),
    path("<int:pk>/screening/", screening_views.screening_form, name="screening"),
    path("<int:pk>/chair/", screening_views.chair_decision, name="chair"),
    path("<int:pk>/directive/", directive_views.directive_form, name="directive"),
    path("<int:pk>/directive/preview/", directive_views.directive_preview, name="directive_preview"),
    path("<int:pk>/verify/", directive_views.verify, name="verify"),
    path("<int:pk>/assay/", treatment_views.assay, name="assay"),
    path("<int:pk>/administration/", treatment_views.administration, name="administration"),
    *(path(f"<int:pk>/step/{event}/", views.step_view(event), name=f"step_{event}") for event in sorted(STEP_ACTIONS)),
]
