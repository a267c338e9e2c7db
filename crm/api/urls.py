"""Everything under /api/: the record resources and other endpoints the apps registered,
the recycle bin, who-am-I, the schema and its docs."""

from django.urls import include, path, re_path
from django.utils.module_loading import import_module
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from crm.api import views
from crm.api.errors import not_found
from crm.api.viewsets import ID_PATTERN
from crm.approvals.api import ApprovalViewSet
from crm.exports.api import CompanyExportView
from crm.records.registry import api_resources, api_url_modules
from crm.recyclebin.api import TYPE_NAMES, RecycleBinViewSet
from crm.tenancy.api import ApiTokenViewSet
from crm.tenancy.people_api import MemberViewSet

app_name = "api"

router = SimpleRouter(trailing_slash=True)
for prefix, viewset, basename in api_resources():
    router.register(prefix, viewset, basename=basename)
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("members", MemberViewSet, basename="member")

BIN_ITEM = rf"^v1/recycle-bin/(?P<type>{'|'.join(TYPE_NAMES)})/(?P<id>{ID_PATTERN})/"

urlpatterns = [
    # The record resources first: they answer most calls (resolving tries entries in turn).
    path("v1/", include(router.urls)),
    path("v1/whoami/", views.whoami, name="whoami"),
    path("v1/exports/company/", CompanyExportView.as_view(), name="company-export"),
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
    path("v1/approvals/", ApprovalViewSet.as_view({"get": "list"}), name="approval-list"),
    re_path(rf"^v1/approvals/(?P<pk>{ID_PATTERN})/$", ApprovalViewSet.as_view({"get": "retrieve"}), name="approval"),
    re_path(
        rf"^v1/approvals/(?P<pk>{ID_PATTERN})/approve/$",
        ApprovalViewSet.as_view({"post": "approve"}),
        name="approval-approve",
    ),
    re_path(
        rf"^v1/approvals/(?P<pk>{ID_PATTERN})/refuse/$",
        ApprovalViewSet.as_view({"post": "refuse"}),
        name="approval-refuse",
    ),
    # Endpoints the apps registered (crm.records.registry.add_api_urls), in the "api" namespace.
    *(path("v1/", include(import_module(module).urlpatterns)) for module in api_url_modules()),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    # Anything else under /api/ is a JSON 404, not the HTML page.
    re_path(r"^", not_found),
]
