from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "mibg.web.trials"
    label = "trials"
    verbose_name = "Related trials: other ClinicalTrials.gov records, indexed by the database's full-text engine"
