"""Signals the kernel sends for the apps that serve it."""

from django.dispatch import Signal

# Sent after a company or customer restore from a backup has committed.
# Arguments: tenant, customer_id (None for a whole-company restore), run (the RestoreRun).
# Receivers re-apply what must survive any restore (the erasure ledger, for one).
restored_from_backup = Signal()

# Sent inside the purge's transaction for each model whose rows it really deletes.
# Arguments: model, tenant_ids, ids. Receivers forget what they keep about those rows
# outside the rows themselves (a notification's label names its record, for one).
records_purged = Signal()
