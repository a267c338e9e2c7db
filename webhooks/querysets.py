"""Who sees which webhooks: a company's administrators (the registry gives no other role a right)."""

from crm.records.models import SoftDeleteQuerySet


class EndpointQuerySet(SoftDeleteQuerySet):
    def receiving(self, event: str):
        """Active endpoints that chose `event`."""
        return self.filter(active=True, events__contains=[event])
