from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm.records.registry import url_mounts
from crm.tenancy import token_views
from crm.tenancy import views as tenancy_views
from crm.tenancy.signin import SignInForm
from crm.tenancy.urls import password_urls
from crm.web import views

urlpatterns = [
    # First: the API's integrations call most often, and resolving tries each entry in turn.
    path("api/", include("crm.api.urls")),
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    *password_urls,
    path("accounts/company/", tenancy_views.company_settings, name="company_settings"),
    path("accounts/company/tokens/", token_views.company_tokens, name="company_tokens"),
    path("accounts/company/locks/<int:user_id>/clear/", tenancy_views.clear_member_lock, name="clear_member_lock"),
    path("accounts/", include("crm.tenancy.urls")),
    path("recycle-bin/", include("crm.recyclebin.urls")),
    path("approvals/", include("crm.approvals.urls")),
    path("history/", include("crm.history.urls")),
    path("exports/", include("crm.exports.urls")),
    # Each app's pages, as it registered them (crm.records.registry.mount_urls).
    *(path(prefix, include(module)) for prefix, module in url_mounts()),
    path("admin/", admin.site.urls),
]

handler400 = "crm.web.errors.bad_request"
handler403 = "crm.web.errors.permission_denied"
handler404 = "crm.web.errors.page_not_found"
handler500 = "crm.web.errors.server_error"
