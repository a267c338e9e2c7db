"""Big files run on a real Celery worker; the API and the page show rows done of total meanwhile."""

import time

from django.core.files.uploadedfile import SimpleUploadedFile

from crm.tenancy.context import activate
from customers.models import Customer
from imports.models import Import
from tests.api.conftest import token_client
from tests.conftest import login
from tests.factories import make_member, make_tenant
from tests.imports.helpers import csv_bytes


def wait_for(client, job_id, status, seconds=60):
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/imports/{job_id}/").json()
        seen.append((body["status"], body["done"]))
        if body["status"] == status:
            return body, seen
        time.sleep(0.1)
    raise AssertionError(f"still {seen[-1]} after {seconds}s")


def test_a_big_file_is_previewed_and_imported_on_a_worker_with_progress(celery_worker, settings):
    settings.IMPORT_SYNC_ROWS = 10  # files above 10 rows go to the worker
    tenant = make_tenant("gamma")
    admin = make_member(tenant, "gina", role="admin")
    api = token_client(tenant, admin)
    rows = [["Name", "Email"], *([f"Customer {n}", f"c{n}@example.com"] for n in range(2500))]
    response = api.post(
        "/api/v1/imports/",
        {"type": "customers", "dry_run": "1", "file": SimpleUploadedFile("big.csv", csv_bytes(rows))},
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["total"]) == ("previewing", 2500)
    previewed, seen = wait_for(api, body["id"], "previewed")
    assert previewed["done"] == previewed["total"] == previewed["created"] == 2500
    assert all(0 <= done <= 2500 for _status, done in seen)
    page = login(admin).get(f"/imports/{body['id']}/")
    assert b'data-testid="import-confirm"' in page.content
    running = api.post(f"/api/v1/imports/{body['id']}/run/").json()
    assert running["status"] == "running"
    page = login(admin).get(f"/imports/{body['id']}/").content.decode()
    if Import.all_objects.get(pk=body["id"]).status == "running":  # the page can be left and come back
        assert "data-import-refresh" in page and "of 2500 rows" in page
    done, _seen = wait_for(api, body["id"], "done")
    assert (done["created"], done["done"]) == (2500, 2500)
    with activate(tenant):
        assert Customer.objects.count() == 2500
        assert Customer.history.filter(history_change_reason="imported").count() == 2500


def test_without_dry_run_a_big_file_is_previewed_then_written_by_the_worker(celery_worker, settings):
    settings.IMPORT_SYNC_ROWS = 10
    tenant = make_tenant("delta")
    api = token_client(tenant, make_member(tenant, "dora", role="admin"))
    rows = [["Name", "Owner"], *([f"Customer {n}", "dora" if n % 2 else "nobody"] for n in range(50))]
    body = api.post(
        "/api/v1/imports/",
        {"type": "customers", "file": SimpleUploadedFile("big.csv", csv_bytes(rows))},
        format="multipart",
    ).json()
    assert body["status"] == "previewing"
    done, _seen = wait_for(api, body["id"], "done")
    assert (done["created"], done["errors"], done["done"]) == (25, 25, 50)
