"""Middleware that serves only browser sessions stands aside for API calls signed with a token.

A request under /api/ with `Authorization: Token ...` is authenticated by DRF alone: the token
class answers a bad key with 401 and never falls back to the session. Such a call has no
session two-factor step to pass (django-otp, the gate) and answers JSON that no
Content-Security-Policy protects. Together these
steps cost about 0.5 ms of a 4 ms list request (measured with `python -m bench --only api`),
which the integrations that call the API most pay on every call.

The wrapped middleware must be synchronous: the project runs under WSGI (gunicorn).
"""

from __future__ import annotations

import csp.middleware
import django_otp.middleware


def signed_with_token(request) -> bool:
    return request.path_info.startswith("/api/") and request.META.get("HTTP_AUTHORIZATION", "").startswith("Token ")


def browser_only(middleware_class: type) -> type:
    """`middleware_class`, passed straight through for token-signed API calls."""

    def __call__(self, request):
        if signed_with_token(request):
            return self.get_response(request)
        return middleware_class.__call__(self, request)

    return type(middleware_class.__name__, (middleware_class,), {"__call__": __call__, "__module__": __name__})


OTPMiddleware = browser_only(django_otp.middleware.OTPMiddleware)
CSPMiddleware = browser_only(csp.middleware.CSPMiddleware)
