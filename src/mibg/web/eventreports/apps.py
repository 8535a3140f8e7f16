from django.apps import AppConfig


class EventReportsConfig(AppConfig):
    name = "mibg.web.eventreports"
    label = "eventreports"
    verbose_name = "Event reports: possible medical events and serious adverse events, with their deadlines"

    def ready(self) -> None:
        from django.apps import apps

        if apps.is_installed("mibg.web.plan"):  # report deadlines on the role worklists
            from mibg.web.eventreports import worklist  # noqa: F401
