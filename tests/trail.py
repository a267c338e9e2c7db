"""What a write left behind: the audit events and history rows added while a block ran.

with Trail(tenant) as trail:
    client.post(...)
assert trail.events == [("create", "customer", str(pk))]
assert trail.versions == [("customer", pk, "+", "created")]
"""

from audit.models import AuditEvent
from crm.records.registry import record_models


class Trail:
    def __init__(self, tenant):
        self.tenant = tenant

    def __enter__(self):
        self._last_seq = self._max_seq()
        self._last_history = {name: self._max_history(model) for name, model in record_models().items()}
        return self

    def __exit__(self, *exc_info):
        events = AuditEvent.objects.filter(tenant=self.tenant, seq__gt=self._last_seq).order_by("seq")
        self.events = [(event.action, event.object_type, event.object_id) for event in events]
        self.event_objects = list(events)
        self.versions = []
        for name, model in record_models().items():
            rows = model.history.filter(history_id__gt=self._last_history[name]).order_by("history_id")
            self.versions += [(name, row.id, row.history_type, row.history_change_reason) for row in rows]
        return False

    def _max_seq(self) -> int:
        last = AuditEvent.objects.filter(tenant=self.tenant).order_by("-seq").values_list("seq", flat=True).first()
        return last or 0

    @staticmethod
    def _max_history(model) -> int:
        return model.history.order_by("-history_id").values_list("history_id", flat=True).first() or 0
