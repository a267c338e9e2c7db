"""Rate limit per API token (or per signed-in user, or per IP), counted in the Redis cache.

The rate is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api"] (env API_RATE_LIMIT,
"1000/min" by default). A client over it gets a 429 with Retry-After.
"""

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from crm.tenancy.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        # Read at request time (not at import) so settings overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            # Never put the credential itself into cache keys.
            ident = "token:" + hashlib.sha256(request.auth.key.encode()).hexdigest()[:32]
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = "ip:" + (self.get_ident(request) or "unknown")
        return f"throttle:{self.scope}:{ident}"
