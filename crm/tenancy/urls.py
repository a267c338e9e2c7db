from django.urls import path

from crm.tenancy import views

app_name = "tenancy"

urlpatterns = [
    path("switch/", views.switch_tenant, name="switch"),
    path("language/", views.set_language, name="language"),
    path("preferences/", views.preferences, name="preferences"),
]
