"""View mixins shared by every tenant-owned page: the restricting queryset, nothing else."""

from django.contrib.auth.mixins import LoginRequiredMixin


class RestrictedQuerysetMixin(LoginRequiredMixin):
    """`queryset = Model.objects.for_user(user, action)`; other tenants' rows are a 404."""

    model = None
    action = "view"

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user, self.action)
