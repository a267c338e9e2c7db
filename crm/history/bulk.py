"""History rows for set-based writes (soft delete, restore, purge, bulk edits).

One INSERT ... SELECT per model: simple-history's bulk helpers need every
object loaded in Python, which is far too slow for 10,000-row batches.
"""

from __future__ import annotations

from django.db import connection, models
from django.utils import timezone

from crm.history.tracing import DEFAULT_REASONS
from crm.tenancy.context import get_context


def write_bulk_history(model, rows, history_type: str, reason: str, *, cleared=(), bumped=False) -> int:
    """One history row per row of `rows` (a queryset or a list of ids), in one INSERT ... SELECT.

    `cleared`: columns written as NULL in the history row (a restore records the
    rows as they are after it, before the UPDATE that clears them runs).
    """
    if not hasattr(model, "history") or (isinstance(rows, list | tuple | set) and not rows):
        return 0
    history_model = model.history.model
    # A field the history leaves out (simple-history's excluded_fields, such as a secret) is not copied.
    kept = {field.attname for field in history_model._meta.concrete_fields}
    tracked = [field.attname for field in model._meta.concrete_fields if field.attname in kept]
    quote = connection.ops.quote_name
    context = get_context()
    columns = [
        *tracked,
        "history_date",
        "history_type",
        "history_user_id",
        "history_change_reason",
        "request_id",
        "ip_address",
        "process",
    ]
    selected = ", ".join(
        "NULL" if name in cleared else f"{quote(name)} + 1" if bumped and name == "version" else quote(name)
        for name in tracked
    )
    if isinstance(rows, models.QuerySet):
        where_sql, where_params = rows.values("pk").query.sql_with_params()
        where = f"{quote(model._meta.pk.column)} IN ({where_sql})"
    else:
        where, where_params = f"{quote(model._meta.pk.column)} = ANY(%s)", [list(rows)]
    sql = (
        f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"SELECT {selected}, %s, %s, %s, %s, %s, %s, %s FROM {quote(model._meta.db_table)} WHERE {where}"
    )
    params = [
        timezone.now(),
        history_type,
        getattr(context.user, "pk", None),
        (reason or DEFAULT_REASONS[history_type])[:100],
        context.request_id,
        context.ip,
        context.process,
        *where_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
