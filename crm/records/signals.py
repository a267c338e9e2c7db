"""Signals the kernel sends for the apps that serve it."""

from django.dispatch import Signal

# Sent after a company or customer restore from a backup has committed.
# Arguments: tenant, customer_id (None for a whole-company restore), run (the RestoreRun).
# Receivers re-apply what must survive any restore (the erasure ledger, for one).
restored_from_backup = Signal()
