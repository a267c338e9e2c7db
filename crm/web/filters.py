"""FilterSet base: Bootstrap widgets, and choices of people limited to the tenant's members."""

import django_filters
import django_filters.fields

from crm.tenancy.members import tenant_members


class MemberChoices(django_filters.fields.ModelChoiceIterator):
    """The company's members as choices, read with one plain query.

    Django's iterator reads a queryset through QuerySet.iterator(): on PostgreSQL a
    server-side cursor, which outside a transaction is DECLARE ... WITH HOLD, FETCH and
    CLOSE, three round trips and a materialised result for a dozen rows on every list page.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for member in self.queryset:
            yield self.choice(member)


class MemberFilterField(django_filters.fields.ModelChoiceField):
    iterator = MemberChoices


class TenantMemberFilter(django_filters.ModelChoiceFilter):
    field_class = MemberFilterField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", lambda request: tenant_members())
        super().__init__(*args, **kwargs)


class BootstrapFilterSet(django_filters.FilterSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            is_select = field.widget.__class__.__name__.endswith("Select")
            field.widget.attrs["class"] = "form-select form-select-sm" if is_select else "form-control form-control-sm"
