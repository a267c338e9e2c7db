"""Who sees which webhooks (see crm.tenancy.querysets)."""

from crm.records.models import SoftDeleteQuerySet


class EndpointQuerySet(SoftDeleteQuerySet):
    """The whole company's endpoints for a role with a right on them: the registry gives only
    administrators any (webhooks.apps), so no object-level rule is needed."""
