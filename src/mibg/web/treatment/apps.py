from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "mibg.web.treatment"
    label = "treatment"
    verbose_name = "Preparation, assay and administration"
