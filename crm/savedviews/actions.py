"""Writes to saved views, one action each: save, change (rename, share, new filters), choose as
default, stop the default. Deleting and restoring go through crm.recyclebin like every record.

Saving and changing build on crm.records.actions (the right, validation, history row and one
audit event in one transaction); choosing a default is a person's setting, audited as such.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import QueryDict
from django.urls import NoReverseMatch, resolve, reverse
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.records import actions as records
from crm.savedviews.models import MAX_QUERY, DefaultView, SavedView
from crm.tenancy.acting import action
from crm.tenancy.context import current_tenant

# Parameters that are not part of a view: the page, the view's own id, an export request.
NOT_SAVED = ("page", "view", "export")


def clean_query(query: str) -> str:
    """The query string as a view keeps it: without page, view or export, at most MAX_QUERY long."""
    query = (query or "").lstrip("?")
    if "\x00" in query:
        raise ValidationError({"query": _("The filters hold a character that is not allowed.")})
    params = QueryDict(query, mutable=True)
    for name in NOT_SAVED:
        params.pop(name, None)
    cleaned = params.urlencode()
    if len(cleaned) > MAX_QUERY:
        raise ValidationError({"query": _("These filters are too long to save.")})
    return cleaned


def check_list(list_name: str) -> str:
    """A list page that offers saved views, by its URL name: a RecordListView (crm.web.mixins), or a
    function view marked `saved_views = True` (the recycle bin)."""
    from crm.web.mixins import RecordListView

    try:
        view = resolve(reverse(list_name)).func
    except (NoReverseMatch, ValueError):
        view = None
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        offers = issubclass(view_class, RecordListView) and view_class.saved_views
    else:
        offers = getattr(view, "saved_views", False) is True
    if not offers:
        raise ValidationError({"list_name": _("There is no such list.")})
    return list_name


def _check_name(name: str, list_name: str, user, exclude=None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    same = SavedView.objects.filter(user=user, list_name=list_name, name__iexact=name)
    if exclude is not None:
        same = same.exclude(pk=exclude.pk)
    if user is not None and same.exists():
        raise ValidationError({"name": _("You already have a view of this list with that name.")})
    return name


@action
def save_view(list_name: str, name: str, query: str = "", shared: bool = False, *, acting_user) -> SavedView:
    list_name = check_list(list_name)
    return records.create(
        SavedView,
        acting_user=acting_user,
        user=acting_user,
        list_name=list_name,
        name=_check_name(name, list_name, acting_user),
        query=clean_query(query),
        shared=bool(shared),
    )


@action
def update_view(view: SavedView, *, acting_user, **values) -> SavedView:
    """Rename, share or unshare, or keep new filters (`query`): only whoever saved it."""
    unknown = set(values) - {"name", "query", "shared"}
    if unknown:
        raise ValidationError({name: _("This cannot be changed.") for name in sorted(unknown)})
    if "name" in values:
        values["name"] = _check_name(values["name"], view.list_name, view.user, exclude=view)
    if "query" in values:
        values["query"] = clean_query(values["query"])
    return records.update(view, acting_user=acting_user, **values)


@action
def make_default(view: SavedView, *, acting_user) -> DefaultView:
    """`view` (one's own or a shared one) opens its list for `acting_user` from now on."""
    if not SavedView.objects.for_user(acting_user, "view").filter(pk=view.pk).exists():
        raise PermissionDenied(_("You may not use this view."))
    with transaction.atomic():
        default, _created = DefaultView.objects.update_or_create(
            user=acting_user, list_name=view.list_name, defaults={"view": view, "tenant": current_tenant()}
        )
        audit(AuditEvent.Action.SETTINGS, target=view, detail={"fields": ["default"], "default": True})
    return default


@action
def clear_default(list_name: str, *, acting_user) -> bool:
    """The list opens unfiltered again for `acting_user`; False when it had no default."""
    with transaction.atomic():
        default = DefaultView.objects.filter(user=acting_user, list_name=list_name).select_for_update().first()
        if default is None:
            return False
        audit(
            AuditEvent.Action.SETTINGS,
            object_type="savedview",
            object_id=default.view_id,
            detail={"fields": ["default"], "default": False},
        )
        default.delete()
    return True
