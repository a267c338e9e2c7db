"""From a cell's text to a field's value, with a message for people when it does not fit.

Values are kept JSON-ready between the preview and the write (ImportRow.values);
`typed()` turns them back into what the model field holds.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.tenancy.models import Membership
from customers.duplicates import name_key  # the one normalisation of duplicate keys

TAG_SEPARATORS = re.compile(r"[,;，；、]")


class RowError(Exception):
    """This row cannot be imported: str() is the reason."""


def _choice_table(field) -> dict[str, str]:
    table = {}
    for value, label in field.choices:
        table[str(value).lower()] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                table[str(label).lower()] = value
    return table


class Converter:
    """Converts the cells of one record type's rows; owners are the company's members."""

    def __init__(self, model):
        self.model = model
        self.choices = {
            field.name: _choice_table(field)
            for field in model._meta.concrete_fields
            if field.choices and not field.is_relation
        }
        self._members = None

    def members(self) -> dict[str, int]:
        """Lower-case username, email and full name -> user id, of the active company's members."""
        if self._members is None:
            from crm.tenancy.context import current_tenant

            users = get_user_model().objects.filter(
                pk__in=Membership.objects.filter(tenant=current_tenant()).values("user_id")
            )
            table: dict[str, int] = {}
            for user in users.only("pk", "username", "email", "first_name", "last_name"):
                for key in (user.get_full_name(), user.email, user.username):  # the username wins
                    if key:
                        table[key.strip().lower()] = user.pk
            self._members = table
        return self._members

    def convert(self, name: str, text: str):
        """The JSON-ready value of field `name` for `text` (RowError when it does not fit)."""
        field = self.model._meta.get_field(name)
        label = field.verbose_name  # lazy: translated only for a message
        if field.is_relation and field.related_model is get_user_model():
            user_id = self.members().get(text.strip().lower())
            if user_id is None:
                raise RowError(
                    _("Unknown %(field)s “%(value)s”: no member has that username, email or name.")
                    % {"field": label, "value": text[:100]}
                )
            return user_id
        if isinstance(field, ArrayField):
            tags = [tag.strip() for tag in TAG_SEPARATORS.split(text) if tag.strip()]
            if any(len(tag) > 50 for tag in tags):
                raise RowError(_("A tag has at most 50 characters."))
            return sorted(set(tags), key=tags.index)
        if name in self.choices:
            value = self.choices[name].get(text.strip().lower())
            if value is None:
                raise RowError(_("“%(value)s” is not a valid %(field)s.") % {"value": text[:100], "field": label})
            return value
        if isinstance(field, models.DecimalField):
            text = text.replace(",", "").replace("¥", "").replace("￥", "").strip()
        if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
            text = text.replace("/", "-").replace(".", "-")[:10]
        try:
            value = field.clean(text, None)
        except ValidationError as error:
            raise RowError(f"{label}: {' '.join(error.messages)}") from None
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            return (value if timezone.is_aware(value) else timezone.make_aware(value)).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return value

    def typed(self, values: dict) -> dict:
        """ImportRow.values -> keyword arguments for the model (foreign keys as *_id)."""
        out = {}
        for name, value in values.items():
            field = self.model._meta.get_field(name)
            out[field.attname] = value if field.is_relation or isinstance(field, ArrayField) else field.to_python(value)
        return out


class CustomerFinder:
    """Finds the customer a contact or an opportunity names: by id, email or name, among those
    the importing user can see. One query per chunk of rows."""

    def __init__(self, visible):
        self.visible = visible

    def resolve(self, texts: set[str]) -> dict[str, int | str]:
        """{text: customer id, or a reason why none}."""
        ids = {text: int(text.lstrip("#")) for text in texts if text.lstrip("#").isdigit()}
        emails = {text.lower() for text in texts if "@" in text}
        names = {name_key(text) for text in texts}
        by_id = set(self.visible.filter(pk__in=ids.values()).values_list("pk", flat=True))
        by_email = dict(self.visible.annotate(key=Lower("email")).filter(key__in=emails).values_list("key", "pk"))
        by_name: dict[str, list[int]] = {}
        for key, pk in self.visible.annotate(key=Upper("name")).filter(key__in=names).values_list("key", "pk"):
            by_name.setdefault(key, []).append(pk)
        found = {}
        for text in texts:
            if text in ids and ids[text] in by_id:
                found[text] = ids[text]
            elif text.lower() in by_email:
                found[text] = by_email[text.lower()]
            elif len(by_name.get(name_key(text), [])) == 1:
                found[text] = by_name[name_key(text)][0]
            elif by_name.get(name_key(text)):
                found[text] = _("Several customers are named “%(name)s”: give its id or email.") % {"name": text[:100]}
            else:
                found[text] = _("Unknown customer “%(name)s”.") % {"name": text[:100]}
        return found
