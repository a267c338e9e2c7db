"""Small builders for test data; every record is created through the actions."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from activities import actions as activity_actions
from crm.records.registry import record_models
from crm.tenancy.actions import add_member
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant
from customers import actions as customer_actions
from customers import conversation_actions
from sales import actions as sales_actions

PASSWORD = "correct-horse-battery"
_sequence = itertools.count(1)


def make_tenant(slug=None, **values) -> Tenant:
    slug = slug or f"tenant-{next(_sequence)}"
    return Tenant.objects.create(slug=slug, name=values.pop("name", slug.title()), **values)


def make_member(tenant, username=None, role="admin"):
    username = username or f"user{next(_sequence)}"
    return add_member(tenant, username, role=role, password=PASSWORD, acting_user=None).user


def make_user(username=None):
    return get_user_model().objects.create_user(username or f"loner{next(_sequence)}", password=PASSWORD)


class RecordMaker:
    """Creates records in one tenant (activating it), e.g. maker.customer(name="X")."""

    def __init__(self, tenant, actor=None):
        self.tenant = tenant
        self.actor = actor

    def _run(self, function, *args, acting_user=None, **values):
        """Run an action in this tenant, by `acting_user` (default: the maker's actor)."""
        actor = acting_user or self.actor
        with activate(self.tenant, user=actor, process="tests"):
            return function(*args, acting_user=actor, **values)

    def customer(self, **values):
        n = next(_sequence)
        values.setdefault("name", f"Customer {n}")
        values.setdefault("email", f"customer{n}@example.com")
        values.setdefault("owner", self.actor)
        return self._run(customer_actions.create_customer, **values)

    def contact(self, customer=None, **values):
        values.setdefault("name", f"Contact {next(_sequence)}")
        return self._run(customer_actions.create_contact, customer or self.customer(), **values)

    def interaction(self, customer=None, **values):
        values.setdefault("summary", "Talked about the renewal.")
        values.setdefault("kind", "call")
        author = values.pop("author", None)  # the author is whoever logs it
        return self._run(customer_actions.log_interaction, customer or self.customer(), acting_user=author, **values)

    def ticket(self, customer=None, **values):
        values.setdefault("subject", f"Ticket {next(_sequence)}")
        values.setdefault("due_at", timezone.now() + timedelta(days=1))
        return self._run(customer_actions.create_ticket, customer or self.customer(), **values)

    def ticketmessage(self, ticket=None, **values):
        """A message on `ticket` (default: a new ticket), written by the maker's actor (or `author`)."""
        values.setdefault("kind", "reply")
        values.setdefault("body", f"Message {next(_sequence)}")
        author = values.pop("author", None)  # the author is whoever writes it
        return self._run(conversation_actions.add_ticket_message, ticket or self.ticket(), acting_user=author, **values)

    def opportunity(self, customer=None, **values):
        values.setdefault("name", f"Deal {next(_sequence)}")
        values.setdefault("amount", Decimal("1000.00"))
        values.setdefault("owner", self.actor)
        if values.get("stage") == "lost" and not values.get("lost_reason_choice"):
            values.setdefault("lost_reason", "Chose a competitor")  # a lost deal needs a reason
        return self._run(sales_actions.create_opportunity, customer or self.customer(), **values)

    def task(self, **values):
        """A task on a new customer unless a parent (or customer=None: none) is given."""
        values.setdefault("title", f"Task {next(_sequence)}")
        if not any(name in values for name in ("customer", "contact", "opportunity", "ticket")):
            values["customer"] = self.customer()
        values.setdefault("due_at", timezone.now() + timedelta(days=1))
        return self._run(activity_actions.create_task, **values)

    def attachment(self, record=None, name="notes.txt", content=b"Meeting notes.\n"):
        """A file on `record` (default: a new customer), uploaded as the maker's actor."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from attachments.actions import attach_files

        files = [SimpleUploadedFile(name, content)]
        return self._run(attach_files, record or self.customer(), files)[0]

    def endpoint(self, **values):
        """A webhook (generic JSON) to a local receiver that need not exist."""
        from webhooks.actions import create_endpoint

        values.setdefault("name", f"Webhook {next(_sequence)}")
        values.setdefault("url", "http://127.0.0.1:9/hook")
        values.setdefault("events", ["customer.created"])
        with override_settings(WEBHOOKS_ALLOW_PRIVATE=True):
            return self._run(create_endpoint, **values)[0]

    def savedview(self, **values):
        """A saved view of the customer list, private unless shared=True."""
        from crm.savedviews.actions import save_view

        values.setdefault("name", f"View {next(_sequence)}")
        values.setdefault("query", "status=active&sort=name")
        return self._run(save_view, values.pop("list_name", "customers:list"), **values)

    def any(self, model_name, **values):
        return getattr(self, model_name)(**values)


# Every registered record type, parents first: the generic tests cover each new type by themselves.
RECORD_TYPES = list(record_models())
