"""The duplicates page: groups of likely duplicates across the company.

Two records are likely duplicates when they share an email (any case) or a phone's digits,
or when their names are similar (pg_trgm: `upper(a.name) % upper(b.name)`, the trigram index
customer_name_trgm answers it). Contacts pair within their customer only. A person sees the
groups among the records they may see. Pairs are joined into groups (union-find); each query
is capped, so the page stays bounded on a company of any size.
"""

from __future__ import annotations

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import Length

from customers import duplicates

SIMILARITY = 0.5  # pg_trgm similarity of the names, 0 to 1
PAIRS_CAP = 2000  # pairs read per kind of key
GROUPS_SHOWN = 50

SIMILAR_NAMES = """
SELECT a.id, b.id
FROM {table} a
JOIN {table} b
  ON b.tenant_id = a.tenant_id AND upper(b.name) %% upper(a.name) AND b.id > a.id
     AND b.deleted_at IS NULL {same_parent}
WHERE a.tenant_id = %s AND a.deleted_at IS NULL AND a.id IN ({visible}) AND b.id IN ({visible})
ORDER BY a.id, b.id
LIMIT %s
"""


def _exact_pairs(queryset, kind: str, scope_field: str | None) -> list[tuple[int, int]]:
    column = kind
    rows = queryset.exclude(**{column: ""}).annotate(key=duplicates.expression(kind))
    if kind == "phone":
        rows = rows.annotate(key_length=Length("key")).filter(key_length__gte=duplicates.MIN_PHONE_DIGITS)
    keys = ["key", scope_field] if scope_field else ["key"]
    grouped = rows.order_by().values(*keys).annotate(n=Count("pk"), ids=ArrayAgg("pk")).filter(n__gt=1)
    pairs = []
    for group in grouped.order_by("key")[:PAIRS_CAP]:
        ids = sorted(group["ids"])
        pairs += [(ids[0], other) for other in ids[1:]]
    return pairs


def _similar_names(queryset, scope_field: str | None, tenant_id: int) -> list[tuple[int, int]]:
    model = queryset.model
    visible_sql, visible_params = queryset.order_by().values("pk").query.sql_with_params()
    same_parent = f"AND b.{scope_field} = a.{scope_field}" if scope_field else ""
    sql = SIMILAR_NAMES.format(
        table=connection.ops.quote_name(model._meta.db_table), same_parent=same_parent, visible=visible_sql
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(SIMILARITY)])
        cursor.execute(sql, [tenant_id, *visible_params, *visible_params, PAIRS_CAP])
        return [tuple(row) for row in cursor.fetchall()]


def find_groups(queryset, *, tenant_id: int) -> list[dict]:
    """[{"records": [...], "kinds": {"email", ...}}]: groups of `queryset`'s rows, largest first."""
    scope_field = "customer_id" if queryset.model._meta.model_name == "contact" else None
    parent: dict[int, int] = {}

    def root(pk):
        while parent.setdefault(pk, pk) != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    kinds_of: dict[tuple[int, int], set] = {}
    for kind in ("email", "phone"):
        for a, b in _exact_pairs(queryset, kind, scope_field):
            kinds_of.setdefault((a, b), set()).add(kind)
    for a, b in _similar_names(queryset, scope_field, tenant_id):
        kinds_of.setdefault((a, b), set()).add("name")
    for a, b in kinds_of:
        parent[root(a)] = root(b)
    members: dict[int, list[int]] = {}
    for pk in parent:
        members.setdefault(root(pk), []).append(pk)
    groups = sorted((sorted(ids) for ids in members.values()), key=lambda ids: (-len(ids), ids[0]))[:GROUPS_SHOWN]
    shown = {pk for ids in groups for pk in ids}
    related = "customer" if scope_field else "owner"
    records = queryset.model.objects.filter(pk__in=shown).select_related(related).in_bulk()
    result = []
    for ids in groups:
        kinds = set().union(*(found for pair, found in kinds_of.items() if pair[0] in ids))
        result.append(
            {
                "records": [records[pk] for pk in ids if pk in records],
                "kinds": [duplicates.KIND_LABELS[kind] for kind in duplicates.KINDS if kind in kinds],
                "ids": ids,
            }
        )
    return result
