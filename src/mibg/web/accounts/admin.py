from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from mibg.web.accounts.models import ApiToken, SecondFactorPolicy, User
from mibg.web.accounts.security import audit_account
from mibg.web.audit.models import AuditEvent
from mibg.web.audit.trail import field_values, log_changes
from mibg.web.authenticated import signed_in_user

#: The site's own name on the administration pages, not Django's (issue 15: every page says whose it is).
admin.site.site_header = "131I-MIBG · NCT01370330 · site administration"
admin.site.site_title = "131I-MIBG site administration"
admin.site.index_title = "Users, roles, second factors and the audit trail"


@admin.register(User)
class MibgUserAdmin(UserAdmin[User]):
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Signature", {"fields": ("printed_name",)}))
    list_display = ("username", "printed_name", "email", "is_active")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("user", "name", "prefix", "second_factor", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "digest", "second_factor", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:  # tokens are issued by their owner, shown once
        return False


@admin.register(SecondFactorPolicy)
class SecondFactorPolicyAdmin(admin.ModelAdmin[SecondFactorPolicy]):
    """Which roles must log in with a TOTP code. Every change is in the audit trail, field by field."""

    list_display = ("role", "totp_required", "changed_by", "changed_at")
    list_editable = ("totp_required",)
    readonly_fields = ("changed_by", "changed_at")

    def save_model(self, request: HttpRequest, obj: SecondFactorPolicy, form: Any, change: bool) -> None:
        before = field_values(SecondFactorPolicy.objects.get(pk=obj.pk)) if change and obj.pk else None
        obj.changed_by, obj.changed_at = signed_in_user(request), timezone.now()
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            log_changes(request.user, AuditEvent.UPDATE if before else AuditEvent.CREATE, obj, None, before,
                        note="second-factor policy")

    def delete_model(self, request: HttpRequest, obj: SecondFactorPolicy) -> None:
        with transaction.atomic():
            log_changes(request.user, AuditEvent.DELETE, obj, None, field_values(obj), note="second-factor policy")
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SecondFactorPolicy]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


# django-otp's own admin shows a device's secret and lets the administrator make devices for others: whoever
# knows a secret can produce the codes. Here the administrator only sees the devices and removes a lost one
# (the owner then sets up a new one); the removal is recorded.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AuthenticatorAdmin(admin.ModelAdmin[TOTPDevice]):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TOTPDevice | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TOTPDevice) -> None:
        with transaction.atomic():
            audit_account(obj.user.username, "delete", f"TOTP second factor of {obj.user.username} removed by the "
                                                       "administrator", actor=request.user)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TOTPDevice]) -> None:
        for obj in queryset.select_related("user"):
            self.delete_model(request, obj)
