from django.urls import path
from rest_framework.routers import SimpleRouter

from backups.api.viewsets import BackupTaskViewSet, BackupViewSet, RestoreRunViewSet

router = SimpleRouter(trailing_slash=True)
# backups/restores/ before backups/: the backup detail route takes digits only, but keep the order obvious.
router.register("backups/restores", RestoreRunViewSet, basename="backup-restore-run")
router.register("backups", BackupViewSet, basename="backup")

urlpatterns = [
    path("backups/tasks/<uuid:task>/", BackupTaskViewSet.as_view({"get": "retrieve"}), name="backup-task"),
    *router.urls,
]
