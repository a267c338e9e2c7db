"""Everything under /api/: v1 resources, the recycle bin, the audit log, backups, the schema and its docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from audit.api import AuditEventViewSet
from backups.api import BackupTaskViewSet, BackupViewSet, RestoreRunViewSet
from crm.api import views
from crm.api.errors import not_found
from crm.api.recyclebin import TYPE_NAMES, RecycleBinViewSet
from crm.api.viewsets import ID_PATTERN
from customers.api.viewsets import ContactViewSet, CustomerViewSet, InteractionViewSet, TicketViewSet
from sales.api.viewsets import OpportunityViewSet

app_name = "api"

router = SimpleRouter(trailing_slash=True)
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
# backups/restores/ before backups/: the backup detail route takes digits only, but keep the order obvious.
router.register("backups/restores", RestoreRunViewSet, basename="backup-restore-run")
router.register("backups", BackupViewSet, basename="backup")

BIN_ITEM = rf"^v1/recycle-bin/(?P<type>{'|'.join(TYPE_NAMES)})/(?P<id>{ID_PATTERN})/"

urlpatterns = [
    path("v1/whoami/", views.whoami, name="whoami"),
    path("v1/recycle-bin/", RecycleBinViewSet.as_view({"get": "list"}), name="recycle-bin-list"),
    path("v1/recycle-bin/restore/", RecycleBinViewSet.as_view({"post": "restore_many"}), name="recycle-bin-restore"),
    re_path(
        BIN_ITEM + "$",
        RecycleBinViewSet.as_view({"get": "retrieve", "delete": "purge"}),
        name="recycle-bin-item",
    ),
    re_path(
        BIN_ITEM + "restore/$",
        RecycleBinViewSet.as_view({"post": "restore"}),
        name="recycle-bin-item-restore",
    ),
    path("v1/backups/tasks/<uuid:task>/", BackupTaskViewSet.as_view({"get": "retrieve"}), name="backup-task"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/ is a JSON 404, not the HTML page.
    re_path(r"^", not_found),
]
