"""The webhook pages: a company's administrators add, edit, disable, test and delete endpoints and
read the delivery log; the secret is shown once and never written to history or the audit log."""

import pytest
from django.urls import reverse

from crm.tenancy.context import activate
from tests.conftest import login
from tests.factories import make_member
from tests.trail import Trail
from webhooks.models import Delivery, Endpoint
from webhooks.views import SHOWN_ONCE


def form_data(**values):
    return {
        "name": "Orders system",
        "url": "http://127.0.0.1:9/in",
        "preset": "generic",
        "events": ["customer.created", "opportunity.stage_changed"],
        "language": "en",
        "active": "on",
        **values,
    }


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(records, admin_user):
    client = login(admin_user)
    assert client.get(reverse("webhooks:create")).status_code == 200
    with Trail(records.tenant) as trail:
        response = client.post(reverse("webhooks:create"), form_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = Endpoint.all_objects.get(tenant=records.tenant, name="Orders system")
    assert len(endpoint.secret) >= 40 and endpoint.events == ["customer.created", "opportunity.stage_changed"]
    assert trail.events == [("create", "endpoint", str(endpoint.pk))]
    assert trail.versions == [("endpoint", endpoint.pk, "+", "created")]
    assert endpoint.secret not in str(trail.event_objects[0].detail)
    assert not hasattr(Endpoint.history.model, "secret")  # history rows never hold it

    first = client.get(response.url).content.decode()
    assert 'data-testid="new-secret"' in first and endpoint.secret in first
    again = client.get(response.url).content.decode()
    assert 'data-testid="new-secret"' not in again and endpoint.secret not in again
    assert "set (not shown)" in again
    assert endpoint.secret not in client.get(reverse("webhooks:edit", args=[endpoint.pk])).content.decode()


def test_editing_keeps_the_secret_unless_a_new_one_is_typed(records, admin_user):
    endpoint = records.endpoint()
    secret = Endpoint.all_objects.get(pk=endpoint.pk).secret
    client = login(admin_user)
    with Trail(records.tenant) as trail:
        response = client.post(
            reverse("webhooks:edit", args=[endpoint.pk]), form_data(name="Renamed", active="", version=1)
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.active, endpoint.secret) == ("Renamed", False, secret)
    assert trail.events == [("update", "endpoint", str(endpoint.pk))]
    assert set(trail.event_objects[0].detail["fields"]) >= {"name", "active"}

    client.post(reverse("webhooks:edit", args=[endpoint.pk]), form_data(secret="typed-secret", version=2))
    endpoint.refresh_from_db()
    assert endpoint.secret == "typed-secret"


def test_a_new_secret_replaces_the_old_and_is_shown_once(records, admin_user):
    endpoint = records.endpoint()
    old = Endpoint.all_objects.get(pk=endpoint.pk).secret
    client = login(admin_user)
    response = client.post(reverse("webhooks:rotate", args=[endpoint.pk]))
    assert response.status_code == 302
    new = Endpoint.all_objects.get(pk=endpoint.pk).secret
    assert new != old and new in client.get(response.url).content.decode()
    assert SHOWN_ONCE % endpoint.pk not in client.session


def test_bad_input_is_a_form_error(records, admin_user, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    client = login(admin_user)
    response = client.post(reverse("webhooks:create"), form_data(url="http://10.0.0.5/in", events=[]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "private, loopback or link-local" in page and "This field is required" in page
    response = client.post(reverse("webhooks:create"), form_data(events=["customer.exploded"]))
    assert response.status_code == 200 and "is not one of the available choices" in response.content.decode()
    response = client.post(reverse("webhooks:create"), form_data(name="bad\x00name"))
    assert response.status_code == 200 and "Null characters are not allowed" in response.content.decode()
    assert not Endpoint.all_objects.exists()


def test_a_test_message_shows_in_the_delivery_log(records, admin_user):
    endpoint = records.endpoint()
    client = login(admin_user)
    response = client.post(reverse("webhooks:test", args=[endpoint.pk]))
    assert response.status_code == 302
    delivery = Delivery.all_objects.get(endpoint=endpoint)
    assert (delivery.event, delivery.status, delivery.attempts) == ("ping", "pending", 0)
    Delivery.all_objects.filter(pk=delivery.pk).update(status="retrying", attempts=2, status_code=502)
    page = client.get(response.url).content.decode()
    assert 'data-testid="delivery-row" data-status="retrying"' in page and ">502<" in page


@pytest.mark.parametrize("role", ["manager", "rep", "support", "viewer"])
def test_only_administrators_reach_the_webhook_pages(records, role):
    endpoint = records.endpoint()
    client = login(make_member(records.tenant, role=role))
    for url in (
        reverse("webhooks:list"),
        reverse("webhooks:create"),
        reverse("webhooks:detail", args=[endpoint.pk]),
        reverse("webhooks:edit", args=[endpoint.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("webhooks:test", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("webhooks:rotate", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("webhooks:edit", args=[endpoint.pk]), form_data()).status_code == 403
    assert not Delivery.all_objects.exists()
    assert 'data-testid="nav-webhooks"' not in client.get(reverse("dashboard")).content.decode()


def test_another_companys_webhook_is_not_found(records, other_records, admin_user):
    theirs = other_records.endpoint()
    client = login(admin_user)
    for name in ("webhooks:detail", "webhooks:edit"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert client.post(reverse("webhooks:test", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("webhooks:rotate", args=[theirs.pk])).status_code == 404
    assert theirs.name not in client.get(reverse("webhooks:list")).content.decode()
    assert not Delivery.all_objects.exists()


def test_delete_goes_to_the_recycle_bin_and_undo_brings_it_back(records, admin_user):
    endpoint = records.endpoint()
    client = login(admin_user)
    detail = client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert 'data-testid="delete-button"' in detail
    with Trail(records.tenant) as trail:
        response = client.post(reverse("bin:delete", args=["endpoint"]), {"ids": str(endpoint.pk), "confirm": "1"})
    assert response.status_code == 302
    stored = Endpoint.all_objects.get(pk=endpoint.pk)
    assert stored.deleted_at is not None
    assert trail.events == [("delete", "endpoint", str(endpoint.pk))]
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 404
    with activate(records.tenant):
        assert records.customer() and not Delivery.all_objects.exists()  # a deleted endpoint gets nothing
    client.post(reverse("bin:undo", args=[stored.deletion_batch]))
    assert Endpoint.all_objects.get(pk=endpoint.pk).deleted_at is None
    assert Endpoint.all_objects.get(pk=endpoint.pk).secret == stored.secret


def test_the_list_runs_a_constant_number_of_queries(records, admin_user, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(admin_user)
    records.endpoint()
    client.get(reverse("webhooks:list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("webhooks:list"))
    for _ in range(8):
        records.endpoint()
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("webhooks:list")).content.decode()
    assert page.count('data-testid="webhook-row"') == 9
    assert len(many) == len(few)


def test_a_robots_secret_is_typed_never_generated(records, admin_user):
    endpoint = records.endpoint(preset="dingtalk", secret="SECfromdingtalk")
    client = login(admin_user)
    assert 'data-testid="rotate-secret"' not in client.get(endpoint.get_absolute_url()).content.decode()
    response = client.post(reverse("webhooks:rotate", args=[endpoint.pk]), follow=True)
    assert "Only a JSON webhook gets a generated secret" in response.content.decode()
    assert Endpoint.all_objects.get(pk=endpoint.pk).secret == "SECfromdingtalk"
