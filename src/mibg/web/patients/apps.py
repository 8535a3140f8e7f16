from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "mibg.web.patients"
    label = "patients"
