"""One error body for every API failure, whatever raised it.

    {"error": {"code": "not_found", "message": "No customer with id 7.", "fields": {}}}

`fields` maps a field (dotted for nested input: "items.3.type") to its
messages; it is empty for errors that concern no field. A restore refused
because a parent stays in the bin adds `"parent": {"type": ..., "id": ...}`; a 412
(`If-Match` names an older version) adds `"current_version"`.
"""

from __future__ import annotations

import logging

from django.core import signals
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from crm.records.versions import VersionConflict, etag
from crm.tenancy.acting import ActionConflict

log = logging.getLogger("crm.api")

NON_FIELD = "non_field_errors"


class Conflict(exceptions.APIException):
    """409: the request is well-formed, but the current state of the data forbids it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the current state of the data.")
    default_code = "conflict"

    def __init__(self, detail=None, code=None, *, fields=None, parent=None):
        super().__init__(detail, code)
        self.fields = fields or {}
        self.parent = parent


class PreconditionFailed(exceptions.APIException):
    """412: `If-Match` names a version the record no longer has; the body names the current one."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy("The record changed since you read it.")
    default_code = "version_conflict"

    def __init__(self, record=None, current_version=None, *, detail=None, changed=None):
        if record is not None:
            detail = _(
                "This %(type)s changed since you read it: it is at version %(version)s now. Read it again and retry."
            ) % {"type": record._meta.model_name, "version": current_version}
        super().__init__(detail)
        self.current_version = current_version
        self.changed = changed  # ids of a bulk request's records that changed since


def error_body(code: str, message, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}, **extra}}


def flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail -> {"field.sub.0": ["message", ...]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = NON_FIELD if key in (NON_FIELD_ERRORS, NON_FIELD) and not prefix else str(key)
            flat.update(flatten(value, f"{prefix}.{name}" if prefix else name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or NON_FIELD: [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:  # DRF puts {} / [] for list items without errors
                flat.update(flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or NON_FIELD: [str(detail)]}


def validation_message(fields: dict[str, list[str]]) -> str:
    """A one-line summary naming the first few problems."""
    parts = [
        messages[0] if name == NON_FIELD else f"{name}: {messages[0]}"
        for name, messages in list(fields.items())[:3]
        if messages
    ]
    if len(fields) > 3:
        parts.append(_("and %(count)s more") % {"count": len(fields) - 3})
    return "; ".join(parts) or _("Invalid input.")


def django_validation_fields(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return flatten({key: list(messages) for key, messages in error.message_dict.items()})
    return {NON_FIELD: list(error.messages)}


def translate(exc):
    """Django and kernel exceptions -> the matching DRF exception (or None)."""
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        message = str(exc.args[0]) if exc.args and exc.args[0] else _("Not found.")
        return exceptions.NotFound(message)
    if isinstance(exc, DjangoPermissionDenied):
        message = str(exc.args[0]) if exc.args and exc.args[0] else _("You do not have permission to do this.")
        return exceptions.PermissionDenied(message)
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(django_validation_fields(exc))
    if isinstance(exc, VersionConflict):  # the record moved on between the If-Match check and the write
        current = type(exc.record).all_objects.filter(pk=exc.record.pk).values_list("version", flat=True).first()
        return PreconditionFailed(exc.record, current)
    if isinstance(exc, ActionConflict):
        parent = getattr(exc, "parent", None)
        return Conflict(
            str(exc),
            exc.code,
            parent={"type": parent._meta.model_name, "id": parent.pk} if parent is not None else None,
        )
    if isinstance(exc, IntegrityError):
        # The actions validate first; this is a race with a concurrent write.
        return Conflict(_("The change conflicts with a concurrent change; reload and try again."), "conflict")
    return None


def exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: every error in the one format; unexpected ones become a logged JSON 500."""
    api_exc = translate(exc)
    if api_exc is None:
        request = context.get("request")
        log.error("Unhandled API error", exc_info=(type(exc), exc, exc.__traceback__))
        django_request = getattr(request, "_request", None)
        if django_request is not None:
            signals.got_request_exception.send(sender=None, request=django_request)
        set_rollback()
        return Response(
            error_body("server_error", _("Something went wrong on our side; the error was logged.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    headers = {}
    if getattr(api_exc, "auth_header", None):
        headers["WWW-Authenticate"] = api_exc.auth_header
    if getattr(api_exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(api_exc.wait + 0.999)))
    if isinstance(api_exc, exceptions.ValidationError):
        fields = flatten(api_exc.detail)
        body = error_body("invalid", validation_message(fields), fields)
    elif isinstance(api_exc, PreconditionFailed):
        extra = (
            {"current_version": api_exc.current_version} if api_exc.changed is None else {"changed": api_exc.changed}
        )
        body = error_body(_code(api_exc), api_exc.detail, **extra)
        if api_exc.current_version is not None:
            headers["ETag"] = etag(api_exc.current_version)
    elif isinstance(api_exc, Conflict):
        extra = {"parent": api_exc.parent} if api_exc.parent else {}
        body = error_body(_code(api_exc), api_exc.detail, api_exc.fields, **extra)
    else:
        body = error_body(_code(api_exc), api_exc.detail)
    set_rollback()
    return Response(body, status=api_exc.status_code, headers=headers)


def _code(exc) -> str:
    detail = exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    return str(code)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Django-level 404 under /api/ (no route matched), as JSON."""
    message = _("No API endpoint at %(path)s.") % {"path": request.path[:200]}
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            message = _("No API endpoint at %(path)s; did you mean %(path)s/ ?") % {"path": request.path[:200]}
    return JsonResponse(error_body("not_found", message), status=404)
