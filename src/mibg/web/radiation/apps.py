from django.apps import AppConfig


class RadiationConfig(AppConfig):
    name = "mibg.web.radiation"
    label = "radiation"
    verbose_name = "Radiation safety: readings, dosimetry, release, stem-cell rescue"
