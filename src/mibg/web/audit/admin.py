from django.contrib import admin
from django.http import HttpRequest

from mibg.web.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """Read-only: the trail is never edited, added to or deleted from by hand."""

    list_display = ("at", "username", "action", "model", "object_id", "field", "patient")
    list_filter = ("action", "model")
    search_fields = ("username", "object_repr", "field")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
