"""Who sees which saved views: their own, and those shared with the company; only the owner changes one."""

from django.db.models import Q

from crm.records.models import SoftDeleteQuerySet


class SavedViewQuerySet(SoftDeleteQuerySet):
    def restrict(self, membership, action):
        user_id = membership.user_id  # (membership.user would be a query of its own)
        if action == "view":
            return self.filter(Q(user_id=user_id) | Q(shared=True))
        if action == "restore":
            return self.filter(user_id=user_id, deleted_by_id=user_id)
        return self.filter(user_id=user_id)  # change, delete: whoever saved it, whatever their role

    def of_list(self, list_name: str):
        return self.filter(list_name=list_name)
