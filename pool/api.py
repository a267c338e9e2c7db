"""The public pool over the API (served under /api/v1/, crm.records.registry.add_api_urls):

- GET  /api/v1/pool/                      the pool's customers: id, name, industry, last_activity
                                          (paginated), and the caller's quota;
- POST /api/v1/pool/{id}/claim/           claim one (pool.actions.claim_customer): 200 with the
                                          customer's pool columns; 409 `taken`, `daily_limit`,
                                          `held_limit`; 404 if it is not in the pool;
- POST /api/v1/customers/{id}/release/    release one of the customers the caller sees
                                          (pool.actions.release_customer).

A company whose pool is off has no pool: 404 (`pool_off` in the body).
"""

from django.http import Http404
from django.urls import path, re_path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from crm.api.filters import ID_PATTERN
from crm.api.viewsets import ID_PARAMETER, ApiViewMixin
from crm.tenancy.context import current_tenant
from customers.models import Customer
from pool import actions
from pool.listing import may_work_pool, pool_columns, pool_customers, pool_settings, quota_for

TAGS = ["pool"]


class PoolCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    industry = serializers.CharField(read_only=True)
    last_activity = serializers.DateTimeField(
        read_only=True, help_text="The newest interaction with the customer, else its creation."
    )


class PoolNotFound(NotFound):
    default_code = "pool_off"


def open_pool(request):
    """The company's settings; 404 when its pool is off, 403 for roles that do not work it."""
    settings = pool_settings(current_tenant())
    if not settings.pool_enabled:
        raise PoolNotFound(_("This company does not use the public pool."))
    if not may_work_pool(request.user):
        raise PermissionDenied(_("Only reps, managers and admins work the public pool."))
    return settings


class PoolViewSet(ApiViewMixin, viewsets.GenericViewSet):
    serializer_class = PoolCustomerSerializer

    @extend_schema(summary="The public pool's customers (pool columns only)", tags=TAGS)
    def list(self, request):
        settings = open_pool(request)
        page = self.paginate_queryset(pool_customers())
        response = self.get_paginated_response(PoolCustomerSerializer(page, many=True).data)
        quota = quota_for(request.user, settings)
        response.data["quota"] = {
            "claims_per_day": quota.claims_per_day,
            "claimed_today": quota.claimed_today,
            "max_held": quota.max_held,
            "held": quota.held,
            "remaining": quota.remaining,
        }
        return response

    @extend_schema(summary="Claim a customer from the pool", request=None, parameters=[ID_PARAMETER], tags=TAGS)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        open_pool(request)
        if not pool_customers().filter(pk=int(pk)).exists():
            raise NotFound(_("This customer is not in the pool (any more)."))
        customer = actions.claim_customer(int(pk), acting_user=request.user)
        return Response(PoolCustomerSerializer(pool_columns().get(pk=customer.pk)).data)


class ReleaseViewSet(ApiViewMixin, viewsets.GenericViewSet):
    serializer_class = PoolCustomerSerializer

    @extend_schema(
        summary="Release a customer to the public pool", request=None, parameters=[ID_PARAMETER], tags=["customers"]
    )
    def release(self, request, pk=None):
        customer = Customer.objects.for_user(request.user, "view").filter(pk=int(pk)).first()
        if customer is None:
            raise Http404(_("No customer with this id is visible to you."))
        actions.release_customer(customer, acting_user=request.user)
        return Response(PoolCustomerSerializer(pool_columns().get(pk=customer.pk)).data)


urlpatterns = [
    path("pool/", PoolViewSet.as_view({"get": "list"}), name="pool-list"),
    re_path(rf"^pool/(?P<pk>{ID_PATTERN})/claim/$", PoolViewSet.as_view({"post": "claim"}), name="pool-claim"),
    re_path(
        rf"^customers/(?P<pk>{ID_PATTERN})/release/$",
        ReleaseViewSet.as_view({"post": "release"}),
        name="customer-release",
    ),
]
