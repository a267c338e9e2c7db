"""Erasure pages: /privacy/ (names under the "privacy" namespace)."""

from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("erasures/", views.erasure_list, name="list"),
    path("erasures/<int:event_id>/", views.report, name="report"),
    path("erase/<slug:record_type>/<int:pk>/", views.erase, name="erase"),
    path("data/<slug:record_type>/<int:pk>/", views.personal_data, name="personal_data"),
]
