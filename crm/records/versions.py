"""Record versions: nothing is lost when two people edit the same record.

Every record carries `version`, which every write adds one to: single edits
(crm.records.actions.update), set-based ones (bulk edits, deletes into the bin,
restores) with `NEXT_VERSION`. A person's change names the version they saw;
a record that has moved on since is left alone and the change refused
(`VersionConflict`), with what changed since, from history, to show them.

Hand-written rather than django-concurrency: that library checks that the row
exists with a SELECT before each UPDATE (a second query for every save), starts
versions at 0 and knows nothing of set-based writes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import F, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.tenancy.acting import ActionConflict

NEXT_VERSION = F("version") + 1

ENTITY_TAG = re.compile(r'\s*(?:W/)?"(\d{1,18})"\s*')


class VersionConflict(ActionConflict):
    """The record changed since the person loaded it; nothing was written."""

    code = "version_conflict"

    def __init__(self, record, *, seen: int, current: int | None):
        super().__init__(
            _("This %(type)s was changed by someone else since you loaded it (version %(seen)s, now %(current)s).")
            % {"type": record._meta.verbose_name, "seen": seen, "current": current}
        )
        self.record, self.seen, self.current = record, seen, current


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_versions(header: str | None) -> set[int] | None:
    """The versions an `If-Match` header accepts: None when there is no header (or `*`, any version).

    A value that is not a list of entity tags accepts no version at all (412)."""
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for part in header.split(","):
        match = ENTITY_TAG.fullmatch(part)
        if match is None:
            return set()
        versions.add(int(match.group(1)))
    return versions


def as_seen(seen: Mapping[int, int]) -> Q:
    """The rows that are still at the version the person saw ({pk: version})."""
    condition = Q(pk__in=[])
    for pk, version in seen.items():
        condition |= Q(pk=pk, version=version)
    return condition


@dataclass
class Seen:
    """The ids a person selected on a page, each with the version it showed (None: not said)."""

    ids: list[int]
    versions: dict[int, int] = field(default_factory=dict)

    def narrow(self, queryset):
        """`queryset` limited to the selected rows still as they were seen."""
        queryset = queryset.filter(pk__in=self.ids)
        return queryset.filter(as_seen(self.versions)) if self.versions else queryset

    def changed_since(self, model) -> list[int]:
        """The selected ids whose record has moved on (a newer version, or gone to the bin)."""
        if not self.versions:
            return []
        unchanged = set(model.objects.filter(as_seen(self.versions)).values_list("pk", flat=True))
        return sorted(pk for pk in self.versions if pk not in unchanged)


def selection(ids, seen_values) -> Seen:
    """The selected `ids` with the versions a page showed for them (`seen_values`: "id@version",
    comma-separated or repeated); ValueError for anything else."""
    shown = parse_seen(part for value in seen_values for part in str(value).split(",") if part.strip())
    return Seen(list(ids), {pk: version for pk, version in shown.versions.items() if pk in set(ids)})


def changed_since_message(count: int) -> str:
    return ngettext(
        "%(count)s selected record changed since you loaded the page and was left alone.",
        "%(count)s selected records changed since you loaded the page and were left alone.",
        count,
    ) % {"count": count}


def parse_seen(values) -> Seen:
    """["12@3", "14", ...] (id, or id@version) -> Seen; ValueError for anything else."""
    ids, versions = [], {}
    for value in values:
        pk, sep, version = str(value).strip().partition("@")
        if not pk.isascii() or not pk.isdigit() or len(pk) > 18:
            raise ValueError(value)
        ids.append(int(pk))
        if sep:
            if not version.isascii() or not version.isdigit() or len(version) > 9:
                raise ValueError(value)
            versions[int(pk)] = int(version)
    return Seen(list(dict.fromkeys(ids)), versions)
