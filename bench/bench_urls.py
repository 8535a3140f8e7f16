"""The application's URLs plus two yardsticks through the same middleware: /bench/bare/ (a trivial page that,
like every page of the application, needs a logged-in user) and /bench/api/bare (a trivial API answer behind
the same bearer-token check as the API)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path
from ninja import NinjaAPI

from mibg.web.api import TokenAuth
from mibg.web.urls import urlpatterns as app_urlpatterns


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


bench_api = NinjaAPI(auth=TokenAuth(), urls_namespace="bench-api", docs_url=None, openapi_url=None)


@bench_api.get("/bare")
def bare_api(request):
    return {"ok": True}


urlpatterns = [path("bench/bare/", bare), path("bench/api/", bench_api.urls), *app_urlpatterns]
