"""Reading the recycle bin: its rows for one user, newest first, and the size of each deletion."""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import CharField, Count, F, Value
from django.db.models.functions import Left

from crm.records.registry import record_types
from crm.tenancy.context import current_tenant
from crm.web.pagination import COUNT_CAP

LABEL_LENGTH = 200


class BinEntries:
    """The recycle-bin rows a user may restore, newest first: a sliceable sequence for Paginator.

    A page is a UNION ALL of one SELECT per record type, each walking its
    (tenant, deleted_at) index and stopping after the rows the page needs: a
    single ORDER BY over the union would sort every deleted row first.
    Counting stops at COUNT_CAP per type. Each row has id, type, label,
    deleted_at, deleted_by_id and deletion_batch.
    """

    ORDER = ("-deleted_at", "-id")

    def __init__(self, parts):
        self.parts = parts

    def count(self) -> int:
        return sum(part.order_by()[: COUNT_CAP + 1].count() for part in self.parts)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.stop is None or key.step or not self.parts:
            return list(self)[key]
        start = key.start or 0
        if len(self.parts) == 1:
            return list(self.parts[0].order_by(*self.ORDER)[start : key.stop])
        # The ORM cannot order a union of sliced selects, so the outer SELECT is written here.
        selects, params = [], []
        for part in self.parts:
            try:
                sql, part_params = part.order_by(*self.ORDER)[: key.stop].query.sql_with_params()
            except EmptyResultSet:  # a filter no row can match
                continue
            selects.append(f"({sql})")
            params.extend(part_params)
        if not selects:
            return []
        sql = (
            f"SELECT * FROM ({' UNION ALL '.join(selects)}) AS bin "
            f"ORDER BY deleted_at DESC, id DESC LIMIT {int(key.stop - start)} OFFSET {int(start)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def __iter__(self):
        return iter(self.ordered()) if self.parts else iter(())

    def ordered(self):
        first, *rest = self.parts
        rows = first.union(*rest, all=True) if rest else first
        return rows.order_by(*self.ORDER)

    def rows(self, chunk_size: int):
        """Every entry, newest first, read through a server-side cursor (an export)."""
        return self.ordered().iterator(chunk_size=chunk_size) if self.parts else iter(())


def entries(user, *, types=None, deleted_by=None, since=None, until=None, search="", batch=None, record_id=None):
    """Every deleted record the user may restore, filtered, newest first (see BinEntries)."""
    parts = []
    for name, entry in record_types().items():
        model = entry.model
        if types and name not in types:
            continue
        rows = model.deleted.for_user(user, "restore")
        if deleted_by:
            rows = rows.filter(deleted_by=deleted_by)
        if since:
            rows = rows.filter(deleted_at__gte=since)
        if until:
            rows = rows.filter(deleted_at__lt=until)
        if batch:
            rows = rows.filter(deletion_batch=batch)
        if search:
            rows = rows.filter(**{f"{entry.label_field}__icontains": search})
        if record_id is not None:
            rows = rows.filter(pk=record_id)
        if rows.query.is_empty():  # a type the user may not restore
            continue
        parts.append(
            rows.annotate(
                type=Value(name, output_field=CharField()),
                label=Left(F(entry.label_field), LABEL_LENGTH),
            ).values("id", "type", "label", "deleted_at", "deleted_by_id", "deletion_batch")
        )
    return BinEntries(parts)


def batch_sizes(batch_ids) -> dict:
    """{batch id: number of records still in the bin from that deletion} (one query per type)."""
    sizes: dict = defaultdict(int)
    batch_ids = [batch for batch in batch_ids if batch]
    if not batch_ids:
        return sizes
    tenant = current_tenant()
    for entry in record_types().values():
        rows = (
            entry.model.all_objects.filter(tenant=tenant, deletion_batch__in=batch_ids)
            .values("deletion_batch")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            sizes[row["deletion_batch"]] += row["n"]
    return sizes
