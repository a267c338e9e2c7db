"""Webhooks are in every backup, and a company restore brings them back (secret included) like any
record: what the backup lacks goes to the recycle bin. The delivery log is not rolled back."""

import pytest

from backups.dump import take_backup
from backups.models import RestoreRun
from backups.restore import restore_tenant
from crm.tenancy.context import activate
from tests.factories import RecordMaker, make_member, make_tenant
from webhooks import actions
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_company_restore_brings_the_webhooks_back_as_they_were():
    tenant = make_tenant("restored", name="Restored Ltd")
    admin = make_member(tenant, "restored-admin", role="admin")
    maker = RecordMaker(tenant, admin)
    kept = maker.endpoint(name="Kept", events=["customer.created"])
    secret = Endpoint.all_objects.get(pk=kept.pk).secret
    backup = take_backup()

    with activate(tenant, user=admin):
        actions.update_endpoint(kept, name="Changed", secret="changed-secret", acting_user=admin)
        actions.send_test(kept, acting_user=admin)
    later = maker.endpoint(name="Added after the backup")

    with activate(tenant, user=admin):
        run = restore_tenant(backup, tenant, user=admin)
    assert run.status == RestoreRun.Status.DONE, run.error or run.report
    restored = Endpoint.all_objects.get(pk=kept.pk)
    assert (restored.name, restored.secret, restored.deleted_at) == ("Kept", secret, None)
    assert Endpoint.all_objects.get(pk=later.pk).deleted_at is not None  # set aside in the bin
    assert Delivery.all_objects.filter(endpoint=kept, event="ping").exists()  # the log stays
