"""A company restore writes new versions: a form opened before it cannot save over what it put back."""

import pytest

from backups.dump import take_backup
from crm.tenancy.context import activate
from customers.models import Customer
from tests.backups.test_restore_edges import restore_company
from tests.factories import RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_company_restore_bumps_the_versions_of_what_it_replaces_and_sets_aside():
    tenant = make_tenant("north")
    admin = make_member(tenant, "north-admin", role="admin")
    maker = RecordMaker(tenant, admin)
    changed, kept = maker.customer(name="Changed"), maker.customer(name="Kept")
    north = {"tenant": tenant, "admin": admin, "backup": take_backup()}
    late = maker.customer(name="Created after the backup")
    with activate(tenant, user=admin):
        Customer.objects.filter(pk=changed.pk).update(name="Renamed after the backup", version=4)

    restore_company(north)

    with activate(tenant, user=admin):
        versions = dict(Customer.all_objects.filter(tenant=tenant).values_list("pk", "version"))
        assert Customer.objects.get(pk=changed.pk).name == "Changed"
    assert versions == {changed.pk: 5, kept.pk: 1, late.pk: 2}
