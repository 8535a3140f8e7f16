from django.apps import AppConfig


class DirectivesConfig(AppConfig):
    name = "mibg.web.directives"
    label = "directives"
    verbose_name = "Written directives and independent verification"
