"""What every recycle-bin page shares: reading the request, refusals as pages, the confirmation page."""

from __future__ import annotations

import re
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from crm.approvals.actions import policy
from crm.approvals.gate import ApprovalRequested
from crm.records.registry import record_models
from crm.records.versions import Seen, selection
from crm.recyclebin.actions import Item, NotInBin, by_model
from crm.tenancy.acting import ActionConflict
from crm.web.redirects import next_url

MAX_IDS = 1000
MAX_PK = 2**63 - 1  # PostgreSQL bigint
SHOWN_RECORDS = 100  # records listed by name on a confirmation page; the rest are counted
ID_PATTERN = re.compile(r"[0-9]{1,19}")


class BadInput(Exception):
    """A malformed request (bad ids, too many records): a 400 page with this message."""


def bin_view(view):
    """Signed-in members only; refusals become clear 400/403/404/409 pages, never a 500."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except BadInput as error:
            return problem(request, 400, str(error))
        except ValidationError as error:
            return problem(request, 400, " ".join(error.messages))
        except ApprovalRequested as asked:
            return approval_asked(request, asked.approval)
        except PermissionDenied as error:
            return problem(request, 403, str(error) or _("You may not do that."))
        except NotInBin as error:
            return problem(request, 404, str(error) or _("That record is not in the recycle bin."))
        except Http404:
            return problem(request, 404, _("That record does not exist or is not visible to you."))
        except ActionConflict as error:
            return problem(request, 409, str(error))

    return login_required(wrapper)


def approval_asked(request, approval):
    """The deletion waits for a second person: say so, and show the request among the approvals."""
    messages.info(
        request,
        _("Nothing was deleted yet: your request waits for a second person's approval (request %(id)s).")
        % {"id": approval.pk},
    )
    return redirect("approvals:list")


def problem(request, status: int, message: str):
    titles = {400: _("Bad request"), 403: _("Not allowed"), 404: _("Not found"), 409: _("Not possible")}
    return render(
        request,
        "recyclebin/problem.html",
        {"status": status, "title": titles.get(status, _("Error")), "message": message, "back_url": back_url(request)},
        status=status,
    )


def back_url(request) -> str:
    return next_url(request) or reverse("bin:list")


def confirmed(request) -> bool:
    return request.method == "POST" and request.POST.get("confirm") == "1"


def reason(request) -> str:
    """What the person gave as the reason for a deletion that needs approval."""
    return request.POST.get("reason", "")


def needs_approval(kind: str, count: int) -> bool:
    return policy().needs_approval(kind, count)


def _values(request, name) -> list[str]:
    data = request.POST if request.method == "POST" else request.GET
    return [part.strip() for value in data.getlist(name) for part in value.split(",") if part.strip()]


def _check_count(count: int) -> None:
    if not count:
        raise BadInput(_("Select at least one record."))
    if count > MAX_IDS:
        raise BadInput(
            _("You selected %(count)s records; at most %(max)s can be handled at once.")
            % {"count": count, "max": MAX_IDS}
        )


def _pk(text: str) -> int:
    if not ID_PATTERN.fullmatch(text) or not 0 < int(text) <= MAX_PK:
        raise BadInput(_("Record ids must be positive whole numbers."))
    return int(text)


def parse_ids(request) -> list[int]:
    """`ids` (repeated and/or comma-separated) -> distinct primary keys, in the order given."""
    values = _values(request, "ids")
    _check_count(len(values))
    return list(dict.fromkeys(_pk(value) for value in values))


def parse_seen(request, ids) -> Seen:
    """The versions the page showed for the selected `ids` (`seen`: "id@version", optional)."""
    try:
        return selection(ids, _values(request, "seen"))
    except ValueError:
        raise BadInput(_("The page sent versions that are not versions; reload it and try again.")) from None


def parse_items(request) -> list[Item]:
    """`items` of the form "type:id" -> distinct recycle-bin items."""
    values = _values(request, "items")
    _check_count(len(values))
    types = record_models()
    items = []
    for value in values:
        name, _sep, pk = value.partition(":")
        if name not in types:
            raise BadInput(_("Unknown record type: %(type)s") % {"type": name[:30]})
        items.append(Item(types[name], _pk(pk)))
    return list(dict.fromkeys(items))


def url_pk(pk: int) -> int:
    if not 0 < pk <= MAX_PK:
        raise NotInBin(_("That record is not in the recycle bin."))
    return pk


def item_key(model, pk) -> str:
    return f"{model._meta.model_name}:{pk}"


def describe_counts(counts: dict[str, int]) -> str:
    """{"customer": 1, "contact": 3} -> "1 customer, 3 contacts" (in cascade order)."""
    parts = []
    for name, model in record_models().items():
        count = counts.get(name)
        if count:
            noun = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
            parts.append(_("%(count)s %(type)s") % {"count": count, "type": noun})
    return pgettext("list separator", ", ").join(parts) or _("no records")


def retention_note(tenant) -> str:
    if tenant.legal_hold:
        return _("This company is on legal hold: nothing in the recycle bin is purged.")
    return ngettext(
        "Deleted records stay in the recycle bin for %(days)s day, then they are purged.",
        "Deleted records stay in the recycle bin for %(days)s days, then they are purged.",
        tenant.retention_days,
    ) % {"days": tenant.retention_days}


def confirm_page(
    request,
    *,
    title,
    statement,
    records,
    action_url,
    values,
    button,
    danger=False,
    notes=(),
    status=200,
    approval=False,
):
    """The one confirmation page: what will happen, to which records, and a Confirm button
    (with `approval`: a reason and an "Ask for approval" button, crm.approvals)."""
    shown = records[:SHOWN_RECORDS]
    if approval:
        notes = [*notes, _("A second person must approve this first: nothing is deleted until they do.")]
    return render(
        request,
        "recyclebin/confirm.html",
        {
            "title": title,
            "statement": statement,
            "notes": notes,
            "records": shown,
            "more": len(records) - len(shown),
            "action_url": action_url,
            "hidden_fields": list(values.items()),
            "button": button,
            "danger": danger,
            "approval_needed": approval,
            "next": next_url(request),
            "cancel_url": back_url(request),
        },
        status=status,
    )


def labelled(request, items: list[Item], action: str) -> list[dict]:
    """Type and label of each item in the bin the user may see for `action` (404 otherwise)."""
    rows = []
    for model, ids in by_model(items).items():
        scope = model.deleted.for_user(request.user, "restore" if action == "restore" else "view")
        found = {record.pk: record for record in scope.filter(pk__in=ids)}
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise NotInBin(
                _("%(type)s %(id)s is not in the recycle bin: it may have been restored or purged already.")
                % {"type": capfirst(model._meta.verbose_name), "id": missing[0]}
            )
        rows.extend({"type": capfirst(model._meta.verbose_name), "label": str(found[pk])} for pk in ids)
    return rows
