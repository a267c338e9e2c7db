import uuid

import pytest


@pytest.fixture(autouse=True)
def cache_prefix(settings):
    """Each test's own heartbeats and task counters in the shared Redis: a key prefix of its own
    (processes the test starts get it as CACHE_KEY_PREFIX)."""
    prefix = f"test-ops-{uuid.uuid4().hex}"
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    return prefix
