"""Browser forms for customers, contacts, interactions and tickets.

Forms validate input; the views hand `cleaned_data` to `customers.actions`,
which do the writes. Choices of related records always come from the
restricting querysets, so a form can never point at a record the user may
not touch.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.follow_up import FollowUpFields
from crm.tenancy.context import current_tenant
from crm.web.forms import BootstrapFormMixin, DateTimeInput, MemberChoiceField, TagsField, member_field
from customers import duplicates
from customers.actions import parent_choices
from customers.models import Contact, Customer, Interaction, Ticket, TicketMessage


def customer_email_taken(email: str, *, exclude_pk=None) -> bool:
    """Whether another customer of the active tenant uses `email` (case-insensitive).

    Checked against the whole tenant, not just what the user sees: the
    constraint is per tenant.
    """
    return bool(email) and Customer.objects.filter(email__iexact=email).exclude(pk=exclude_pk).exists()


class DuplicateCheckMixin:
    """The check at entry (customers.duplicates), before saving: a match on a key the company
    blocks is an error on its field; matches on the other keys are listed, and saving needs the
    "save anyway" box (which appears with them) ticked. The action checks blocked keys again."""

    # A customer's email is unique in the company: clean_email and the constraint refuse it.
    kept_elsewhere: tuple[str, ...] = ()

    def add_duplicate_field(self):
        self.duplicate_matches = []
        self.fields["save_duplicate"] = forms.BooleanField(
            label=_("Save anyway: it is not a duplicate"), required=False, widget=forms.HiddenInput
        )

    def check_duplicates(self, cleaned, *, customer=None, record=None):
        confirmed = cleaned.pop("save_duplicate", False)
        if self.errors:
            return
        model = self._meta.model
        matches = duplicates.check(model, cleaned, user=self.user, record=record, customer=customer)
        self.duplicate_matches = [match for match in matches if match.kind not in self.kept_elsewhere]
        tenant = current_tenant()
        for field, messages in duplicates.blocked(self.duplicate_matches, tenant).items():
            for message in messages:
                self.add_error(field, message)
        policy = duplicates.policy(tenant)
        warned = [match for match in self.duplicate_matches if policy[match.kind] == "warn"]
        if warned and not confirmed and not self.errors:
            noun = model._meta.verbose_name
            self.add_error(
                None,
                [_("This %(type)s may already exist:") % {"type": noun}, *(match.describe() for match in warned)],
            )
            self.fields["save_duplicate"].widget = forms.CheckboxInput(attrs={"class": "form-check-input"})


class MemberFieldsMixin:
    """Adds MemberChoiceFields per form instance.

    MemberChoiceField reads the active tenant when it is built, so it cannot be
    declared on the class (built at import time, with no tenant). Listed
    before the Django form class and after BootstrapFormMixin, so the fields
    still get their Bootstrap classes.
    """

    member_fields: dict = {}  # field name -> label

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in self.member_fields.items():
            self.fields[name] = MemberChoiceField(label=label)


class CustomerForm(DuplicateCheckMixin, BootstrapFormMixin, MemberFieldsMixin, forms.ModelForm):
    member_fields = {"owner": _("owner")}
    website = forms.URLField(label=_("website"), max_length=300, required=False, assume_scheme="https")
    tags = TagsField(label=_("tags"), help_text=_("Separate tags with commas."))

    class Meta:
        model = Customer
        fields = list(Customer.ENTERED_FIELDS)
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    kept_elsewhere = ("email",)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk is None and user is not None:
            self.fields["owner"].initial = user.pk
        self.add_duplicate_field()

    def clean(self):
        cleaned = super().clean()
        self.check_duplicates(cleaned, record=self.instance if self.instance.pk else None)
        return cleaned

    def clean_tags(self):
        tags = self.cleaned_data.get("tags") or []
        for tag in tags:
            ProhibitNullCharactersValidator()(tag)
        return tags

    def clean_email(self):
        email = self.cleaned_data.get("email", "")
        if customer_email_taken(email, exclude_pk=self.instance.pk):
            raise ValidationError(_("Another customer already uses this email address."), code="unique")
        return email


class CustomerChildForm(BootstrapFormMixin, forms.ModelForm):
    """A contact or interaction: `customer` is fixed by the URL when creating, a choice when editing.

    Choice fields of tenant records are declared with an empty placeholder
    queryset (a model form would otherwise read the tenant-scoped default
    manager at import time) and get their restricted queryset per instance.
    """

    customer = forms.ModelChoiceField(label=_("customer"), queryset=Customer.all_objects.none())

    def __init__(self, *args, user, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fixed_customer = customer
        if customer is not None:
            del self.fields["customer"]
        else:
            self.fields["customer"].queryset = parent_choices(user)

    def chosen_customer(self):
        return self.fixed_customer or self.cleaned_data.get("customer") or self.instance_customer()

    def instance_customer(self):
        return self.instance.customer if self.instance.customer_id else None


class ContactForm(DuplicateCheckMixin, CustomerChildForm):
    class Meta:
        model = Contact
        fields = ["customer", *Contact.ENTERED_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_duplicate_field()

    def clean(self):
        cleaned = super().clean()
        customer = self.chosen_customer()
        moving = self.instance.pk and customer is not None and customer.pk != self.instance.customer_id
        record = self.instance if self.instance.pk and not moving else None
        self.check_duplicates(cleaned, customer=customer, record=record)
        return cleaned


class InteractionForm(FollowUpFields, CustomerChildForm):
    contact = forms.ModelChoiceField(label=_("contact"), queryset=Contact.all_objects.none(), required=False)

    class Meta:
        model = Interaction
        fields = ["customer", "kind", "occurred_at", "contact", "summary"]
        widgets = {"occurred_at": DateTimeInput(), "summary": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        customer = self.fixed_customer or self.instance_customer()
        contacts = Contact.objects.for_user(self.user).order_by("name", "id")
        if customer is not None:
            # This customer's contacts, plus the one already recorded (it may have moved since).
            current = self.instance.contact_id
            by_customer = contacts.filter(customer=customer)
            contacts = (by_customer | contacts.filter(pk=current)) if current else by_customer
        self.fields["contact"].queryset = contacts
        if self.instance.pk is None:
            # Logging usually happens right after the call: default to now, empty means now.
            self.fields["occurred_at"].required = False
            self.fields["occurred_at"].initial = timezone.now

    def clean(self):
        cleaned = super().clean()
        contact = cleaned.get("contact")
        customer = self.chosen_customer()
        if contact is not None and customer is not None and contact.customer_id != customer.pk:
            # A contact who has since moved to another customer may stay on this customer's old interaction.
            unchanged = contact.pk == self.instance.contact_id and customer.pk == self.instance.customer_id
            if not unchanged:
                self.add_error("contact", _("This contact belongs to another customer."))
        return cleaned


class IdListField(forms.Field):
    """Several `ids` values -> a list of distinct positive integers."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": _("Select records from the list."),
        "required": _("Select at least one record."),
    }
    max_ids = 1000

    def to_python(self, value):
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        try:
            ids = sorted({int(item) for item in value})
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(pk < 1 for pk in ids) or len(ids) > self.max_ids:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return ids


class CustomerBulkForm(MemberFieldsMixin, forms.Form):
    """The list's bulk-action bar: selected `ids`, an `action` and its argument."""

    ASSIGN_OWNER = "assign_owner"
    ADD_TAG = "add_tag"
    ACTIONS = [(ASSIGN_OWNER, _("Assign owner")), (ADD_TAG, _("Add tag"))]

    member_fields = {"owner": _("owner")}
    ids = IdListField()
    action = forms.ChoiceField(choices=ACTIONS)
    tag = forms.CharField(label=_("tag"), max_length=50, required=False, strip=True)

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action == self.ASSIGN_OWNER and not cleaned.get("owner"):
            self.add_error("owner", _("Choose the new owner."))
        if action == self.ADD_TAG and not cleaned.get("tag"):
            self.add_error("tag", _("Type the tag to add."))
        return cleaned


class TicketForm(BootstrapFormMixin, forms.ModelForm):
    # The choices are set per user in __init__ (the default would query without a tenant).
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.all_objects.none())

    class Meta:
        model = Ticket
        fields = ["customer", "subject", "description", "status", "priority", "assignee", "due_at"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "due_at": DateTimeInput(),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request: the choices are the active tenant's members.
        self.fields["assignee"] = member_field(label=_("Assignee"), empty_label=_("Unassigned"))
        customer = self.fields["customer"]
        customer.queryset = parent_choices(user)
        customer.empty_label = _("Choose a customer")
        self.fields["subject"].widget.attrs.setdefault("autofocus", True)

    def action_values(self, *, only_changed: bool) -> dict:
        names = self.changed_data if only_changed else list(self.cleaned_data)
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class TicketVersionMixin(forms.Form):
    """The ticket page's small forms carry the version the page showed: a ticket changed
    since is left alone (crm.records.versions), never silently overwritten."""

    version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)


class TicketStatusForm(BootstrapFormMixin, TicketVersionMixin):
    status = forms.ChoiceField(label=_("Status"), choices=Ticket.Status.choices)


class TicketMessageForm(BootstrapFormMixin, forms.Form):
    """A reply, an internal note or a customer's reply logged by the agent (the thread's form)."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=TicketMessage.Kind.choices, initial=TicketMessage.Kind.REPLY, widget=forms.RadioSelect
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TicketAssignForm(BootstrapFormMixin, TicketVersionMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = member_field(label=_("Assignee"), empty_label=_("Unassigned"))
