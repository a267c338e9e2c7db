from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower, Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.history.tracing import TracedHistory
from crm.records.models import (
    ALIVE,
    PurgePermissionBase,
    SoftDeleteModel,
    alive_unique,
    managers_for,
    soft_delete_indexes,
    tenant_foreign_key,
)
from crm.tenancy.models import TenantModel
from customers.querysets import CustomerChildQuerySet, CustomerQuerySet, TicketQuerySet
from customers.search import DigitsContain, LowerTags, PhoneDigits, trigram_indexes

EMAIL_UNIQUE, EMAIL_UNIQUE_CHECK = alive_unique(
    "customer",
    Lower("email"),
    name="customer_tenant_email_ci_uniq",
    condition=~models.Q(email=""),
    message=_("Another customer already uses this email address."),
)


class Customer(SoftDeleteModel):
    # What a person enters, in the form's order; a merge chooses each one's value (customers.merging).
    ENTERED_FIELDS = (
        *("kind", "name", "email", "phone", "website", "industry"),
        *("tier", "status", "owner", "tags", "address", "notes"),
    )

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        PERSON = "person", _("Person")

    class Tier(models.TextChoices):
        A = "A", _("Tier A")
        B = "B", _("Tier B")
        C = "C", _("Tier C")

    class Status(models.TextChoices):
        LEAD = "lead", _("Lead")
        ACTIVE = "active", _("Active")
        CHURNED = "churned", _("Churned")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMPANY)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    website = models.URLField(_("website"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    address = models.TextField(_("address"), max_length=1000, blank=True)
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices, default=Tier.C)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.LEAD)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
        db_index=False,
    )
    tags = ArrayField(models.CharField(max_length=50), blank=True, default=list, verbose_name=_("tags"))
    notes = models.TextField(_("notes"), max_length=10000, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects, deleted, all_objects = managers_for(CustomerQuerySet)
    history = TracedHistory()
    alive_unique_checks = (EMAIL_UNIQUE_CHECK,)

    class Meta(SoftDeleteModel.Meta):
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        permissions = [("purge_customer", "Can permanently delete customer")]
        constraints = [EMAIL_UNIQUE]
        indexes = [
            *soft_delete_indexes("customer"),
            models.Index(
                fields=["tenant", "name", "id"],
                name="customer_tenant_name",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(fields=["tenant", "owner"], name="customer_tenant_owner"),
            # The public pool (pool/): alive customers without an owner, by name.
            models.Index(
                fields=["tenant", "name", "id"],
                name="customer_pool",
                condition=models.Q(owner__isnull=True, deleted_at__isnull=True),
            ),
            models.Index(fields=["tenant", "status", "tier"], name="customer_tenant_status_tier"),
            # The tag filter (any case): customers.search.tagged. btree_gin for the tenant.
            GinIndex(F("tenant"), LowerTags("tags"), name="customer_tenant_tags_ci", condition=ALIVE),
            # Search ("contains", any case: Django compares UPPER(column)) on name and email,
            # and the phone's digits (customers.search.DigitsContain): trigram indexes on
            # those expressions, tenant first, alive rows only.
            *(
                GinIndex(
                    F("tenant"),
                    OpClass(Upper(column), name="gin_trgm_ops"),
                    name=f"customer_{column}_trgm",
                    condition=ALIVE,
                )
                for column in ("name", "email")
            ),
            GinIndex(
                F("tenant"),
                OpClass(PhoneDigits("phone"), name="gin_trgm_ops"),
                name="customer_phone_digits_trgm",
                condition=ALIVE,
            ),
            # The duplicate check's equality probes (customers.duplicates); email: the unique index.
            models.Index(F("tenant"), PhoneDigits("phone"), name="customer_phone_key", condition=ALIVE),
            models.Index(F("tenant"), Upper("name"), name="customer_name_key", condition=ALIVE),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.pk])

    def validate_constraints(self, exclude=None):
        """As Django's, but the email rule's error belongs to the email field (a form's, the API's)."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            taken = str(EMAIL_UNIQUE.violation_error_message)
            errors.setdefault("email", []).extend(item for item in general if str(item.message) == taken)
            others = [item for item in general if str(item.message) != taken]
            if others:
                errors[NON_FIELD_ERRORS] = others
            raise ValidationError({name: items for name, items in errors.items() if items}) from error


class CustomerShare(TenantModel):
    """A customer shared with a user who does not own it (reps see shared customers)."""

    customer = tenant_foreign_key(Customer, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)

    history = TracedHistory()

    class Meta(TenantModel.Meta):
        verbose_name = _("customer share")
        verbose_name_plural = _("customer shares")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "customer", "user"], name="customershare_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "user"], name="customershare_tenant_user")]


class CustomerChild(SoftDeleteModel):
    """A record that hangs off a customer and lives in the customer's tenant."""

    customer = tenant_foreign_key(Customer, on_delete=models.PROTECT, verbose_name=_("customer"))

    objects, deleted, all_objects = managers_for(CustomerChildQuerySet)

    class Meta(SoftDeleteModel.Meta):
        abstract = True

    def clean(self):
        super().clean()
        if self.customer_id and self.tenant_id and self.customer.tenant_id != self.tenant_id:
            raise ValidationError({"customer": _("The customer belongs to another tenant.")})

    def save(self, *args, **kwargs):
        if self.tenant_id is None and self.customer_id:
            self.tenant_id = self.customer.tenant_id
        if self.customer.tenant_id != self.tenant_id:
            raise ValueError("A record and its customer must belong to the same tenant.")
        super().save(*args, **kwargs)


CONTACT_SEARCH_INDEXES = trigram_indexes("contact", ["name", "title", "email"], phones=["phone"])


class Contact(CustomerChild):
    ENTERED_FIELDS = ("name", "title", "email", "phone")  # besides its customer, as Customer's

    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = TracedHistory()

    class Meta(CustomerChild.Meta):
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        permissions = [("purge_contact", "Can permanently delete contact")]
        ordering = ["name", "id"]
        default_related_name = "contacts"
        indexes = [
            *soft_delete_indexes("contact"),
            models.Index(fields=["tenant", "customer", "name"], name="contact_tenant_customer"),
            *CONTACT_SEARCH_INDEXES,  # the contact list's (and global search's) `q`
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.customer_id]) + "#contacts"


class Interaction(CustomerChild):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("Email")
        MEETING = "meeting", _("Meeting")
        NOTE = "note", _("Note")

    contact = tenant_foreign_key(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        verbose_name=_("contact"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NOTE)
    summary = models.TextField(_("summary"), max_length=5000)
    occurred_at = models.DateTimeField(_("occurred at"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
        db_index=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = TracedHistory()

    class Meta(CustomerChild.Meta):
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        permissions = [("purge_interaction", "Can permanently delete interaction")]
        ordering = ["-occurred_at", "-id"]
        default_related_name = "interactions"
        indexes = [
            *soft_delete_indexes("interaction"),
            models.Index(fields=["tenant", "customer", "-occurred_at"], name="interaction_tenant_timeline"),
            models.Index(fields=["tenant", "-occurred_at"], name="interaction_tenant_recent"),
            models.Index(fields=["tenant", "contact"], name="interaction_tenant_contact"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.summary[:60]}"

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.customer_id]) + "#timeline"


# Open tickets whose overdue notice has not gone out: the overdue job's partial index holds only these.
PENDING_OVERDUE = models.Q(
    status__in=("new", "open", "pending"),
    deleted_at__isnull=True,
    due_at__isnull=False,
    overdue_notified_at__isnull=True,
)
# The same condition as SQL, for the job's claiming UPDATE (the planner matches it to the index).
PENDING_OVERDUE_SQL = (
    "status IN ('new', 'open', 'pending') AND deleted_at IS NULL AND due_at IS NOT NULL AND overdue_notified_at IS NULL"
)


class Ticket(CustomerChild):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)

    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=10000, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
        db_index=False,
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # SLA: the first reply to the customer (set by customers.conversation_actions.add_ticket_message).
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    # The overdue notice went out (the beat job claims each ticket once; a new due time re-arms it).
    overdue_notified_at = models.DateTimeField(_("overdue notice sent at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects, deleted, all_objects = managers_for(TicketQuerySet)
    history = TracedHistory()

    class Meta(CustomerChild.Meta):
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [("purge_ticket", "Can permanently delete ticket")]
        ordering = ["-created_at", "-id"]
        default_related_name = "tickets"
        indexes = [
            *soft_delete_indexes("ticket"),
            models.Index(fields=["tenant", "status", "due_at"], name="ticket_tenant_status_due"),
            models.Index(fields=["tenant", "assignee", "status"], name="ticket_tenant_assignee"),
            models.Index(fields=["tenant", "customer"], name="ticket_tenant_customer"),
            *trigram_indexes("ticket", ["subject"]),  # the ticket list's (and global search's) `q`
            models.Index(fields=["tenant", "due_at"], condition=PENDING_OVERDUE, name="ticket_overdue_pending"),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


# Purge needs a per-object permission (django-guardian, direct foreign keys:
# rows go with their object, and a reused id can never inherit a grant).
class CustomerPurgePermission(PurgePermissionBase):
    content_object = tenant_foreign_key(Customer, on_delete=models.CASCADE)

    class Meta(PurgePermissionBase.Meta):
        indexes = [models.Index(fields=["tenant", "content_object"], name="customerpurge_object")]


class ContactPurgePermission(PurgePermissionBase):
    content_object = tenant_foreign_key(Contact, on_delete=models.CASCADE)

    class Meta(PurgePermissionBase.Meta):
        indexes = [models.Index(fields=["tenant", "content_object"], name="contactpurge_object")]


class InteractionPurgePermission(PurgePermissionBase):
    content_object = tenant_foreign_key(Interaction, on_delete=models.CASCADE)

    class Meta(PurgePermissionBase.Meta):
        indexes = [models.Index(fields=["tenant", "content_object"], name="interactionpurge_object")]


class TicketPurgePermission(PurgePermissionBase):
    content_object = tenant_foreign_key(Ticket, on_delete=models.CASCADE)

    class Meta(PurgePermissionBase.Meta):
        indexes = [models.Index(fields=["tenant", "content_object"], name="ticketpurge_object")]


for _model in (Customer, Contact):
    _model._meta.get_field("phone").register_lookup(DigitsContain)


# A ticket's conversation (its own module: this one is long enough).
from customers.conversations import TicketMessage, TicketMessagePurgePermission  # noqa: E402, F401
from customers.merges import Merge  # noqa: E402, F401  (the merge ledger: a model of this app)
