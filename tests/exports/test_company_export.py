"""An administrator takes the whole company out: a ZIP of CSV files, the recycle bin included,
and a manifest; in the browser, over the API and with manage.py export_company."""

import csv
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from crm.recyclebin.actions import delete
from crm.tenancy.context import activate
from customers.models import Customer
from tests.api.conftest import token_client
from tests.conftest import login
from tests.exports.conftest import body
from tests.factories import make_member


@pytest.fixture
def company(records, other_records):
    """Two customers in use (one with a contact, a deal and a ticket), one in the bin with its contact."""
    acme = records.customer(name="Acme 上海")
    records.contact(acme, name="=cmd|' /C calc'!A0")
    records.opportunity(acme, name="Renewal")
    records.ticket(acme, subject="Broken")
    records.interaction(acme)
    records.customer(name="Globex")
    gone = records.customer(name="Gone Ltd")
    records.contact(gone, name="Gone contact")
    with activate(records.tenant, user=records.actor, process="tests"):
        delete(Customer.objects.filter(pk=gone.pk), acting_user=records.actor)
    other_records.customer(name="Not ours")
    return records


def read_zip(data: bytes) -> tuple[dict, dict[str, list[dict]]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    files = {
        name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
        for name in archive.namelist()
        if name.endswith(".csv")
    }
    return json.loads(archive.read("manifest.json")), files


def test_the_admin_downloads_every_record_type_and_the_bin(company, admin_user, events):
    response = login(admin_user).get(reverse("exports:company_download"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    manifest, files = read_zip(body(response))
    assert sorted(row["name"] for row in files["customer.csv"]) == ["Acme 上海", "Globex"]
    assert [row["name"] for row in files["recycle-bin/customer.csv"]] == ["Gone Ltd"]
    assert [row["name"] for row in files["recycle-bin/contact.csv"]] == ["Gone contact"]
    assert files["recycle-bin/customer.csv"][0]["deleted_by"] == company.actor.username
    assert files["contact.csv"][0]["name"].startswith("'=")  # neutralised
    assert files["contact.csv"][0]["customer"] == "Acme 上海"
    for name in ("opportunity.csv", "ticket.csv", "interaction.csv"):
        assert len(files[name]) == 1, name
    assert "Not ours" not in json.dumps(files, ensure_ascii=False)

    assert manifest["company"]["slug"] == company.tenant.slug
    rows = {entry["name"]: entry["rows"] for entry in manifest["files"]}
    assert rows == {name: len(content) for name, content in files.items()}
    assert manifest["counts"]["customer"] == {"alive": 2, "in_bin": 1}
    assert {"api", "django", "python", "schema"} <= manifest["versions"].keys()
    assert manifest["versions"]["schema"]["customers"]
    assert manifest["started_at"] <= manifest["finished_at"]

    [event] = events()
    assert (event.object_type, event.detail["what"], event.count) == ("tenant", "company", 8)


@pytest.mark.parametrize("role", ["manager", "rep", "support", "viewer"])
def test_only_administrators_may_export_the_company(tenant, company, role, events):
    client = login(make_member(tenant, role=role))
    assert client.get(reverse("exports:company_download")).status_code == 403
    assert client.get(reverse("exports:company")).status_code == 403
    assert events() == []


def test_the_company_page_says_what_the_file_holds(company, admin_user):
    html = login(admin_user).get(reverse("exports:company")).content.decode()
    assert 'data-testid="export-company"' in html
    assert reverse("exports:company_download") in html


def test_the_api_streams_the_same_zip_to_admins_only(tenant, company, admin_user):
    response = token_client(tenant, admin_user).get("/api/v1/exports/company/")
    assert response.status_code == 200
    _manifest, files = read_zip(body(response))
    assert len(files["customer.csv"]) == 2
    refused = token_client(tenant, make_member(tenant, role="manager")).get("/api/v1/exports/company/")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Only administrators may export the whole company."


def test_the_command_writes_the_zip_to_a_private_file(company, tmp_path, events):
    target = tmp_path / "alpha.zip"
    out = io.StringIO()
    call_command("export_company", company.tenant.slug, str(target), stdout=out)
    assert out.getvalue().strip() == f"Exported 8 records of {company.tenant.slug} to {target}"
    assert target.stat().st_mode & 0o777 == 0o600
    manifest, files = read_zip(target.read_bytes())
    assert len(files["recycle-bin/contact.csv"]) == 1
    assert manifest["exported_by"] == "export_company"
    assert events()[-1].process == "export_company"
    with pytest.raises(CommandError, match="exists already") as refused:
        call_command("export_company", company.tenant.slug, str(target))
    assert refused.value.returncode == 2
    with pytest.raises(CommandError, match="No company"):
        call_command("export_company", "nope", str(tmp_path / "x.zip"))
