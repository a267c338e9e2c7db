"""The Export buttons of the browser's list pages: `?export=csv` or `?export=xlsx` on the list's
own address, with its filters and sort, answered by crm.exports.lists.

Bad input never loses the user's place: an unknown format or filters that do not validate
send them back to the list (which shows the filters' errors) with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from crm.exports.lists import bin_response, list_response
from crm.exports.writers import FORMATS

PARAMETER = "export"


def wants_export(request) -> bool:
    return request.method == "GET" and PARAMETER in request.GET


def _back(request, message):
    query = request.GET.copy()
    query.pop(PARAMETER, None)
    messages.error(request, message)
    return redirect(f"{request.path}?{query.urlencode()}" if query else request.path)


def used_filters(request, names) -> list[str]:
    """The names of the filters (and the sort) the request sets: what the audit event records."""
    return [name for name in [*names, "sort"] if request.GET.get(name)]


def export_list(view):
    """The export of a RecordListView: its own get_queryset(), so its restriction, filters and order."""
    request = view.request
    fmt = request.GET.get(PARAMETER)
    if fmt not in FORMATS:
        return _back(request, _("Choose CSV or Excel (XLSX) to export."))
    queryset = view.get_queryset()
    filterset = getattr(view, "filterset", None)
    if filterset is not None and not filterset.is_valid():
        return _back(request, _("Correct the filters, then export again."))
    names = list(filterset.filters) if filterset is not None else []
    return list_response(queryset, fmt=fmt, filters=used_filters(request, names), acting_user=request.user)


def export_bin(request, form, entries):
    """The export of the recycle bin's page: the entries its filters select."""
    fmt = request.GET.get(PARAMETER)
    if fmt not in FORMATS:
        return _back(request, _("Choose CSV or Excel (XLSX) to export."))
    if form.is_bound and not form.is_valid():
        return _back(request, _("Correct the filters, then export again."))
    return bin_response(entries, fmt=fmt, filters=used_filters(request, form.fields), acting_user=request.user)
