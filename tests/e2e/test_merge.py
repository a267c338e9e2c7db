"""Merging duplicates in the browser: the duplicates page, the field-by-field choice, the result, Undo."""

import re

import pytest
from playwright.sync_api import expect

from customers.models import Contact, Customer
from tests.e2e.conftest import log_in
from tests.factories import RecordMaker

pytestmark = pytest.mark.browser


def test_pick_a_duplicate_group_choose_values_merge_and_undo(page, tenant, admin, snap):
    maker = RecordMaker(tenant, admin)
    keep = maker.customer(name="Globex Corporation", email="sales@globex.example", phone="")
    dupe = maker.customer(name="Globex Corp.", email="", phone="+1 206 555 0100")
    contact = maker.contact(dupe, name="Hank Scorpio")
    log_in(page, "erin")

    page.goto("/customers/")
    page.get_by_test_id("nav-duplicates").click()
    group = page.get_by_test_id("duplicate-group")
    expect(group).to_contain_text("Globex Corp.")
    group.get_by_test_id("duplicate-merge").click()

    form = page.get_by_test_id("merge-form")
    form.get_by_test_id(f"merge-survivor-{keep.pk}").check()
    form.get_by_test_id(f"merge-field-phone-{dupe.pk}").check()
    snap(page, "merge-choices")
    form.get_by_test_id("merge-confirm").click()

    expect(page).to_have_url(re.compile(r"/customers/merges/\d+/$"))
    expect(page.get_by_test_id("merge-result")).to_contain_text("Globex Corp.")
    assert Customer.all_objects.get(pk=keep.pk).phone == "+1 206 555 0100"
    assert Contact.all_objects.get(pk=contact.pk).customer_id == keep.pk
    assert Customer.all_objects.get(pk=dupe.pk).deleted_at is not None

    page.get_by_test_id("merge-undo").click()
    expect(page.get_by_test_id("merge-undone")).to_be_visible()
    assert Customer.all_objects.get(pk=keep.pk).phone == ""
    assert Contact.all_objects.get(pk=contact.pk).customer_id == dupe.pk
    assert Customer.all_objects.get(pk=dupe.pk).deleted_at is None
