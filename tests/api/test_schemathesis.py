"""Property-based test of the whole API against its own OpenAPI schema (schemathesis).

Every operation of /api/schema/ gets generated requests, valid and invalid
(mode "all": wrong types, out-of-range numbers, NUL bytes, odd strings),
sent to the WSGI app in-process with an admin's token, over real PostgreSQL
and Redis. Required: no 5xx, and every response (status code, content type,
headers, body) as the schema declares it, errors included.

Read-only detail operations are pinned to seeded records so their success
responses are checked too; writes get generated ids (mostly 404s, which must
conform as well). Examples per operation are bounded (SCHEMATHESIS_EXAMPLES,
12 by default) and Hypothesis's deadline is off, to keep the run short.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.recyclebin import actions as recyclebin
from crm.tenancy.actions import api_token_for
from crm.tenancy.context import activate

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
RESOURCES = {
    "customers": "customer",
    "contacts": "contact",
    "interactions": "interaction",
    "opportunities": "opportunity",
    "tickets": "ticket",
}


def seed(records):
    """A little of everything, so lists, details and the bin have rows to show."""
    customer = records.customer(tags=["vip"])
    contact = records.contact(customer)
    alive = {
        "customer": customer,
        "contact": contact,
        "interaction": records.interaction(customer, contact=contact),
        "ticket": records.ticket(customer),
        "opportunity": records.opportunity(customer),
    }
    doomed = records.customer()
    records.contact(doomed)
    records.ticket(doomed)
    with activate(records.tenant, user=records.actor):
        recyclebin.delete(type(doomed).objects.filter(pk=doomed.pk), acting_user=records.actor)
        versions = {name: record.history.first().history_id for name, record in alive.items()}
    return alive, doomed, versions


def pinned_path_parameters(alive, doomed, versions, event_id) -> dict:
    """(method, path) -> fixed path parameters: read-only operations look at seeded records."""
    pinned = {}
    for path, name in RESOURCES.items():
        pinned[("GET", f"/api/v1/{path}/{{id}}/")] = {"id": alive[name].pk}
        pinned[("GET", f"/api/v1/{path}/{{id}}/history/")] = {"id": alive[name].pk}
    pinned[("GET", "/api/v1/recycle-bin/{type}/{id}/")] = {"type": "customer", "id": doomed.pk}
    pinned[("GET", "/api/v1/audit-events/{id}/")] = {"id": event_id}
    return pinned


def load_schema():
    from crm.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


# One pytest item per operation of the served schema (the schema needs no database).
OPERATIONS = sorted((result.ok().path, result.ok().method.upper()) for result in load_schema().get_all_operations())


@pytest.fixture
def in_process_requests():
    """Let the WSGI app run inside the test's transaction (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db, in_process_requests, settings, records, admin_user, tenant):
    # Hundreds of requests with one token: lift the rate limit (429s would conform, but test less).
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "100000/min"}}
    alive, doomed, versions = seed(records)
    from audit.models import AuditEvent

    event_id = AuditEvent.objects.filter(tenant=tenant).values_list("pk", flat=True).first()
    token = api_token_for(tenant, admin_user.username, acting_user=None)
    return {
        "headers": {"Authorization": f"Token {token.key}"},
        "pinned": pinned_path_parameters(alive, doomed, versions, event_id),
    }


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_every_operation_conforms_to_the_schema(path, method, seeded):
    operation = load_schema()[path][method]
    pinned = seeded["pinned"].get((method, path))
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=pinned),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=pinned),
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=seeded["headers"], checks=CHECKS)

    run()
