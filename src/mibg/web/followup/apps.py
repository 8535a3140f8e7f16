from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "mibg.web.followup"
    label = "followup"
    verbose_name = "Follow-up: labs, transfusions, adverse events, response"
