"""The registry: what each app plugs into the kernel.

Apps register in their AppConfig.ready(); the kernel (everything under crm/)
walks the registry and imports no app. Registered here:

- record types: the model, which parent's delete takes it into the recycle bin,
  what each role may do with it, and its API resource;
- URL mounts (browser pages) and API URL modules;
- dashboard panels;
- demo-data steps for `manage.py seed_demo`.

Adding a record type is one `register(RecordType(...))` plus its models,
templates and tests (docs/architecture.md has the checklist).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from django.db import models
from django.utils.module_loading import import_string

from crm.tenancy.roles import Action, Role

WRITES = frozenset({Action.ADD, Action.CHANGE, Action.DELETE, Action.RESTORE})
EVERYTHING = frozenset({Action.VIEW, *WRITES})
READ_ONLY = frozenset({Action.VIEW})

# What each role may do with a record type unless the type says otherwise. Purge is
# never a role right: it needs the per-object permission (crm.records.permissions).
DEFAULT_RIGHTS: Mapping[str, frozenset[str]] = {
    Role.ADMIN: EVERYTHING,
    Role.MANAGER: EVERYTHING,
    Role.REP: EVERYTHING,
    Role.SUPPORT: READ_ONLY,
    Role.VIEWER: READ_ONLY,
}


@dataclass(frozen=True)
class RecordType:
    """One kind of tenant-owned, soft-deletable record."""

    model: type
    # Foreign keys whose target's delete takes this record into the bin with it, in the same
    # batch (and whose restore brings it back). Declared, never inferred from on_delete.
    bin_parents: tuple[str, ...] = ()
    # The field that names a record in the recycle bin (and that the bin's search looks in).
    label_field: str = "name"
    # Role -> the actions it may take on this type at all; object-level rules are the
    # model queryset's restrict().
    rights: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(DEFAULT_RIGHTS))
    # /api/v1/<api_prefix>/ served by the RecordViewSet at this dotted path.
    api_prefix: str = ""
    api_viewset: str = ""
    # Fields that hold a person's data (text, or nullable): a purge erases their values from
    # the record's history rows (crm.records.erasure); docs/privacy.md lists them.
    personal_fields: tuple[str, ...] = ()
    # An admin may erase a record of this type at a person's request (privacy/).
    erasable: bool = False
    # "app_label.Model"s holding parts of these records (an attachment's bytes): tenant-owned rows,
    # never changed once written, with a CASCADE key to the record. Restores bring them back with
    # their records (backups/restore_rows.py); a purge deletes them through that key.
    contents: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.model._meta.model_name

    @property
    def verbose_name(self):
        return self.model._meta.verbose_name

    @property
    def verbose_name_plural(self):
        return self.model._meta.verbose_name_plural

    def allows(self, role: str, action: str) -> bool:
        return action in self.rights.get(role, frozenset())


@dataclass(frozen=True)
class DashboardPanel:
    """A card on the dashboard: `context(user)` returns its data, or None to leave it out."""

    template: str
    context: Callable
    column: str = "left"  # "top" (full width), "left" or "right"
    order: int = 0


@dataclass(frozen=True)
class DemoStep:
    """`run(tenant, users)` adds demo records; users are {username: user} of the demo company."""

    run: Callable
    order: int = 0


_record_types: dict[str, RecordType] = {}
_url_mounts: list[tuple[str, str]] = []
_api_urls: list[str] = []
_panels: list[DashboardPanel] = []
_demo_steps: list[DemoStep] = []


def _changed() -> None:
    cascade_order.cache_clear()


# -- registering (AppConfig.ready) -----------------------------------------------------------------


def register(record_type: RecordType) -> RecordType:
    name = record_type.name
    if name in _record_types and _record_types[name].model is not record_type.model:
        raise ValueError(f"Two record types are named {name}")
    for fk_name in record_type.bin_parents:
        record_type.model._meta.get_field(fk_name)  # FieldDoesNotExist for a typo, at start-up
    for field_name in record_type.personal_fields:
        personal = record_type.model._meta.get_field(field_name)
        if not (personal.null or isinstance(personal, models.CharField | models.TextField)):
            raise ValueError(f"{name}.{field_name}: a personal field must be text or nullable, to be erasable")
    _record_types[name] = record_type
    _changed()
    return record_type


def mount_urls(prefix: str, module: str) -> None:
    """Browser pages: `path(prefix, include(module))` in the project's URLconf."""
    if (prefix, module) not in _url_mounts:
        _url_mounts.append((prefix, module))


def add_api_urls(module: str) -> None:
    """A module whose `urlpatterns` are served under /api/v1/ (endpoints that are not record types)."""
    if module not in _api_urls:
        _api_urls.append(module)


def add_dashboard_panel(panel: DashboardPanel) -> None:
    if panel not in _panels:
        _panels.append(panel)


def add_demo_step(step: DemoStep) -> None:
    if step not in _demo_steps:
        _demo_steps.append(step)


# -- reading ---------------------------------------------------------------------------------------


def record_types() -> dict[str, RecordType]:
    """{name: RecordType} in cascade order: every parent before its children."""
    return {model._meta.model_name: _record_types[model._meta.model_name] for model in cascade_order()}


def record_models() -> dict[str, type]:
    """{name: model} in cascade order."""
    return {model._meta.model_name: model for model in cascade_order()}


def record_type(model_or_name) -> RecordType | None:
    name = model_or_name if isinstance(model_or_name, str) else model_or_name._meta.model_name
    return _record_types.get(name)


def content_models() -> list[type]:
    """The `contents` models of every record type, in cascade order."""
    from django.apps import apps

    return [apps.get_model(label) for entry in record_types().values() for label in entry.contents]


def url_mounts() -> list[tuple[str, str]]:
    return list(_url_mounts)


def api_url_modules() -> list[str]:
    return list(_api_urls)


def api_resources() -> list[tuple[str, type, str]]:
    """(prefix, viewset class, basename) of every record type with an API resource."""
    return [
        (entry.api_prefix, import_string(entry.api_viewset), entry.name)
        for entry in record_types().values()
        if entry.api_prefix
    ]


def dashboard_panels() -> list[DashboardPanel]:
    return sorted(_panels, key=lambda panel: panel.order)


def demo_steps() -> list[DemoStep]:
    return sorted(_demo_steps, key=lambda step: step.order)


# -- the cascade -------------------------------------------------------------------------------------


def parent_links(model) -> list[tuple[type, str]]:
    """(parent model, FK field name) for each parent whose delete takes `model`'s rows along."""
    entry = record_type(model)
    if entry is None:
        return []
    return [(model._meta.get_field(fk_name).related_model, fk_name) for fk_name in entry.bin_parents]


@cache
def cascade_order() -> tuple[type, ...]:
    """Registered models, every parent before its children (then by label, so the order is stable)."""
    remaining = sorted((entry.model for entry in _record_types.values()), key=lambda model: model._meta.label)
    ordered: list = []
    while remaining:
        for model in remaining:
            parents = {parent for parent, _field in parent_links(model)}
            if parents <= {*ordered, model}:
                ordered.append(model)
                remaining.remove(model)
                break
        else:
            raise ValueError(f"The bin cascade has a cycle among {[m._meta.label for m in remaining]}")
    return tuple(ordered)


def child_links(parent) -> list[tuple[type, str]]:
    """(child model, FK field name) for every model whose rows go into the bin with `parent`'s."""
    return [
        (model, fk_name)
        for model in cascade_order()
        for linked_parent, fk_name in parent_links(model)
        if linked_parent is parent
    ]
