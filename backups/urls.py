"""Backups in the browser: /backups/ (names under the "backups" namespace)."""

from django.urls import path

from backups import views

app_name = "backups"

urlpatterns = [
    path("", views.backup_list, name="list"),
    path("now/", views.backup_now, name="backup_now"),
    path("now/<uuid:task_id>/", views.backup_pending, name="backup_pending"),
    path("<int:pk>/status/", views.backup_status, name="backup_status"),
    path("<int:pk>/restore-company/", views.restore_tenant, name="restore_tenant"),
    path("<int:pk>/restore-customer/", views.restore_customer, name="restore_customer"),
    path("<int:pk>/restore-database/", views.restore_database, name="restore_database"),
    path("restore-to-a-moment/", views.restore_to_moment, name="restore_moment"),
    path("restores/<int:run_id>/", views.restore_status, name="restore_status"),
]
