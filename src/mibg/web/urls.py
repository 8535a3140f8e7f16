"""The URL map. Every page except /healthz and the login pages needs a logged-in user with the right role."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.http import require_http_methods

from mibg.web import views
from mibg.web.accounts.two_factor import login_code
from mibg.web.api import api

#: A request whose form or JSON data is over DATA_UPLOAD_MAX_MEMORY_SIZE is answered 413, not 400 (mibg.web.views).
handler400 = "mibg.web.views.bad_request"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Django's LoginView answers PUT as a POST (ProcessFormView.put) and redirects a signed-in user whatever the
    # method: the login page serves GET, HEAD, POST and OPTIONS only, and refuses the rest (405) to everyone.
    path("accounts/login/", require_http_methods(["GET", "HEAD", "POST", "OPTIONS"])(auth_views.LoginView.as_view(
        template_name="mibg/login.html", redirect_authenticated_user=True)), name="login"),
    path("accounts/login/code/", require_http_methods(["GET", "HEAD", "POST"])(login_code), name="login_code"),  # the second step, for users with a TOTP device
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
    path("event-reports/", include("mibg.web.eventreports.urls")),
    path("", include("mibg.web.plan.urls")),
    path("analytics/", include("mibg.web.analytics.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
