from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm import views
from crm.tenant_settings_views import company_settings

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/company/", company_settings, name="company_settings"),
    path("accounts/", include("crm.tenancy.urls")),
    path("customers/", include("customers.urls")),
    path("tickets/", include("customers.ticket_urls")),
    path("opportunities/", include("sales.urls")),
    path("recycle-bin/", include("crm.bin_urls")),
    path("history/", include("crm.history_urls")),
    path("audit/", include("audit.urls")),
    path("backups/", include("backups.urls")),
    path("api/", include("crm.api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "crm.errors.bad_request"
handler403 = "crm.errors.permission_denied"
handler404 = "crm.errors.page_not_found"
handler500 = "crm.errors.server_error"
