"""Object-level rules of the customer records (see crm.tenancy.querysets)."""

from django.db import models

from crm.permissions import Role
from crm.tenancy.querysets import TenantManager, TenantQuerySet


class CustomerQuerySet(TenantQuerySet):
    def restrict(self, membership, action):
        if membership.role == Role.REP:
            return self.owned_or_shared(membership.user)
        return self

    def owned_or_shared(self, user):
        from customers.models import CustomerShare

        shared = CustomerShare.unscoped.filter(user=user).values("customer_id")
        return self.filter(models.Q(owner=user) | models.Q(pk__in=shared))


class CustomerChildQuerySet(TenantQuerySet):
    """Contacts, interactions, opportunities, tickets: a rep reaches them through their customers."""

    def restrict(self, membership, action):
        if membership.role == Role.REP:
            from customers.models import Customer

            return self.filter(customer__in=Customer.unscoped.owned_or_shared(membership.user).values("pk"))
        return self


class TicketQuerySet(CustomerChildQuerySet):
    def restrict(self, membership, action):
        if membership.role == Role.SUPPORT and action in ("delete", "restore"):
            return self.filter(assignee=membership.user)
        return super().restrict(membership, action)

    def open(self):
        from customers.models import Ticket

        return self.filter(status__in=Ticket.OPEN_STATUSES)


CustomerManager = TenantManager.from_queryset(CustomerQuerySet)
CustomerChildManager = TenantManager.from_queryset(CustomerChildQuerySet)
TicketManager = TenantManager.from_queryset(TicketQuerySet)
