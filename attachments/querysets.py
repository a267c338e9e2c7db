"""Who sees and touches which files: the rules of the record each one is on."""

from django.db.models import Q

from crm.tenancy.roles import Role
from customers.querysets import CustomerChildQuerySet


class AttachmentQuerySet(CustomerChildQuerySet):
    """Reps: files of their customers (CustomerChildQuerySet). Support sees the pipeline's files
    nowhere (it does not see opportunities) and adds, deletes and restores only files on tickets."""

    def restrict(self, membership, action):
        if membership.role == Role.SUPPORT:
            if action == "view":
                return self.filter(opportunity__isnull=True)
            return self.filter(ticket__isnull=False)
        return super().restrict(membership, action)

    def on(self, record):
        """The files on `record` itself (a customer's own, not its contacts' or tickets')."""
        from attachments.models import RECORD_FIELDS

        name = record._meta.model_name
        others = {f"{field}__isnull": True for field in RECORD_FIELDS if field not in (name, "customer")}
        return self.filter(Q(**{name: record}), **others)
