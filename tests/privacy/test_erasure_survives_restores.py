"""An erased person never comes back from a backup: real pg_dump backups taken before the
erasure, then real company and customer restores from them; the ledger is applied again."""

import pytest

from backups.dump import take_backup
from backups.models import RestoreRun
from backups.restore import restore_customer, restore_tenant
from crm.records.erasure import holds_value
from crm.tenancy.context import activate
from customers.models import Contact, Customer
from privacy import actions
from tests.factories import RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def erased_after_backup():
    """A company whose customer "Ada" was erased after the only backup; "Bob" was not."""
    tenant = make_tenant("ledger")
    admin = make_member(tenant, "ledger-admin", role="admin")
    maker = RecordMaker(tenant, admin)
    ada, bob = maker.customer(name="Ada Lovelace", email="ada@example.com"), maker.customer(name="Bob")
    maker.contact(ada, name="Ada's assistant")
    backup = take_backup()
    with activate(tenant, user=admin, process="tests"):
        actions.erase(Customer, ada.pk, acting_user=admin)
    return {"tenant": tenant, "admin": admin, "backup": backup, "ada": ada.pk, "bob": bob.pk}


def nothing_of_ada_left(case):
    assert not Customer.all_objects.filter(pk=case["ada"]).exists()
    assert not Contact.all_objects.filter(customer_id=case["ada"]).exists()
    history = Customer.history.model.objects.filter(id=case["ada"])
    assert history.exists(), "the history rows stay, without their values"
    assert not history.filter(holds_value(Customer)).exists()


def test_a_company_restore_does_not_bring_an_erased_person_back(erased_after_backup):
    case = erased_after_backup
    with activate(case["tenant"], user=case["admin"], process="tests"):
        run = restore_tenant(case["backup"], case["tenant"], user=case["admin"])
    assert run.status == RestoreRun.Status.DONE, run.error
    nothing_of_ada_left(case)
    assert Customer.all_objects.filter(pk=case["bob"], deleted_at__isnull=True).exists()


def test_a_customer_restore_of_an_erased_person_leaves_nothing_of_them(erased_after_backup):
    case = erased_after_backup
    with activate(case["tenant"], user=case["admin"], process="tests"):
        run = restore_customer(case["backup"], case["tenant"], case["ada"], user=case["admin"])
    nothing_of_ada_left(case)
    assert run.status in {RestoreRun.Status.DONE, RestoreRun.Status.REFUSED}
