from django.apps import AppConfig


class EventReportsConfig(AppConfig):
    name = "mibg.web.eventreports"
    label = "eventreports"
    verbose_name = "Event reports: possible medical events and serious adverse events, with their deadlines"
