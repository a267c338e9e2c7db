"""manage.py import_records: the last line, dry runs, revert, exit code 2 on bad input."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.tenancy.context import activate
from customers.models import Customer
from tests.imports.helpers import csv_bytes

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command("import_records", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def names(tenant):
    with activate(tenant):
        return sorted(Customer.objects.values_list("name", flat=True))


def test_a_gbk_file_with_chinese_headers_imports_and_says_so_on_its_last_line(tmp_path, tenant, admin_user):
    path = tmp_path / "客户.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["客户名称", "邮箱", "电话", "负责人"],
                ["华为技术", "hw@example.com", "0755-1234567", "alice"],
                ["小米科技", "mi@example.com", "", "alice"],
            ],
            "gbk",
        )
    )
    lines = run("alpha", str(path), "--type", "customers")
    assert lines[-1].endswith(": 2 created, 0 updated, 0 skipped, 0 errors")
    assert lines[-1].startswith("Import ")
    assert names(tenant) == ["华为技术", "小米科技"]
    with activate(tenant):
        huawei = Customer.objects.get(name="华为技术")
        assert huawei.owner == admin_user
        assert huawei.phone == "0755-1234567"
        assert huawei.history.get().history_change_reason == "imported"


def test_a_dry_run_writes_no_records(tmp_path, tenant, admin_user):
    path = tmp_path / "c.csv"
    path.write_bytes(csv_bytes([["Name", "Email"], ["Acme", "a@example.com"]]))
    lines = run("alpha", str(path), "--dry-run")
    assert lines[-1].endswith(": 1 created, 0 updated, 0 skipped, 0 errors")
    assert names(tenant) == []


def test_revert_puts_everything_back(tmp_path, tenant, admin_user, records):
    kept = records.customer(name="Kept", email="kept@example.com", phone="")
    path = tmp_path / "c.csv"
    path.write_bytes(
        csv_bytes(
            [["Name", "Email", "Phone"], ["New", "new@example.com", ""], ["Kept", "kept@example.com", "12345678"]]
        )
    )
    last = run("alpha", str(path), "--mode", "upsert")[-1]
    assert last.endswith(": 1 created, 1 updated, 0 skipped, 0 errors")
    job_id = last.split()[1].rstrip(":")
    run("alpha", "--revert", job_id)
    assert names(tenant) == ["Kept"]
    kept.refresh_from_db()
    assert kept.phone == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.csv"], "No such file"),
        (["{empty}"], "The file is empty."),
        (["{header}"], "header line but no rows"),
        (["{file}", "--type", "planets"], "Choose what to import"),
        (["{file}", "--mapping", "{not json"], "not valid JSON"),
        (["{file}", "--mapping", '{"Nope": "name"}'], "no column"),
        (["--revert", "999999"], "No import 999999"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, tenant, admin_user, args, message):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "header.csv").write_bytes(b"Name,Email\r\n")
    (tmp_path / "file.csv").write_bytes(csv_bytes([["Name"], ["Acme"]]))
    paths = {"{empty}": "empty.csv", "{header}": "header.csv", "{file}": "file.csv"}
    args = [str(tmp_path / paths[arg]) if arg in paths else arg for arg in args]
    with pytest.raises(CommandError) as error:
        run("alpha", *args)
    assert error.value.returncode == 2
    assert message in str(error.value)
    assert names(tenant) == []
