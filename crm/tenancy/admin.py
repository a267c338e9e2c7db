"""The Django admin (installation staff): companies, their members and API tokens.

Nothing here writes around the actions: a company's settings and its
memberships are saved through crm.tenancy.actions, so every change is
checked the same way and leaves its audit event in the company's log. A
company's records are not in the admin at all; staff use the product.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.tenancy import account_actions, actions, people_actions
from crm.tenancy.models import ApiToken, Invitation, Membership, Tenant
from crm.tenancy.roles import Role
from crm.tenancy.signin import AdminSignInForm

User = get_user_model()


class MembershipFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        active_admins_after = 0
        for form in self.forms:
            data = form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            user = data.get("user") or form.instance.user  # an existing row's user is read-only
            if data.get("role") == Role.ADMIN and form.instance.is_active and user.is_active:
                active_admins_after += 1
        had_admin = Membership.objects.active().filter(tenant=self.instance, role=Role.ADMIN).exists()
        if had_admin and not active_admins_after:
            raise ValidationError(_("A company needs at least one admin: make someone else admin first."))


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "is_active", "created_at"]
    # Deactivating is an action of the Memberships list (it ends sessions and tokens), not a tick box here.
    readonly_fields = ["is_active", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # An existing membership's person is fixed: change its role, or remove it and add another.
        return [*self.readonly_fields, "user"] if obj is not None else self.readonly_fields


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "retention_days", "legal_hold", "created_at"]
    search_fields = ["name", "slug"]
    fields = ["name", "slug", "retention_days", "legal_hold", "mfa_required"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False  # a company's records, history and audit log are not deleted from here

    def save_model(self, request, obj, form, change):
        if not change:
            actions.add_tenant(obj, acting_user=request.user)
            return
        values = {name: form.cleaned_data[name] for name in form.changed_data if name in actions.SETTINGS_FIELDS}
        if values:
            actions.update_tenant_settings(obj, acting_user=request.user, **values)

    def save_formset(self, request, form, formset, change):
        # What formset.save() would do, one action per membership; the admin's change message
        # reads the same three lists save() fills.
        tenant = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for deleted in formset.deleted_forms:
            if deleted.instance.pk is not None:
                actions.remove_member(deleted.instance, acting_user=request.user)
                formset.deleted_objects.append(deleted.instance)
        for inline_form in formset.forms:
            data = inline_form.cleaned_data
            if not data or data.get("DELETE") or not inline_form.has_changed():
                continue
            if inline_form.instance.pk is None:
                membership = actions.add_member(
                    tenant, data["user"].get_username(), role=data["role"], acting_user=request.user
                )
                formset.new_objects.append(membership)
            else:
                membership = actions.set_member_role(inline_form.instance, data["role"], acting_user=request.user)
                formset.changed_objects.append((membership, inline_form.changed_data))


class ShownOnly(admin.ModelAdmin):
    """Rows staff see but never add or edit here: changes go through the actions (audited)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(ShownOnly):
    """Read-only rows; deactivating, reactivating and removing go through the actions (audited)."""

    list_display = ["user", "tenant", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__username", "tenant__slug"]
    readonly_fields = list_display
    fields = list_display
    actions = ["deactivate", "reactivate"]

    def has_delete_permission(self, request, obj=None):
        return False  # removal is on the company's page (the Tenant admin's inline), through the action

    def _each(self, request, queryset, change, done: str):
        changed = 0
        for membership in queryset:
            try:
                change(membership, acting_user=request.user)
                changed += 1
            except ValidationError as error:
                self.message_user(request, f"{membership}: {' '.join(error.messages)}", level="error")
        self.message_user(request, done % {"count": changed})

    @admin.action(description=_("Deactivate (ends their sessions and API tokens in that company)"))
    def deactivate(self, request, queryset):
        self._each(request, queryset, people_actions.deactivate_member, _("Memberships deactivated: %(count)d."))

    @admin.action(description=_("Reactivate"))
    def reactivate(self, request, queryset):
        self._each(request, queryset, people_actions.reactivate_member, _("Memberships reactivated: %(count)d."))


@admin.register(ApiToken)
class ApiTokenAdmin(ShownOnly):
    """Staff see tokens and revoke them ("delete" revokes); tokens are made by their owners."""

    list_display = [
        "name",
        "prefix",
        "user",
        "tenant",
        "scope",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_select_related = ["user", "tenant"]
    fields = [*list_display, "last_used_ip"]
    readonly_fields = fields
    actions = None

    def delete_model(self, request, obj):
        actions.revoke_api_token(obj, acting_user=request.user)


@admin.register(Invitation)
class InvitationAdmin(ShownOnly):
    """Staff see invitations and withdraw them ("delete" withdraws); admins send them from People."""

    list_display = ["email", "tenant", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_select_related = ["tenant", "invited_by"]
    fields = [*list_display, "accepted_by"]
    readonly_fields = fields
    actions = None

    def delete_model(self, request, obj):
        people_actions.revoke_invitation(obj, acting_user=request.user)


# The admin's sign-in goes through the same throttle as the login page (crm.tenancy.signin).
admin.site.login_form = AdminSignInForm


class UserAdmin(auth_admin.UserAdmin):
    """Django's user admin, with clearing a sign-in lock through the action (audited)."""

    actions = ["clear_sign_in_lock", "turn_off_two_factor"]

    @admin.action(description=_("Clear the sign-in lock"))
    def clear_sign_in_lock(self, request, queryset):
        cleared = [user for user in queryset if account_actions.clear_lockout(user, acting_user=request.user)]
        self.message_user(request, _("Sign-in locks cleared: %(count)d.") % {"count": len(cleared)})

    @admin.action(description=_("Turn off two-factor sign-in (a lost phone)"))
    def turn_off_two_factor(self, request, queryset):
        for user in queryset:
            account_actions.disable_mfa(user, acting_user=request.user)
        self.message_user(request, _("Two-factor sign-in turned off: %(count)d.") % {"count": len(queryset)})


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
# Authenticators are changed through the actions above (audited), not edited as rows.
admin.site.unregister([TOTPDevice, StaticDevice])
