"""Tenant isolation across the whole API, walked from the OpenAPI schema.

A token of tenant A (whose user is also an admin of tenant B, the hardest
case: the token, not the user, decides the tenant) is sent to EVERY operation
of the schema with B's ids (alive, deleted, history versions, audit events,
bin items and batches) and nonexistent ids. Every such request must be a
403/404 (400 for input that references B), lists must not show any of B's
rows, and B's data (every tenant-owned table, history and audit included)
must be exactly as before.
"""

import io
import re
import uuid
import zipfile
from urllib.parse import urlencode

from django.apps import apps
from django.db import models
from django.utils import timezone

from audit.models import AuditEvent
from backups.models import Backup, RestoreRun
from crm.approvals.actions import update_policy
from crm.approvals.gate import ApprovalRequested
from crm.recyclebin import actions as recyclebin
from crm.tenancy.actions import add_member, create_api_token
from crm.tenancy.context import activate
from crm.tenancy.models import ApiToken, Membership
from customers.models import Customer
from imports.models import Import
from privacy.actions import erase

RESOURCES = {
    "customers": "customer",
    "contacts": "contact",
    "interactions": "interaction",
    "opportunities": "opportunity",
    "tickets": "ticket",
    "ticket-messages": "ticketmessage",
    "tasks": "task",
    "attachments": "attachment",
}
MISSING = 2**62


def comparable(value) -> str:
    return repr(bytes(value)) if isinstance(value, memoryview) else str(value)  # a file's bytes, not its buffer


def snapshot(tenant) -> dict:
    """Every row of every tenant-owned table (records, children, history, audit, tokens...) of `tenant`."""
    rows = {}
    for model in apps.get_models():
        field = next((f for f in model._meta.concrete_fields if f.name == "tenant"), None)
        if field is None or not isinstance(field, models.ForeignKey):
            continue
        manager = getattr(model, "all_objects", None) or model._base_manager
        rows[model._meta.label] = sorted(
            (
                tuple(sorted((k, comparable(v)) for k, v in row.items()))
                for row in manager.filter(tenant=tenant).values()
            ),
        )
    return rows


def make_tenant_b(other_records):
    """B's records of every type: alive ones, and a deleted customer (with children) in the bin."""
    b = other_records
    alive = {}
    deleted = {}
    customer = b.customer()
    alive["customer"] = customer
    alive["contact"] = b.contact(customer)
    alive["interaction"] = b.interaction(customer, contact=alive["contact"])
    alive["ticket"] = b.ticket(customer)
    alive["opportunity"] = b.opportunity(customer)
    alive["task"] = b.task(customer=customer)
    alive["attachment"] = b.attachment(alive["ticket"])
    alive["ticketmessage"] = b.ticketmessage(alive["ticket"])
    doomed = b.customer()
    deleted["customer"] = doomed
    deleted["contact"] = b.contact(doomed)
    deleted["interaction"] = b.interaction(doomed)
    deleted["ticket"] = b.ticket(doomed)
    deleted["opportunity"] = b.opportunity(doomed)
    deleted["task"] = b.task(customer=doomed)
    deleted["attachment"] = b.attachment(doomed)
    deleted["ticketmessage"] = b.ticketmessage(deleted["ticket"])
    with activate(b.tenant, user=b.actor):
        batch = recyclebin.delete(type(doomed).objects.filter(pk=doomed.pk), acting_user=b.actor)
        history_ids = {name: record.history.first().history_id for name, record in alive.items()}
    with activate(b.tenant, process="tests"):  # B's deletion request, waiting for approval
        update_policy(acting_user=None, enabled=True, bulk_threshold=1, expiry_hours=24)
    two = [b.customer(), b.customer()]
    with activate(b.tenant, user=b.actor):
        try:
            recyclebin.delete(type(doomed).objects.filter(pk__in=[c.pk for c in two]), acting_user=b.actor)
        except ApprovalRequested as asked:
            alive["approval"] = asked.approval
    return alive, deleted, batch.id, history_ids


def test_a_token_of_tenant_a_cannot_reach_anything_of_tenant_b(api, records, other_records, tenant):
    # The token's user is an admin in B too: only the token's tenant may count.
    add_member(other_records.tenant, api.user.username, role="admin", acting_user=None)
    mine = records.customer()
    alive, deleted, batch, history_ids = make_tenant_b(other_records)
    b_user = other_records.actor
    alive["token"] = create_api_token(other_records.tenant, b_user, name="b", acting_user=None)
    with activate(other_records.tenant, user=b_user):  # B's event: an erasure, which has a report too
        b_event = erase(Customer, other_records.customer().pk, acting_user=b_user)
        b_import = Import.objects.create(
            record_type="customer", filename="b.csv", content=b"name\nB", created_by=b_user
        )
    # Backups are of the whole database (no tenant); a restore run belongs to one tenant.
    backup = Backup.objects.create(status=Backup.Status.GOOD, started_at=timezone.now(), path="/nonexistent.dump")
    b_run = RestoreRun.objects.create(
        backup=backup,
        tenant=other_records.tenant,
        scope=RestoreRun.Scope.TENANT,
        target="beta",
        started_at=timezone.now(),
    )
    # Both companies have a public pool, and B a customer in it.
    for company in (tenant, other_records.tenant):
        company.pool_enabled = True
        company.save(update_fields=["pool_enabled"])
    other_records.customer(name="In B's pool", owner=None)
    alive["savedview"] = other_records.savedview(shared=True)  # B's company-wide view and webhook
    alive["endpoint"] = other_records.endpoint()
    before = snapshot(other_records.tenant)

    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    walked = []
    for template, operations in schema["paths"].items():
        for method in operations:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for path, body, expect in requests_for(
                template, method, alive, deleted, batch, history_ids, b_event, b_user, mine, b_run, b_import
            ):
                response = (
                    getattr(api, method)(path, body, format="json") if body is not None else getattr(api, method)(path)
                )
                walked.append((method, template))
                assert_isolated(response, expect, method, path, alive, deleted, other_records, b_run)
    assert snapshot(other_records.tenant) == before
    assert ApiToken.objects.alive().filter(pk=alive["token"].pk).exists()
    # Every operation of the schema was walked (a new endpoint must be added to requests_for()).
    expected = {
        (m, t) for t, ops in schema["paths"].items() for m in ops if m in ("get", "post", "put", "patch", "delete")
    }
    assert {(m, t) for m, t in walked} == expected


def requests_for(template, method, alive, deleted, batch, history_ids, b_event, b_user, mine, b_run, b_import):
    """(path, body, expectation) for one operation; expectation: "denied", "invalid" or "list"."""
    resource = re.match(r"^/api/v1/([a-z-]+)/", template).group(1)
    if resource in RESOURCES:
        name = RESOURCES[resource]
        if template == f"/api/v1/{resource}/":
            if method == "get":
                yield template, None, "list"
                filters = {"customer": alive["customer"].pk} if name != "customer" else {"owner": b_user.pk}
                yield template + "?" + "&".join(f"{k}={v}" for k, v in filters.items()), None, "empty"
            else:  # create, pointing at B
                body = {"name": "x", "summary": "x", "subject": "x", "customer": alive["customer"].pk}
                if name == "customer":
                    body = {"name": "x", "owner": b_user.pk}
                yield template, body, "invalid"
            return
        if template.endswith("/duplicates/"):  # the check at entry: B's values match nothing of A's
            record = alive[name]
            keys = {key: getattr(record, key) for key in ("name", "email", "phone") if getattr(record, key, "")}
            if name == "contact":
                yield f"{template}?{urlencode({'customer': alive['customer'].pk, **keys})}", None, "denied"
                keys["customer"] = mine.pk
            yield f"{template}?{urlencode(keys)}", None, "no_matches"
            return
        if template.endswith("bulk-delete/"):
            yield template, {"ids": [alive[name].pk]}, "denied"
            yield template, {"ids": [deleted[name].pk, MISSING]}, "denied"
            return
        for pk in (alive[name].pk, deleted[name].pk, MISSING):
            path = template.replace("{id}", str(pk)).replace("{history_id}", str(history_ids[name]))
            path = path.replace("{user_id}", str(b_user.pk)).replace("{merge_id}", str(MISSING))
            body = {"name": "x", "summary": "x", "subject": "x"} if method in ("put", "patch") else None
            yield path, body, "denied"
        # A's own record with B's history version.
        if "{history_id}" in template and name == "customer":
            yield template.replace("{id}", str(mine.pk)).replace("{history_id}", str(history_ids[name])), None, "denied"
        return
    if resource == "recycle-bin":
        if template == "/api/v1/recycle-bin/":
            yield template, None, "list"
            yield f"{template}?batch={batch}", None, "empty"
        elif template == "/api/v1/recycle-bin/restore/":
            yield template, {"batch": str(batch)}, "denied"
            yield template, {"items": [{"type": t, "id": r.pk} for t, r in deleted.items()]}, "denied"
        else:
            for type_name in RESOURCES.values():
                for pk in (deleted[type_name].pk, alive[type_name].pk, MISSING):
                    yield template.replace("{type}", type_name).replace("{id}", str(pk)), None, "denied"
        return
    if resource == "audit-events":
        if template == "/api/v1/audit-events/":
            yield template, None, "list"
        else:
            for pk in (b_event.pk, MISSING):
                yield template.replace("{id}", str(pk)), None, "denied"
        return
    if resource == "backups":
        if template in ("/api/v1/backups/", "/api/v1/backups/restores/") and method == "get":
            yield template, None, "list"
        elif template == "/api/v1/backups/":  # POST: whole-database backups are for staff only
            yield template, None, "denied"
        elif template == "/api/v1/backups/{id}/restore/":
            for body in ({"scope": "tenant"}, {"scope": "customer", "customer": alive["customer"].pk}):
                yield template.replace("{id}", str(MISSING)), body, "denied"
        elif template == "/api/v1/backups/tasks/{task}/":
            yield template.replace("{task}", str(uuid.uuid4())), None, "denied"
        elif template == "/api/v1/backups/restores/{id}/":
            for pk in (b_run.pk, MISSING):
                yield template.replace("{id}", str(pk)), None, "denied"
        else:  # a backup: not tenant-owned
            yield template.replace("{id}", str(MISSING)), None, "denied"
        return
    if resource == "approvals":
        if template == "/api/v1/approvals/":
            yield template, None, "list"
        else:
            for pk in (alive["approval"].pk, MISSING):
                yield template.replace("{id}", str(pk)), None, "denied"
        return
    if resource == "whoami":
        yield template, None, "whoami"
        return
    if resource == "tokens":  # one's own tokens in one's own company: nothing to point at B but ids
        if template == "/api/v1/tokens/":
            yield template, None if method == "get" else {"name": ""}, "list" if method == "get" else "invalid"
        else:
            for pk in (alive["token"].pk, MISSING):
                yield template.replace("{id}", str(pk)), None, "denied"
        return
    if resource == "erasures":
        if template == "/api/v1/erasures/":
            yield template, None, "list"
        else:
            for pk in (b_event.pk, MISSING):
                yield template.replace("{id}", str(pk)), None, "denied"
        return
    if resource == "reports":  # aggregates of A's records; B's member is no owner here
        if template == "/api/v1/reports/":
            yield template, None, "reports"
        else:
            for slug in ("funnel", "forecast", "tickets", "customers"):
                yield template.replace("{report}", slug), None, "reports"
                yield template.replace("{report}", slug) + f"?owner={b_user.pk}", None, "invalid"
        return
    if resource == "members":  # B's people, the token's user's own membership in B included
        b_members = Membership.objects.filter(tenant_id=b_run.tenant_id).values_list("pk", flat=True)
        if template == "/api/v1/members/":
            yield template, None if method == "get" else {"role": ""}, "list" if method == "get" else "invalid"
        else:
            for pk in (*b_members, MISSING):
                yield template.replace("{id}", str(pk)), {"role": "viewer"} if method == "patch" else None, "denied"
        return
    if resource == "exports":  # the company's way out: A's records only
        yield template, None, "zip"
        return
    if resource == "imports":
        if template == "/api/v1/imports/":
            # An upload is multipart only: JSON is a 415 with the JSON error body.
            yield template, None if method == "get" else {"type": "customer"}, "list" if method == "get" else "media"
        else:
            for pk in (b_import.pk, MISSING):
                yield template.replace("{id}", str(pk)), {} if method == "post" else None, "denied"
        return
    if resource in ("saved-views", "webhooks"):  # B's shared view and webhook stay B's
        name = {"saved-views": "savedview", "webhooks": "endpoint"}[resource]
        if template == f"/api/v1/{resource}/":
            yield template, None if method == "get" else {}, "list" if method == "get" else "invalid"
        elif template.endswith("bulk-delete/"):
            yield template, {"ids": [alive[name].pk]}, "denied"
        else:
            version = alive[name].history.first().history_id
            for pk in (alive[name].pk, MISSING):
                path = template.replace("{id}", str(pk)).replace("{history_id}", str(version))
                yield path, {"name": "x"} if method in ("put", "patch") else None, "denied"
        return
    if resource == "search":  # B's customer is found by name in B only
        yield f"{template}?{urlencode({'q': alive['customer'].name})}", None, "search"
        return
    if resource == "pool":  # A's pool only; B's customers cannot be claimed from it
        if template == "/api/v1/pool/":
            yield template, None, "list"
        else:
            for pk in (alive["customer"].pk, deleted["customer"].pk, MISSING):
                yield template.replace("{id}", str(pk)), None, "denied"
        return
    raise AssertionError(f"the isolation walk does not know {method.upper()} {template}: add it")


def assert_isolated(response, expect, method, path, alive, deleted, other_records, b_run):
    body = b"(streamed)" if response.streaming else response.content[:300]
    where = f"{method.upper()} {path} -> {response.status_code}: {body!r}"
    if expect == "denied":
        assert response.status_code in (403, 404), where
    elif expect == "invalid":
        assert response.status_code == 400, where
    elif expect == "media":
        assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type", where
    elif expect == "reports":  # the numbers themselves: tests/reports/ (another company's never counted)
        assert response.status_code == 200 and ("results" in response.json() or "tables" in response.json()), where
    elif expect == "zip":
        assert response.status_code == 200, where
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        text = b"".join(archive.read(name) for name in archive.namelist()).decode("utf-8", "replace")
        assert alive["customer"].name not in text and deleted["customer"].name not in text, where
    elif expect == "search":
        assert response.status_code == 200, where
        found = {(group["type"], row["id"]) for group in response.json()["groups"] for row in group["results"]}
        assert not found & {(name, record.pk) for name, record in alive.items()}, where
    elif expect == "no_matches":
        assert response.status_code == 200 and response.json() == [], where
    elif expect == "whoami":
        assert response.status_code == 200 and response.json()["tenant"] != other_records.tenant.slug, where
    else:
        assert response.status_code == 200, where
        results = response.json()["results"]
        if expect == "empty":
            assert results == [], where
        b_ids = {(name, record.pk) for group in (alive, deleted) for name, record in group.items()}
        b_events = set(AuditEvent.objects.filter(tenant=other_records.tenant).values_list("pk", flat=True))
        for row in results:
            if "type" in row:  # a bin item
                assert (row["type"], row["id"]) not in b_ids, where
            elif "seq" in row:  # an audit event
                assert row["id"] not in b_events, where
            elif "event_id" in row:  # an erasure
                assert row["event_id"] not in b_events, where
            elif path.startswith("/api/v1/members/"):
                assert not Membership.objects.filter(pk=row["id"], tenant=other_records.tenant).exists(), where
            elif path.startswith("/api/v1/imports/"):
                assert not Import.all_objects.filter(pk=row["id"], tenant=other_records.tenant).exists(), where
            elif path.startswith("/api/v1/tokens/"):
                assert ("token", row["id"]) not in b_ids, where
            elif path.startswith(("/api/v1/saved-views/", "/api/v1/webhooks/")):
                assert row["id"] not in {alive["savedview"].pk, alive["endpoint"].pk}, where
            elif path.startswith("/api/v1/pool/"):
                assert not Customer.all_objects.filter(pk=row["id"], tenant=other_records.tenant).exists(), where
            elif path.startswith("/api/v1/approvals/"):
                assert ("approval", row["id"]) not in b_ids, where
            elif path.startswith("/api/v1/backups/"):  # backups (of the whole database) and restores
                assert not ("scope" in row and row["id"] == b_run.pk), where
            else:
                resource = re.match(r"^/api/v1/([a-z-]+)/", path).group(1)
                assert (RESOURCES[resource], row["id"]) not in b_ids, where
