"""Sign-in throttling: what runs before a password is hashed.

django-axes counts failed sign-ins per account and per client address and
refuses a locked one (SignInThrottle, the first authentication backend). On
top of that, each client address may have only SIGNIN_CONCURRENT_HASHES
password checks running at once, counted in Redis across all processes, so a
burst of concurrent wrong passwords cannot keep every worker busy hashing.
"""

from contextlib import contextmanager
from functools import cache

import redis
from axes.backends import AxesStandaloneBackend
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.tenancy.middleware import client_ip

BUSY_MESSAGE = _("Too many sign-ins from your address at once. Wait a moment and try again.")


class SignInThrottle(AxesStandaloneBackend):
    """django-axes' lockout check; `authenticate()` without a request (a script, the tests' client.login) passes."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


@cache
def _redis():
    return redis.Redis.from_url(settings.REDIS_URL)


@contextmanager
def hashing_slot(address: str):
    """Hold one of the address's concurrent password checks; PermissionDenied when none is free.

    The counter lives a minute after the last check started, so a killed process's slot comes back.
    """
    key = f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:signin:hashing:{address}"
    client = _redis()
    with client.pipeline() as pipeline:
        held = pipeline.incr(key).expire(key, 60).execute()[0]
    try:
        if held > settings.SIGNIN_CONCURRENT_HASHES:
            raise PermissionDenied("too many concurrent sign-ins")
        yield
    finally:
        client.decr(key)


class BoundedModelBackend(ModelBackend):
    """Django's ModelBackend, hashing only within the client address's share of concurrent checks."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        try:
            with hashing_slot(client_ip(request) or "unknown"):
                return super().authenticate(request, username=username, password=password, **kwargs)
        except PermissionDenied:
            request.signin_busy = True
            raise


class BusyAwareMixin:
    def get_invalid_login_error(self):
        if getattr(self.request, "signin_busy", False):
            return forms.ValidationError(BUSY_MESSAGE, code="busy")
        return super().get_invalid_login_error()


class SignInForm(BusyAwareMixin, AuthenticationForm):
    pass


class AdminSignInForm(BusyAwareMixin, AdminAuthenticationForm):
    pass


def lockout_response(request, original_response=None, credentials=None):
    """The page for a locked sign-in (429), on the login page and the admin's alike."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)


def locked_users(users):
    """Those of `users` whose account is locked now (failures within the cool-off reached the limit)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    locked = AccessAttempt.objects.filter(
        username__in=[user.get_username() for user in users],
        attempt_time__gte=since,
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
    ).values_list("username", flat=True)
    names = set(locked)
    return [user for user in users if user.get_username() in names]
