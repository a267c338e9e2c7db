"""Inserting many records of one model in one statement from one JSON parameter.

Hand-written because Django's bulk_create() prepares every value of every row in Python
(its SQL compiler), which took most of an import's time; here PostgreSQL converts the
values (jsonb_to_recordset, typed by each field's own column type). The ids are taken from
the table's sequence first, so each record's id is known without relying on RETURNING order.
Every column gets the model field's default when the row does not give it, as Model() would.
"""

from __future__ import annotations

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

_DJANGO_DEFAULT = DjangoJSONEncoder().default


def json_text(data) -> str:
    """`data` as JSON text for a jsonb parameter: orjson (C) writes dates, times and UUIDs itself,
    several times faster than the standard library; the rest (Decimal, durations, lazy text) as
    Django's encoder writes it. Date-times keep their microseconds."""
    return orjson.dumps(data, default=_DJANGO_DEFAULT).decode()


def insert_records(model, rows: list[dict]) -> list[int]:
    """Insert `rows` ({attname: value}) into `model`'s table; returns their new ids, in order."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    table = model._meta.db_table
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk.column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    now = timezone.now()
    defaults = {}
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = now
        else:
            defaults[field.attname] = field.get_default()
    data = [{**defaults, **row, pk.attname: pk_value} for pk_value, row in zip(ids, rows, strict=True)]
    columns = [pk, *fields]
    names = ", ".join(quote(field.column) for field in columns)
    typed = ", ".join(f"{quote(field.attname)} {field.db_type(connection)}" for field in columns)
    selected = ", ".join(f"v.{quote(field.attname)}" for field in columns)
    sql = f"INSERT INTO {quote(table)} ({names}) SELECT {selected} FROM jsonb_to_recordset(%s::jsonb) AS v({typed})"
    with connection.cursor() as cursor:
        cursor.execute(sql, [json_text(data)])
    return ids
