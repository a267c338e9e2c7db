"""The rules that keep the code livable (docs/architecture.md), checked on the source itself."""

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from django.apps import apps

from crm.records.registry import api_resources, cascade_order, record_types

ROOT = Path(__file__).resolve().parent.parent
KERNEL = ROOT / "crm"
RECORD_APPS = ("customers", "sales", "activities", "audit", "backups", "privacy", "imports")
APPS = (*RECORD_APPS, "ops")  # ops: readiness, metrics, logs; no records, so no actions
NOT_IMPORTED_BY_THE_KERNEL = ("customers", "sales", "activities", "backups", "privacy", "imports")
MAX_MODULE_LINES = 400


def source_files(*roots: Path):
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_kernel_imports_no_app():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] in NOT_IMPORTED_BY_THE_KERNEL
        )
        for path in source_files(KERNEL)
    }
    assert {path: names for path, names in offenders.items() if names} == {}


# Configuration, not code: every knob in one file to read from top to bottom (as NetBox and
# Saleor keep theirs), each setting a line or two with the comment an operator needs.
NOT_CODE = {"crm/settings.py"}


def test_no_module_is_longer_than_about_400_lines():
    roots = [KERNEL, *(ROOT / app for app in APPS)]
    long = {
        name: count
        for path in source_files(*roots)
        if (name := str(path.relative_to(ROOT))) not in NOT_CODE
        and (count := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def action_modules():
    for config in apps.get_app_configs():
        if config.name.startswith(("crm.", *APPS)):
            try:
                yield importlib.import_module(f"{config.name}.actions")
            except ModuleNotFoundError:
                continue


def test_every_function_taking_an_acting_user_is_a_marked_action():
    unmarked = []
    for module in action_modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            parameters = inspect.signature(function).parameters
            acting = parameters.get("acting_user")
            if acting is not None and not getattr(function, "is_action", False):
                unmarked.append(f"{module.__name__}.{name}")
            if acting is not None:
                assert acting.kind is inspect.Parameter.KEYWORD_ONLY, f"{module.__name__}.{name}"
    assert unmarked == []


def test_the_apps_with_records_have_actions_modules():
    names = {module.__name__ for module in action_modules()}
    assert {f"{app}.actions" for app in RECORD_APPS} | {"crm.tenancy.actions", "crm.recyclebin.actions"} <= names


def test_audit_actions_are_the_enum_never_free_strings():
    literal = []
    for path in source_files(KERNEL, *(ROOT / app for app in APPS)):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("audit", "record")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                literal.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert literal == []


@pytest.mark.parametrize("name", ["customer", "contact", "interaction", "ticket", "opportunity"])
def test_every_record_type_is_registered_once_with_its_api_resource(name):
    entry = record_types()[name]
    assert entry.model in cascade_order()
    assert name in {basename for _prefix, _viewset, basename in api_resources()}


def test_the_bin_cascade_is_declared_children_follow_their_customer():
    order = [model._meta.model_name for model in cascade_order()]
    assert order[0] == "customer"
    for name in ("contact", "interaction", "ticket", "opportunity"):
        assert record_types()[name].bin_parents == ("customer",)


@pytest.mark.django_db
def test_every_tenant_table_is_behind_the_row_level_security_wall():
    """A table with a tenant_id column gets the tenant_wall policy, RLS enabled and forced (the
    migration and the post_migrate hook of crm.tenancy.rls), unless it is one of the few doors
    into a company listed, with the reason, in rls.EXEMPT. The tables are read from the migrated
    test database, so a new app's table counts from its first migration on."""
    from django.db import connection

    from crm.tenancy import rls

    with connection.cursor() as cursor:
        assert rls.unwalled_tables(cursor) == []
        tables = rls.tenant_tables(cursor)
    assert {"customers_customer", "customers_historicalcustomer", "attachments_attachmentchunk"} <= set(tables)
    assert {"customers_customerpurgepermission", "audit_auditevent"} <= set(tables)
