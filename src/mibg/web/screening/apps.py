from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "mibg.web.screening"
    label = "screening"
