from django.contrib import admin

from crm.tenancy.models import ApiToken, Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "retention_days", "legal_hold", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "created_at", "last_used_at"]
    list_select_related = ["user", "tenant"]
    fields = ["user", "tenant", "created_at", "last_used_at"]
    readonly_fields = ["created_at", "last_used_at"]
