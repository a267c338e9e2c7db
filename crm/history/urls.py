"""Record history: /history/<type>/<pk>/ (names under the "history" namespace)."""

from django.urls import path

from crm.history import views

app_name = "history"

urlpatterns = [
    path("<slug:record_type>/<int:pk>/", views.record_history, name="record"),
    path("<slug:record_type>/<int:pk>/<int:history_id>/revert/", views.revert, name="revert"),
]
