"""The administration site for administrators: users, areas, API tokens, the audit log.

Every save and delete made here writes audit rows (source "admin"), like the services do.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.choices import AuditAction, AuditSource, Role
from crm.models import ApiToken, Area, AuditEntry, User
from crm.services import Actor, audit_record

SECRET_FIELDS = {"password", "password1", "password2"}


def _plain(value):
    """A form value as something JSON can hold (objects by their text, querysets as lists)."""
    if isinstance(value, models.QuerySet | list | tuple | set):
        return sorted(str(v) for v in value)
    if isinstance(value, models.Model):
        return str(value)
    return value


def _is_administrator(request) -> bool:
    user = request.user
    return user.is_active and user.is_administrator


class AdministratorAdmin(admin.ModelAdmin):
    """The role, not per-model permission rows, decides who uses this site."""

    def has_module_permission(self, request):
        return _is_administrator(request)

    def has_view_permission(self, request, obj=None):
        return _is_administrator(request)

    def has_add_permission(self, request):
        return _is_administrator(request)

    def has_change_permission(self, request, obj=None):
        return _is_administrator(request)

    def has_delete_permission(self, request, obj=None):
        return _is_administrator(request)


class AuditedAdmin(AdministratorAdmin):
    def save_related(self, request, form, formsets, change):
        # After the many-to-many fields are saved, so the audit row sees the final state.
        super().save_related(request, form, formsets, change)
        obj = form.instance
        changes = {
            name: (
                None if not change else _plain(form.initial.get(name)),
                _plain(form.cleaned_data.get(name)),
            )
            for name in form.changed_data
            if name not in SECRET_FIELDS
        }
        if SECRET_FIELDS & set(form.changed_data):
            changes["password"] = (None, None)
        audit_record(
            actor=Actor.of(request.user, AuditSource.ADMIN),
            obj=obj,
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            changes=changes,
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=Actor.of(request.user, AuditSource.ADMIN), obj=obj, action=AuditAction.DELETE
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(
                actor=Actor.of(request.user, AuditSource.ADMIN),
                obj=obj,
                action=AuditAction.DELETE,
            )
        super().delete_queryset(request, queryset)


@admin.register(Area)
class AreaAdmin(AuditedAdmin):
    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]


class UserCreateForm(BaseUserCreationForm):
    class Meta(BaseUserCreationForm.Meta):
        model = User
        fields = ("username", "name", "role", "areas")


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def clean_role(self):
        role = self.cleaned_data["role"]
        if role == Role.INTEGRATION_CLIENT and (not self.instance.pk or self.instance.role != role):
            raise forms.ValidationError(
                _("Integration clients are created with `manage.py create_api_client`.")
            )
        return role


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    list_display = ["username", "name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "areas"]
    search_fields = ["username", "name", "email"]
    ordering = ["username"]
    filter_horizontal = ["areas"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("name", "email", "phone")}),
        (_("Role and areas"), {"fields": ("role", "areas")}),
        (_("Status"), {"fields": ("is_active", "is_superuser", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "name", "role", "areas", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ["last_login", "date_joined"]

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser may make another.
        extra = [] if request.user.is_superuser else ["is_superuser"]
        return [*self.readonly_fields, *extra]

    def user_change_password(self, request, id, form_url=""):
        # Django's separate password form bypasses save_related, so audit its success here.
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit_record(
                actor=Actor.of(request.user, AuditSource.ADMIN),
                obj=self.get_object(request, id),
                action=AuditAction.UPDATE,
                changes={"password": (None, None)},
            )
        return response

    def save_model(self, request, obj, form, change):
        # Administrators use this site; the role decides access to it.
        obj.is_staff = obj.role == Role.ADMINISTRATOR or obj.is_superuser
        super().save_model(request, obj, form, change)


@admin.register(ApiToken)
class ApiTokenAdmin(AdministratorAdmin):
    """Read-only: tokens are issued and rotated by `manage.py create_api_client`."""

    list_display = ["user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(AdministratorAdmin):
    """The audit log, read-only."""

    list_display = [
        "created_at",
        "actor_label",
        "source",
        "action",
        "object_repr",
        "field",
        "old_value",
        "new_value",
    ]
    list_filter = ["source", "action", "content_type"]
    search_fields = ["actor_label", "object_repr", "field", "reason"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
