"""Who sees which saved views: their own, and those shared with the company; only the owner changes one."""

from django.db.models import Q

from crm.records.models import SoftDeleteQuerySet


class SavedViewQuerySet(SoftDeleteQuerySet):
    def restrict(self, membership, action):
        user = membership.user
        if action == "view":
            return self.filter(Q(user=user) | Q(shared=True))
        if action == "restore":
            return self.filter(user=user, deleted_by=user)
        return self.filter(user=user)  # change, delete: whoever saved it, whatever their role

    def of_list(self, list_name: str):
        return self.filter(list_name=list_name)
