"""What the privacy app does when the kernel says a restore has committed."""

from crm.tenancy.context import activate
from privacy import actions


def apply_ledger_after_restore(sender, tenant, customer_id=None, run=None, **kwargs):
    """A restore (of the company or of one customer) may bring back erased records: erase them again.

    The whole company's ledger is applied, whatever the restore covered: it is small, and a
    customer restore can bring back a contact that was erased on its own."""
    with activate(tenant, process="privacy:apply_ledger", reason="erased"):
        actions.apply_ledger(tenant, run_id=getattr(run, "pk", None), acting_user=None)
