from django.apps import AppConfig


class PlanConfig(AppConfig):
    name = "mibg.web.plan"
    label = "plan"
    verbose_name = "The course as a plan: supportive-care orders, calendar and worklists"

    def ready(self) -> None:
        from mibg.web.plan import providers  # noqa: F401  (registers the built-in worklist providers)
