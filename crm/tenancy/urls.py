from django.contrib.auth import views as auth_views
from django.urls import path

from crm.tenancy import forms, mfa_views, people_views, token_views, views

app_name = "tenancy"

urlpatterns = [
    path("switch/", views.switch_tenant, name="switch"),
    path("language/", views.set_language, name="language"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/tokens/", token_views.my_tokens, name="tokens"),
    path("preferences/tokens/<int:pk>/rotate/", token_views.rotate_token, name="rotate_token"),
    path("preferences/tokens/<int:pk>/revoke/", token_views.revoke_token, name="revoke_token"),
    path("2fa/setup/", mfa_views.setup, name="mfa_setup"),
    path("2fa/", mfa_views.verify, name="mfa_verify"),
    path("2fa/off/", mfa_views.disable, name="mfa_disable"),
    path("company/people/", people_views.people, name="people"),
    path("company/people/invite/", people_views.invite, name="people_invite"),
    path("company/people/new/", people_views.create_member, name="people_create"),
    path("company/people/<int:pk>/role/", people_views.change_role, name="people_role"),
    path("company/people/<int:pk>/deactivate/", people_views.deactivate, name="people_deactivate"),
    path("company/people/<int:pk>/reactivate/", people_views.reactivate, name="people_reactivate"),
    path("company/people/<int:pk>/remove/", people_views.remove, name="people_remove"),
    path("company/invitations/<int:pk>/revoke/", people_views.revoke_invitation, name="invitation_revoke"),
    path("invitation/<str:key>/", people_views.accept, name="invitation"),
]

# Django's password views, with the project's templates and forms (saved through the actions);
# not namespaced, as Django's reset email and views name them.
password_urls = [
    path(
        "accounts/password/",
        views.PasswordChangeView.as_view(form_class=forms.PasswordChangeForm, template_name="tenancy/password.html"),
        name="password_change",
    ),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(
            form_class=forms.PasswordResetForm, template_name="tenancy/password_reset.html"
        ),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="tenancy/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            form_class=forms.SetPasswordForm, template_name="tenancy/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="tenancy/password_reset_done.html"),
        name="password_reset_complete",
    ),
]
