"""Project-wide error views (handler400/403/404/500 in crm/urls.py).

Under /api/ every error keeps the API's one JSON body
(`{"error": {"code", "message", "fields": {}}}`, see crm/api/errors.py); elsewhere
the templates 400.html, 403.html, 404.html and 500.html are rendered.

403 and 404 pages extend base.html (the user still has their navigation). 400 and
500 pages are plain: a 400 may come from a request that never reached the
authentication middleware (a bad host or session), and a 500 must render when the
database is down, so neither uses a request context, the database or base.html.
"""

from __future__ import annotations

import logging

from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.urls import Resolver404
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from crm.api.errors import error_body
from crm.api.errors import not_found as api_not_found

log = logging.getLogger("crm.errors")

API_PREFIX = "/api/"

# The last resort when even the 500 template cannot be rendered.
PLAIN_500 = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Server error</title></head>"
    "<body><h1>Server error</h1><p>Something went wrong on our side; the error was logged.</p></body></html>"
)


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def exception_message(exception) -> str:
    """The message a view raised with (PermissionDenied("...")), or ""."""
    if exception is None or not exception.args:
        return ""
    message = exception.args[0]
    return message if isinstance(message, str) else ""


def render_page(request, template_name: str, status: int, context: dict | None = None) -> HttpResponse:
    """A page extending base.html, with the request's context when the request has one."""
    template = loader.get_template(template_name)
    # A request that failed before the authentication middleware has no user: no request context.
    content = template.render(context or {}, request if hasattr(request, "user") else None)
    return HttpResponse(content, status=status)


def render_plain(template_name: str, status: int) -> HttpResponse:
    """A standalone page: no request context, no database."""
    return HttpResponse(loader.get_template(template_name).render(), status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    if is_api(request):
        return JsonResponse(error_body("bad_request", _("The request could not be understood.")), status=400)
    return render_plain("400.html", 400)


@requires_csrf_token
def permission_denied(request, exception=None):
    message = exception_message(exception)
    if is_api(request):
        return JsonResponse(
            error_body("permission_denied", message or _("You do not have permission to do this.")), status=403
        )
    return render_page(request, "403.html", 403, {"message": message})


@requires_csrf_token
def page_not_found(request, exception=None):
    if is_api(request):
        if exception is None or isinstance(exception, Resolver404):
            return api_not_found(request)
        return JsonResponse(error_body("not_found", exception_message(exception) or _("Not found.")), status=404)
    # The exception's text ("No Customer matches the given query.") is for developers: not shown.
    return render_page(request, "404.html", 404, {"request_path": request.path})


@requires_csrf_token
def server_error(request):
    if is_api(request):
        return JsonResponse(
            error_body("server_error", _("Something went wrong on our side; the error was logged.")), status=500
        )
    try:
        return render_plain("500.html", 500)
    except Exception:  # a broken template must not hide the original error behind another one
        log.exception("The 500 page could not be rendered")
        return HttpResponse(PLAIN_500, status=500)


class OneLineRefusals(logging.Filter):
    """Django logs a view's PermissionDenied / SuspiciousOperation with its traceback; an expected
    refusal (any 4xx) is one warning line ("Forbidden (Permission denied): /path"), a traceback
    stays for the 500s. Installed on Django's request and security loggers (apps.py)."""

    def filter(self, record):
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info = record.exc_text = None
        return True


class MethodNotAllowedPage:
    """Opening (GET) an address that only takes a form's POST shows a page saying so, not an empty 405.

    Views refuse other methods with Django's bare HttpResponseNotAllowed; this middleware gives a
    browser the page (the status and the Allow header stay). API answers are JSON already.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or request.method not in ("GET", "HEAD") or is_api(request) or response.content:
            return response
        referer = request.META.get("HTTP_REFERER", "")
        same_site = url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()})
        page = render_page(request, "405.html", 405, {"back_url": referer if same_site else ""})
        page["Allow"] = response["Allow"]
        return page
