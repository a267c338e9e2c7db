"""Import pages: /imports/ (names under the "imports" namespace)."""

from django.urls import path

from imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/failed.csv", views.failed_rows, name="failed"),
    path("delete-by-list/", views.delete_by_list, name="delete_list"),
]
