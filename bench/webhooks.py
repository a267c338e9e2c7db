"""What the webhook hook adds to writes: a single update, and a bulk change of 1,000 customers,
with five active endpoints that chose the event, against the same write with none.

Each run is rolled back (no delivery is ever sent: the sending is queued on commit). The
endpoints are created in a rolled-back transaction around the measurement, so the bench
leaves nothing behind.
"""

from __future__ import annotations

from django.db import transaction
from django.test import override_settings

from bench.timing import Result, compare, rolled_back
from crm.tenancy.context import activate

ENDPOINTS = 5
BULK = 1000


def webhooks(ctx) -> list[Result]:
    from customers import actions
    from customers.models import Customer
    from webhooks.actions import create_endpoint
    from webhooks.models import Endpoint

    tenant, admin = ctx.tenant, ctx.admin
    with activate(tenant, user=admin, process="bench"):
        customer = Customer.objects.filter(deleted_at__isnull=True).order_by("id").first()
        bulk_ids = list(Customer.objects.order_by("id").values_list("pk", flat=True)[:BULK])
    names = iter(f"Hooked {n}" for n in range(10**9))

    def update():
        with activate(tenant, user=admin, process="bench"):
            actions.update_customer(customer, name=next(names), acting_user=admin)

    def bulk():
        with activate(tenant, user=admin, process="bench"):
            actions.bulk_add_tag(Customer.objects.filter(pk__in=bulk_ids), next(names)[:50], acting_user=admin)

    def hooked(function):
        def run():
            with transaction.atomic():
                Endpoint.all_objects.filter(tenant=tenant, name__startswith="bench-hook").update(active=True)
                function()
                transaction.set_rollback(True)

        return run

    results = []
    with transaction.atomic(), override_settings(WEBHOOKS_ALLOW_PRIVATE=True):
        with activate(tenant, user=admin, process="bench"):
            for n in range(ENDPOINTS):
                create_endpoint(
                    name=f"bench-hook {n}",
                    url="http://127.0.0.1:9/hook",
                    events=["customer.updated"],
                    active=False,
                    acting_user=admin,
                )
        runs = max(ctx.runs, 20)
        results.append(
            compare(
                f"Webhooks: single update with {ENDPOINTS} endpoints receiving it vs none",
                hooked(update),
                rolled_back(update),
                runs=runs,
                target=1.3,
            )
        )
        results.append(
            compare(
                f"Webhooks: bulk tag of {BULK:,} customers with {ENDPOINTS} endpoints vs none",
                hooked(bulk),
                rolled_back(bulk),
                runs=max(ctx.runs, 15),
                target=1.2,
                alternate=True,  # seconds-scale on shared cores: neither side always gets the quieter slot
            )
        )
        transaction.set_rollback(True)
    return results
