from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from mibg.web.accounts.models import ApiToken, User


@admin.register(User)
class MibgUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Signature", {"fields": ("printed_name",)}))
    list_display = ("username", "printed_name", "email", "is_active")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request):  # tokens are issued by their owner, shown once
        return False
