"""The customers a backup holds, found by name, for "Restore a customer".

The names are read from the backup itself, when asked: a scratch database receives the
customers table alone (`pg_restore --table` with the pre-data and data sections only: no
other table, no index, no constraint, so it takes a fraction of the whole restore), the
company's rows are read, and the database is dropped (by a thread: the search does not wait
for it). Nothing about customers is written
next to the dump at backup time: a manifest is plain JSON beside it and would keep names in
clear while the dump is encrypted, and keep an erased person findable for as long as the
backup lives.

So that searching as one types does not restore again, the company's rows are cached for
CACHE_SECONDS in Django's cache (shared by every web process), encrypted with a key derived
from SECRET_KEY, so the cache's own snapshots hold no names in clear. The erasure ledger is
applied at every read: a person erased meanwhile is never found, nor named.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from backups import postgres, storage
from backups.models import Backup
from backups.postgres import BackupError
from crm.records.registry import record_models
from crm.tenancy.acting import ActionConflict
from privacy.models import Erasure

CACHE_SECONDS = 10 * 60
MATCHES = 25  # shown at most; a longer list asks for a narrower search
RECORD_TYPE = "customer"


@dataclass(frozen=True)
class BackupCustomer:
    id: int
    name: str
    deleted: bool  # in the recycle bin when the backup was taken


def customers(backup: Backup, tenant) -> list[BackupCustomer]:
    """The company's customers in `backup` (in the bin then or not), by name; never an erased one.

    ActionConflict "backup_not_restorable" when the backup cannot be read (then marked bad).
    """
    erased = erased_ids(tenant)
    return [customer for customer in _rows(backup, tenant) if customer.id not in erased]


def search(backup: Backup, tenant, query: str) -> tuple[list[BackupCustomer], int]:
    """(the first MATCHES customers whose name contains `query`, ignoring case, or whose id it is; how many match)."""
    needle = query.strip().lstrip("#").casefold()
    found = [
        customer
        for customer in customers(backup, tenant)
        if needle in customer.name.casefold() or (needle.isdigit() and needle == str(customer.id))
    ]
    return found[:MATCHES], len(found)


def find(backup: Backup, tenant, customer_id: int) -> BackupCustomer | None:
    return next((customer for customer in customers(backup, tenant) if customer.id == customer_id), None)


def cached_names(backup: Backup, tenant, ids) -> dict[int, str]:
    """{id: name} of these customers from a listing already cached (restores nothing; erased left out)."""
    cached = _cached(_key(backup.pk, backup.sha256, tenant.pk))
    if not cached:
        return {}
    wanted = set(ids) - erased_ids(tenant)
    return {customer.id: customer.name for customer in cached if customer.id in wanted}


def erased_ids(tenant) -> set[int]:
    return set(Erasure.all_objects.filter(tenant=tenant, record_type=RECORD_TYPE).values_list("record_id", flat=True))


# -- reading the backup, and the cache ----------------------------------------------------


def _rows(backup: Backup, tenant) -> list[BackupCustomer]:
    key = _key(backup.pk, backup.sha256, tenant.pk)
    rows = _cached(key)
    if rows is None:
        rows = _read(backup, tenant)
        cache.set(key, _fernet().encrypt(json.dumps([[c.id, c.name, c.deleted] for c in rows]).encode()), CACHE_SECONDS)
    return rows


def _read(backup: Backup, tenant) -> list[BackupCustomer]:
    table = record_models()[RECORD_TYPE]._meta.db_table
    try:
        with (
            storage.readable(backup) as dump,
            postgres.scratch_database(dump, "crm_restore", tables=[table], drop_in_background=True) as scratch,
        ):
            connection = postgres.connect(scratch)
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT id, name, deleted_at IS NOT NULL FROM {table} "
                        "WHERE tenant_id = %s ORDER BY lower(name), id",
                        [tenant.pk],
                    )
                    return [BackupCustomer(*row) for row in cursor.fetchall()]
            finally:
                connection.close()
    except BackupError as error:
        raise ActionConflict(
            _("Backup #%(id)s could not be read: %(reason)s") % {"id": backup.pk, "reason": error},
            "backup_not_restorable",
        ) from None


def _key(backup_id: int, sha256: str, tenant_id: int) -> str:
    return f"backups:customers:{backup_id}:{sha256}:{tenant_id}"


def _cached(key: str) -> list[BackupCustomer] | None:
    token = cache.get(key)
    if token is None:
        return None
    try:
        return [BackupCustomer(*row) for row in json.loads(_fernet().decrypt(token))]
    except InvalidToken:  # SECRET_KEY changed meanwhile: read the backup again
        return None


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(salted_hmac("backups.listing", "cache key", algorithm="sha256").digest()))
