"""Where to go after a form: the `next` parameter, only when it stays on this site."""

from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request) -> str:
    """The `next` parameter (POST, then GET) when it points to this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def safe_next(request, fallback: str) -> str:
    """`next` when it is safe, else `fallback` (a URL name or a URL)."""
    return next_url(request) or resolve_url(fallback)
