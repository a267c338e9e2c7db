"""Issue #21's small things: labels a person can tell apart, one date format, searches that find."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers.actions import update_customer
from tests.conftest import login
from tests.factories import make_member


def soft_delete(tenant, user, record):
    with activate(tenant, user=user):
        return recyclebin.delete(type(record).objects.filter(pk=record.pk), acting_user=user)


@pytest.fixture
def deleted_family(tenant, records, admin_user):
    """A customer deleted with two contacts: one deletion of three items."""
    customer = records.customer(name="Family Co")
    records.contact(customer)
    records.contact(customer)
    soft_delete(tenant, admin_user, customer)
    return customer


# -- the recycle bin -----------------------------------------------------------------------------


def test_a_bin_item_says_when_it_will_be_purged(deleted_family, admin_user):
    page = login(admin_user).get(reverse("bin:item", args=["customer", deleted_family.pk])).content.decode()
    purge_on = timezone.localtime(deleted_family.__class__.all_objects.get(pk=deleted_family.pk).deleted_at)
    date = formats.date_format(purge_on + timedelta(days=30), "DATE_FORMAT")
    assert f"Will be purged on {date}" in page
    assert ">Purged<" not in page


def test_an_item_past_its_retention_is_purged_at_the_next_clean_up(deleted_family, admin_user):
    type(deleted_family).all_objects.filter(pk=deleted_family.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    page = login(admin_user).get(reverse("bin:item", args=["customer", deleted_family.pk])).content.decode()
    assert "Will be purged at the next clean-up" in page


def test_restoring_one_item_and_the_whole_deletion_read_differently(deleted_family, admin_user):
    client = login(admin_user)
    for url in (reverse("bin:list"), reverse("bin:item", args=["customer", deleted_family.pk])):
        page = client.get(url).content.decode()
        assert "Restore this item</a>" in page
        assert "Restore the whole deletion (3 items)</a>" in page
        assert ">Restore</a>" not in page and "Restore deletion<" not in page
    assert '<th scope="col">Deleted permanently in</th>' in client.get(reverse("bin:list")).content.decode()


# -- history ------------------------------------------------------------------------------------


def test_the_revert_message_has_one_full_stop_even_after_pm(records, tenant, admin_user):
    customer = records.customer(name="Old name")
    first = customer.history.get()
    # English short times end in "a.m."/"p.m.": the sentence must not put its full stop right after one.
    afternoon = timezone.localtime().replace(hour=15, minute=30) - timedelta(days=1)
    type(first).objects.filter(pk=first.pk).update(history_date=afternoon)
    with activate(tenant, user=admin_user):
        update_customer(customer, name="New name", acting_user=admin_user)
    client = login(admin_user)
    response = client.post(f"/history/customer/{customer.pk}/{first.history_id}/revert/", follow=True)
    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1 and "was reverted to the version of" in messages[0], messages
    assert "p.m." in messages[0] and ".." not in messages[0]


@pytest.mark.parametrize(("role", "sees_origin"), [("admin", True), ("manager", False), ("viewer", False)])
def test_request_ids_and_ip_addresses_show_in_the_history_only_to_admins(records, tenant, role, sees_origin):
    customer = records.customer(name="Traced")
    with activate(tenant, user=records.actor, request_id="req-77", ip="198.51.100.4"):
        update_customer(customer, name="Traced twice", acting_user=records.actor)
    page = login(make_member(tenant, role=role)).get(f"/history/customer/{customer.pk}/").content.decode()
    assert ('data-testid="history-who"' in page) and records.actor.username in page
    assert ("req-77" in page, "198.51.100.4" in page) == (sees_origin, sees_origin)
