"""/api/v1/webhooks/: administrators only; the secret answered once, at creation; bad input a 400."""

import pytest

from tests.api.conftest import api, api_as, error_of, other_api  # noqa: F401  (fixtures)
from tests.trail import Trail
from webhooks.models import Endpoint

URL = "/api/v1/webhooks/"


def payload(**values):
    return {"name": "ERP", "url": "http://127.0.0.1:9/in", "events": ["ticket.created"], **values}


def test_an_admin_creates_a_webhook_and_gets_its_secret_once(api, tenant):  # noqa: F811
    with Trail(tenant) as trail:
        response = api.post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    endpoint = Endpoint.all_objects.get(pk=body["id"])
    assert body["secret"] == endpoint.secret and len(body["secret"]) >= 40
    assert (body["preset"], body["events"], body["active"]) == ("generic", ["ticket.created"], True)
    assert trail.events == [("create", "endpoint", str(endpoint.pk))]
    assert endpoint.secret not in str(trail.event_objects[0].detail)

    read = api.get(f"{URL}{endpoint.pk}/").json()
    assert "secret" not in read and endpoint.secret not in str(api.get(URL).json())
    changed = api.patch(f"{URL}{endpoint.pk}/", {"active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["active"] is False and "secret" not in changed.json()
    history = api.get(f"{URL}{endpoint.pk}/history/")
    assert history.status_code == 200 and endpoint.secret not in history.content.decode()


def test_a_dingtalk_robot_keeps_the_secret_it_was_given(api):  # noqa: F811
    response = api.post(URL, payload(preset="dingtalk", secret="SECabc"), format="json")
    assert response.status_code == 201 and response.json()["secret"] == "SECabc"
    bare = api.post(URL, payload(preset="wecom"), format="json")
    assert bare.status_code == 201 and bare.json()["secret"] == ""  # WeCom's key is in its URL


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"events": []}, "events"),
        ({"events": ["customer.exploded"]}, "events.0"),
        ({"url": "gopher://example.com/"}, "url"),
        ({"url": "http://169.254.169.254/latest/"}, "url"),
        ({"preset": "telegram"}, "preset"),
        ({"name": "x" * 101}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, settings, values, field):  # noqa: F811
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = api.post(URL, payload(**values), format="json")
    assert field in error_of(response, 400)["fields"]
    assert not Endpoint.all_objects.exists()


@pytest.mark.parametrize("role", ["manager", "rep", "support", "viewer"])
def test_only_administrators_use_the_resource(api_as, records, role):  # noqa: F811
    endpoint = records.endpoint()
    client = api_as(role)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{endpoint.pk}/").status_code == 403
    assert client.post(URL, payload(), format="json").status_code == 403
    assert client.patch(f"{URL}{endpoint.pk}/", {"active": False}, format="json").status_code == 403
    assert client.delete(f"{URL}{endpoint.pk}/").status_code in (403, 404)
    assert Endpoint.all_objects.get(pk=endpoint.pk).deleted_at is None


def test_another_companys_webhook_is_a_404(api, other_records):  # noqa: F811
    theirs = other_records.endpoint()
    assert api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert api.patch(f"{URL}{theirs.pk}/", {"active": False}, format="json").status_code == 404
    assert api.delete(f"{URL}{theirs.pk}/").status_code == 404
    assert api.get(URL).json()["results"] == []


def test_delete_moves_it_to_the_recycle_bin(api, records):  # noqa: F811
    endpoint = records.endpoint()
    assert api.delete(f"{URL}{endpoint.pk}/").status_code == 204
    assert Endpoint.all_objects.get(pk=endpoint.pk).deleted_at is not None
    assert api.get(f"{URL}{endpoint.pk}/").status_code == 404
