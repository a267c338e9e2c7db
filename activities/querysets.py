"""Who sees which tasks (see crm.tenancy.querysets)."""

from django.db.models import Q

from crm.records.models import SoftDeleteQuerySet
from crm.tenancy.roles import Role


def mine(user) -> Q:
    return Q(assignee=user) | Q(created_by=user)


class TaskQuerySet(SoftDeleteQuerySet):
    def restrict(self, membership, action):
        user = membership.user
        if action == "restore" and membership.role in (Role.REP, Role.SUPPORT):
            return self.filter(deleted_by=user)  # as with customers: their own deletions
        if membership.role == Role.REP:
            return self.filter(mine(user) | self.on_visible_records(user))
        if membership.role == Role.SUPPORT:
            # Support does not see the pipeline, and changes the tasks that are theirs.
            if action == "view":
                return self.filter(opportunity__isnull=True)
            return self.filter(mine(user))
        return self

    def on_visible_records(self, user) -> Q:
        """Tasks on a customer (or a contact, deal or ticket of one) that the rep can see."""
        from customers.models import Contact, Customer, Ticket
        from sales.models import Opportunity

        customers = Customer.all_objects.owned_or_shared(user).values("pk")
        return (
            Q(customer__in=customers)
            | Q(contact__in=Contact.all_objects.filter(customer__in=customers).values("pk"))
            | Q(opportunity__in=Opportunity.all_objects.filter(customer__in=customers).values("pk"))
            | Q(ticket__in=Ticket.all_objects.filter(customer__in=customers).values("pk"))
        )

    def open(self):
        return self.filter(done=False)
