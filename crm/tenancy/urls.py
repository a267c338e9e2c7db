from django.urls import path

from crm.tenancy import token_views, views

app_name = "tenancy"

urlpatterns = [
    path("switch/", views.switch_tenant, name="switch"),
    path("language/", views.set_language, name="language"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/tokens/", token_views.my_tokens, name="tokens"),
    path("preferences/tokens/<int:pk>/rotate/", token_views.rotate_token, name="rotate_token"),
    path("preferences/tokens/<int:pk>/revoke/", token_views.revoke_token, name="revoke_token"),
]
