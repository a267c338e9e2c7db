"""Backups cover saved views: a company restore brings back a purged view with its history;
a person's default is a setting, not data, and is not rolled back."""

import pytest

from backups.dump import take_backup
from backups.models import RestoreRun
from backups.restore import restore_tenant
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.savedviews.models import DefaultView, SavedView
from crm.tenancy.context import activate
from tests.factories import RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_company_restore_brings_back_a_purged_saved_view():
    tenant = make_tenant("north")
    admin = make_member(tenant, "north-admin", role="admin")
    maker = RecordMaker(tenant, admin)
    view = maker.savedview(name="Active accounts", query="status=active", shared=True)
    backup = take_backup()
    with activate(tenant, user=admin, process="tests", reason="restored from backup"):
        recyclebin.delete(SavedView.objects.filter(pk=view.pk), acting_user=admin)
        recyclebin.purge([Item(SavedView, view.pk)], acting_user=admin)
        assert not SavedView.all_objects.filter(pk=view.pk).exists()
        run = restore_tenant(backup, tenant, user=admin)
        assert run.status == RestoreRun.Status.DONE, run.error
        restored = SavedView.objects.get(pk=view.pk)
        assert (restored.name, restored.query, restored.shared, restored.user_id) == (
            "Active accounts",
            "status=active",
            True,
            admin.pk,
        )
        assert SavedView.history.filter(id=view.pk, history_type="+").exists()  # its history came back too
        assert not DefaultView.objects.exists()
