"""Saved views on every list page (crm.web.mixins.RecordListView): the views offered in the list
header, the default applied when a list opens without filters, a view picked by `?view=<id>`.

One query per list page: the user's own and the company's shared views of this list, each
marked when it is the user's default.
"""

from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect

from crm.savedviews.actions import clean_query
from crm.savedviews.models import DefaultView, SavedView


class ListPage:
    """A list page that is no RecordListView (the recycle bin's function view), as the functions
    below read one: its request, and the form or filter set its query string fills."""

    saved_views = True

    def __init__(self, request, filters):
        self.request = request
        self.filterset_class = filters


def enabled(list_view) -> bool:
    return bool(list_view.saved_views and list_view.filterset_class and list_view.request.resolver_match)


def list_name(list_view) -> str:
    return list_view.request.resolver_match.view_name


def views_of(list_view) -> list[SavedView]:
    if not hasattr(list_view, "_saved_views"):
        user, name = list_view.request.user, list_name(list_view)
        mine = DefaultView.objects.filter(user=user, list_name=name, view=OuterRef("pk"))
        list_view._saved_views = list(
            SavedView.objects.for_user(user, "view")
            .filter(list_name=name)
            .select_related("user")
            .annotate(is_default=Exists(mine))
            .order_by("name", "id")
        )
    return list_view._saved_views


def chosen(list_view) -> SavedView | None:
    wanted = list_view.request.GET.get("view", "")
    return next((view for view in views_of(list_view) if str(view.pk) == wanted), None)


def opening(list_view):
    """A redirect to the saved filters: of the default view when the list opens bare, of a view
    picked alone (`?view=<id>`, the header's select); None to show the list as asked."""
    if not enabled(list_view):
        return None
    params = list_view.request.GET
    if not params:
        view = next((view for view in views_of(list_view) if view.is_default), None)
    elif list(params) == ["view"]:
        view = chosen(list_view)
    else:
        return None
    if view is None or not view.query:
        return None
    return HttpResponseRedirect(view.get_absolute_url())


def context(list_view) -> dict:
    if not enabled(list_view):
        return {}
    request = list_view.request
    views = views_of(list_view)
    current = chosen(list_view)
    return {
        "saved_views_list": list_name(list_view),
        "saved_views": views,
        "current_view": current,
        "current_view_is_mine": current is not None and current.user_id == request.user.pk,
        "current_query": clean_query(request.GET.urlencode()),
    }
