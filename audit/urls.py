"""The audit log: /audit/ (names under the "audit" namespace)."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("export.csv", views.export, name="export"),
]
