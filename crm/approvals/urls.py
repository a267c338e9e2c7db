"""Deletion approval: /approvals/ (names under the "approvals" namespace)."""

from django.urls import path

from crm.approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.approval_list, name="list"),
    path("settings/", views.policy_settings, name="settings"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/refuse/", views.refuse, name="refuse"),
]
