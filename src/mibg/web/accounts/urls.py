from django.urls import path

from mibg.web.accounts import two_factor, views

app_name = "accounts"

urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("two-factor/", two_factor.two_factor, name="two_factor"),
    path("lockouts/", views.lockouts, name="lockouts"),
]
