"""Object-level rules of the customer records (see crm.tenancy.querysets)."""

from django.db import models

from crm.records.models import SoftDeleteQuerySet
from crm.tenancy.roles import Role


class CustomerQuerySet(SoftDeleteQuerySet):
    def restrict(self, membership, action):
        if membership.role == Role.REP:
            if action == "restore":  # reps restore what they deleted themselves
                return self.filter(deleted_by=membership.user)
            return self.owned_or_shared(membership.user)
        return self

    def owned_or_shared(self, user):
        from customers.models import CustomerShare

        shared = CustomerShare.all_objects.filter(user=user).values("customer_id")
        return self.filter(models.Q(owner=user) | models.Q(pk__in=shared))


class CustomerChildQuerySet(SoftDeleteQuerySet):
    """Contacts, interactions, opportunities, tickets: a rep reaches them through their customers."""

    def restrict(self, membership, action):
        if membership.role == Role.REP:
            if action == "restore":
                return self.filter(deleted_by=membership.user)
            from customers.models import Customer

            return self.filter(customer__in=Customer.all_objects.owned_or_shared(membership.user).values("pk"))
        return self


class TicketQuerySet(CustomerChildQuerySet):
    def restrict(self, membership, action):
        if membership.role == Role.SUPPORT and action in ("delete", "restore"):
            return self.filter(models.Q(assignee=membership.user) | models.Q(deleted_by=membership.user))
        return super().restrict(membership, action)

    def open(self):
        from customers.models import Ticket

        return self.filter(status__in=Ticket.OPEN_STATUSES)


class TicketMessageQuerySet(SoftDeleteQuerySet):
    """A ticket's messages: whoever sees the ticket reads them; reps and support change their own."""

    def restrict(self, membership, action):
        from customers.models import Ticket

        if action == "restore" and membership.role in (Role.REP, Role.SUPPORT):
            return self.filter(deleted_by=membership.user)
        visible = self.filter(ticket__in=Ticket.all_objects.restrict(membership, "view").values("pk"))
        if action != "view" and membership.role in (Role.REP, Role.SUPPORT):
            return visible.filter(author=membership.user)
        return visible
