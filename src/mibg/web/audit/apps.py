from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mibg.web.audit"
    label = "audit"
    verbose_name = "Audit trail"
