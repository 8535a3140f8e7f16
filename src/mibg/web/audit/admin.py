from django.contrib import admin

from mibg.web.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is never edited, added to or deleted from by hand."""

    list_display = ("at", "username", "action", "model", "object_id", "field", "patient")
    list_filter = ("action", "model")
    search_fields = ("username", "object_repr", "field")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
