"""The URL map. Every page except /healthz and the login pages needs a logged-in user with the right role."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from mibg.web import views
from mibg.web.accounts.two_factor import login_code
from mibg.web.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="mibg/login.html", redirect_authenticated_user=True),
         name="login"),
    path("accounts/login/code/", login_code, name="login_code"),  # the second step, for users with a TOTP device
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("mibg.web.accounts.urls")),
    path("patients/", include("mibg.web.patients.urls")),
    path("courses/", include("mibg.web.courses.urls")),
    path("evaluations/", include("mibg.web.screening.urls")),
    path("directives/", include("mibg.web.directives.urls")),
    path("", include("mibg.web.treatment.urls")),
    path("audit/", include("mibg.web.audit.urls")),
    path("followup/", include("mibg.web.followup.urls")),
    path("", include("mibg.web.radiation.urls")),
    path("documents/", include("mibg.web.documents.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
