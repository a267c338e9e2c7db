"""FilterSet base: Bootstrap widgets, and choices of people limited to the tenant's members."""

import django_filters

from crm.tenancy.members import tenant_members


class TenantMemberFilter(django_filters.ModelChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", lambda request: tenant_members())
        super().__init__(*args, **kwargs)


class BootstrapFilterSet(django_filters.FilterSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            is_select = field.widget.__class__.__name__.endswith("Select")
            field.widget.attrs["class"] = "form-select form-select-sm" if is_select else "form-control form-control-sm"
