from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "mibg.web.analytics"
    label = "analytics"
    verbose_name = "Programme analytics: whole-body dose against toxicity and stem-cell rescue"
