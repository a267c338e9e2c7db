"""API responses are encoded by orjson, and read exactly as DRF's own renderer writes them."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from crm.api.renderers import OrjsonRenderer

SAMPLES = {
    "plain": {"count": None, "next": "http://x/?page=2", "results": [{"id": 1, "ok": True, "ratio": 0.5}]},
    "unicode": {"name": "客户 Ünïcödé", "emoji": "🙂"},
    "line separators": {"text": "a\u2028b\u2029c"},
    "date-times": [
        datetime(2026, 11, 22, 15, 4, 5, 123456, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=ZoneInfo("Europe/London")),
        datetime(2026, 7, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2026, 7, 1, 8),
        date(2026, 2, 3),
        time(4, 5, 6, 7),
    ],
    "other types": [Decimal("12.50"), uuid.UUID(int=5), timedelta(hours=1), {3, 4}, (5, 6), b"bytes"],
    "lazy text": {"message": gettext_lazy("Invalid token.")},
    "integer keys": {1: "a", 2: "b"},
    "big integer": [2**70],
    "nesting": {"error": {"code": "invalid", "message": "x", "fields": {"name": ["Too long."]}}},
}


@pytest.mark.parametrize("data", SAMPLES.values(), ids=SAMPLES.keys())
def test_writes_the_same_bytes_as_drf(data):
    assert OrjsonRenderer().render(data) == JSONRenderer().render(data)


def test_indentation_on_request_is_drfs():
    data = {"a": [1, 2]}
    media_type = "application/json; indent=2"
    assert (
        OrjsonRenderer().render(data, media_type)
        == JSONRenderer().render(data, media_type)
        == (b'{\n  "a": [\n    1,\n    2\n  ]\n}')
    )


def test_nothing_is_an_empty_body():
    assert OrjsonRenderer().render(None) == b""


def test_a_float_json_cannot_hold_is_null_not_an_error():
    assert OrjsonRenderer().render({"x": float("nan")}) == b'{"x":null}'
