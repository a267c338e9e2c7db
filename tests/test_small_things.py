"""Issue #21's small things: labels a person can tell apart, one date format, searches that find."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from tests.conftest import login


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
    type(deleted_family).all_objects.filter(pk=deleted_family.pk).update(
        deleted_at=timezone.now() - timedelta(days=31)
    )
    page = login(admin_user).get(reverse("bin:item", args=["customer", deleted_family.pk])).content.decode()
    assert "Will be purged at the next clean-up" in page


def test_restoring_one_item_and_the_whole_deletion_read_differently(deleted_family, admin_user):
    client = login(admin_user)
    for url in (reverse("bin:list"), reverse("bin:item", args=["customer", deleted_family.pk])):
        page = client.get(url).content.decode()
        assert "Restore this item</a>" in page
        assert "Restore the whole deletion (3 items)</a>" in page
        assert ">Restore</a>" not in page and "Restore deletion<" not in page
    assert "<th scope=\"col\">Deleted permanently in</th>" in client.get(reverse("bin:list")).content.decode()
