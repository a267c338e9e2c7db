"""Rate limit per API token (or per signed-in user, or per IP), counted in Redis.

The rate is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api"] (env API_RATE_LIMIT,
"1000/min" by default). A client over it gets a 429 with Retry-After.

DRF's SimpleRateThrottle keeps a list of timestamps per client in the cache: a
read and a write (two round trips and a pickled list of up to `rate` floats)
per request, and two concurrent requests can both read the old list, so it
undercounts. This counts in fixed windows instead: one INCR per request, with
the window's expiry set by the same server-side script (one round trip,
atomic); the window's end is the Retry-After.
"""

import time
from functools import cache

import redis
from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from crm.tenancy.models import ApiToken

# KEYS[1]: the window's counter; ARGV[1]: seconds it is kept.
COUNT_IN_WINDOW = """
local used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return used
"""


@cache
def _count_in_window():
    return redis.Redis.from_url(settings.REDIS_URL).register_script(COUNT_IN_WINDOW)


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        # Read at request time (not at import) so settings overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            # The digest, not the id: ids come again when a database is recreated (tests, a
            # restored copy) while Redis keeps the old windows' counters.
            ident = f"token:{request.auth.digest}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = "ip:" + (self.get_ident(request) or "unknown")
        return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:throttle:{self.scope}:{ident}"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self.retry_after = (window + 1) * self.duration - now
        used = _count_in_window()(keys=[f"{key}:{window}"], args=[int(self.duration) + 1])
        return used <= self.num_requests

    def wait(self):
        return max(1.0, self.retry_after)
