from rest_framework.routers import SimpleRouter

from audit.api.viewsets import AuditEventViewSet

router = SimpleRouter(trailing_slash=True)
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
