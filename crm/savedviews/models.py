"""A saved view of a list (its query string: filters and sort) and each person's default per list."""

from django.conf import settings
from django.db import models
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from crm.history.tracing import TracedHistory
from crm.records.models import (
    PurgePermissionBase,
    SoftDeleteModel,
    managers_for,
    soft_delete_indexes,
    tenant_foreign_key,
)
from crm.savedviews.querysets import SavedViewQuerySet
from crm.tenancy.models import TenantModel

MAX_QUERY = 2000


class SavedView(SoftDeleteModel):
    """`list_name` is the list page's URL name ("customers:list"); `query` its query string
    without page or view ("status=active&sort=-name"). The lists have no column choice: a
    view is its filters and its sort."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("saved by"),
        db_index=False,
        editable=False,
    )
    list_name = models.CharField(_("list"), max_length=100, editable=False)
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("filters and sort"), max_length=MAX_QUERY, blank=True)
    shared = models.BooleanField(_("shared with the company"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects, deleted, all_objects = managers_for(SavedViewQuerySet)
    history = TracedHistory()

    class Meta(SoftDeleteModel.Meta):
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        permissions = [("purge_savedview", "Can permanently delete saved view")]
        indexes = [
            *soft_delete_indexes("savedview"),
            models.Index(fields=["tenant", "list_name", "name"], name="savedview_tenant_list"),
            models.Index(fields=["tenant", "user"], name="savedview_tenant_user"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        """The list, filtered and sorted as saved."""
        from django.urls import reverse

        query = f"{self.query}&" if self.query else ""
        return f"{reverse(self.list_name)}?{query}{urlencode({'view': self.pk})}"


class SavedViewPurgePermission(PurgePermissionBase):
    content_object = tenant_foreign_key(SavedView, on_delete=models.CASCADE)

    class Meta(PurgePermissionBase.Meta):
        indexes = [models.Index(fields=["tenant", "content_object"], name="savedviewpurge_object")]


class DefaultView(TenantModel):
    """The view a person's list opens with when its address has no filters: one per person and list."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    list_name = models.CharField(max_length=100)
    view = tenant_foreign_key(SavedView, on_delete=models.CASCADE, related_name="+")

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "list_name"], name="defaultview_one_per_list"),
        ]
        indexes = [models.Index(fields=["tenant", "view"], name="defaultview_tenant_view")]
