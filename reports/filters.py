"""The filters every report takes (period, owner, currency), for the pages and the API alike."""

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.web.forms import BootstrapFormMixin, DateInput, member_field
from sales.models import CURRENCY_VALIDATOR

# Weekly and monthly series are one row per bucket: a bound on the period bounds the rows.
MAX_PERIOD_DAYS = 366 * 5


@dataclass(frozen=True)
class Filters:
    """A report's period [start, end] (dates, both included), owner (a member or None) and currency."""

    start: date
    end: date
    owner: object = None
    currency: str = ""

    def used(self) -> dict:
        """Ids, dates and codes only: what the audit event and the CSV header say was asked for."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "owner": getattr(self.owner, "pk", None),
            "currency": self.currency,
        }


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def default_period(forward: bool) -> tuple[date, date]:
    """Looking back: the last twelve months up to today. Forward (the forecast): this month and the next five."""
    today = timezone.localdate()
    if forward:
        return add_months(today, 0), add_months(today, 6) - timedelta(days=1)
    return add_months(today, -11), today


class ReportFilterForm(BootstrapFormMixin, forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3, help_text=_("e.g. CNY"))

    def __init__(self, *args, forward: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request: the choices are the active company's members.
        self.fields["owner"] = member_field(label=_("Owner"), empty_label=_("Everyone"))
        self.order_fields(["start", "end", "owner", "currency"])
        self.forward = forward

    def clean_currency(self):
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        if currency:
            CURRENCY_VALIDATOR(currency)
        return currency

    def clean(self):
        cleaned = super().clean()
        start, end = default_period(self.forward)
        cleaned["start"] = cleaned.get("start") or start
        cleaned["end"] = cleaned.get("end") or end
        if cleaned["start"] > cleaned["end"]:
            raise ValidationError({"end": _("The period ends before it starts.")})
        if (cleaned["end"] - cleaned["start"]).days > MAX_PERIOD_DAYS:
            raise ValidationError({"end": _("A report covers at most five years.")})
        return cleaned

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(start=data["start"], end=data["end"], owner=data.get("owner"), currency=data.get("currency", ""))
