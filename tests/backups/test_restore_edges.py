"""Company and customer restores at the edges (issue #14): what the backup lacks is set aside in
the recycle bin, access is never rolled back, deleted users do not break a restore, a failed
restore says why, and the parts that re-apply themselves hear about a finished one."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm
from rest_framework.test import APIClient

from audit.models import AuditEvent
from backups import postgres
from backups.dump import take_backup
from backups.models import RestoreRun
from backups.restore import restore_customer, restore_tenant
from crm.records.permissions import purge_permission
from crm.records.signals import restored_from_backup
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.actions import api_token_for
from crm.tenancy.context import activate
from crm.tenancy.models import ApiToken, Membership, Tenant, token_digest
from customers.models import Contact, Customer, CustomerPurgePermission, CustomerShare
from tests.factories import PASSWORD, RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def north():
    tenant = make_tenant("north")
    admin = make_member(tenant, "north-admin", role="admin")
    maker = RecordMaker(tenant, admin)
    customers = [maker.customer(name=f"North customer {n}") for n in range(2)]
    for customer in customers:
        maker.contact(customer)
    return {"tenant": tenant, "admin": admin, "maker": maker, "customers": customers}


@pytest.fixture
def announced():
    """The restored_from_backup signals sent, with whether the run was committed as done by then."""
    calls = []

    def receiver(sender, tenant, customer_id, run, **kwargs):
        other = postgres.connect(settings.DATABASES["default"]["NAME"])  # sees only committed rows
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT status FROM backups_restorerun WHERE id = %s", [run.pk])
                committed = cursor.fetchone()[0]
        finally:
            other.close()
        calls.append({"tenant": tenant, "customer_id": customer_id, "run": run.pk, "committed": committed})

    restored_from_backup.connect(receiver, dispatch_uid="test-announced")
    yield calls
    restored_from_backup.disconnect(dispatch_uid="test-announced")


def restore_company(north, user=None):
    with activate(north["tenant"], user=user or north["admin"], process="tests", reason="restored from backup"):
        run = restore_tenant(north["backup"], north["tenant"], user=user or north["admin"])
    assert run.status == RestoreRun.Status.DONE, run.error
    return run


# -- what the backup lacks goes to the recycle bin ---------------------------------------


def test_a_company_restore_sets_aside_what_the_backup_lacks_as_one_bin_batch(north, announced):
    tenant, admin, maker = north["tenant"], north["admin"], north["maker"]
    kept, changed = north["customers"]
    north["backup"] = take_backup()
    new_customer = maker.customer(name="Created after the backup")
    new_contact = maker.contact(new_customer)
    late_child = maker.contact(kept)  # a child added since to a customer the backup has
    with activate(tenant, user=admin):
        Customer.objects.filter(pk=changed.pk).update(name="Renamed after the backup")

    run = restore_company(north)

    batch = run.report["set_aside"]["batch"]
    assert run.report["set_aside"]["counts"] == {"customer": 1, "contact": 2}
    with activate(tenant, user=admin):
        set_aside = {(type(row).__name__, row.pk) for row in [*Customer.deleted.all(), *Contact.deleted.all()]}
        assert set_aside == {("Customer", new_customer.pk), ("Contact", new_contact.pk), ("Contact", late_child.pk)}
        for row in [*Customer.deleted.all(), *Contact.deleted.all()]:
            assert (str(row.deletion_batch), row.deleted_by) == (batch, admin)
        assert Customer.objects.get(pk=changed.pk).name == "North customer 1"  # the backup's version
        reason = f"set aside by restore #{run.pk} from backup #{north['backup'].pk}"
        assert Customer.history.filter(id=new_customer.pk, history_type="~", history_change_reason=reason).exists()
        assert Customer.history.filter(
            id=changed.pk, history_change_reason=f"restored from backup #{north['backup'].pk}"
        ).exists()
        assert not Customer.history.filter(id=kept.pk, history_change_reason__startswith="restored").exists()
        event = AuditEvent.objects.get(tenant=tenant, action=AuditEvent.Action.DELETE, batch=batch)
        assert event.count == 3 and event.detail["set_aside_by"] == {"restore": run.pk, "backup": north["backup"].pk}
        assert recyclebin.purge_expired(Tenant.objects.get(pk=tenant.pk), now=timezone.now()) == {}  # not expired
        # A person brings them back from the bin like any deletion.
        assert recyclebin.restore_batch(batch, acting_user=admin) == {"customer": 1, "contact": 2}
    assert announced == [{"tenant": tenant, "customer_id": None, "run": run.pk, "committed": "done"}]


def test_set_aside_records_wait_out_a_legal_hold_like_any_deleted_record(north):
    north["backup"] = take_backup()
    after = north["maker"].customer(name="Created after the backup")
    Tenant.objects.filter(pk=north["tenant"].pk).update(legal_hold=True)

    restore_company(north)

    tenant = Tenant.objects.get(pk=north["tenant"].pk)
    long_after = timezone.now() + timedelta(days=tenant.retention_days + 1)
    assert recyclebin.purge_expired(tenant, now=long_after) is None  # held
    assert Customer.all_objects.filter(pk=after.pk, deleted_at__isnull=False).exists()
    Tenant.objects.filter(pk=tenant.pk).update(legal_hold=False)
    with activate(tenant):
        purged = recyclebin.purge_expired(Tenant.objects.get(pk=tenant.pk), now=long_after)
    assert purged == {"customer": 1}  # then retention purges them, audited, like any bin item


# -- access is never rolled back ---------------------------------------------------------


def _memberships(north):
    """Before the backup: carol is a member and dave a rep; after it: bob joins, carol leaves, dave is promoted."""
    tenant = north["tenant"]
    carol, dave = make_member(tenant, "carol", role="rep"), make_member(tenant, "dave", role="rep")
    yield
    bob = make_member(tenant, "bob", role="manager")
    Membership.objects.filter(tenant=tenant, user=carol).delete()
    Membership.objects.filter(tenant=tenant, user=dave).update(role="manager")
    yield
    roles = dict(Membership.objects.filter(tenant=tenant).values_list("user__username", "role"))
    assert roles == {"north-admin": "admin", bob.username: "manager", "dave": "manager"}


def _api_tokens(north):
    """A token deleted after the backup stays dead; one made after it keeps working."""
    tenant, admin = north["tenant"], north["admin"]
    old = api_token_for(tenant, admin.username, acting_user=None).key
    yield
    ApiToken.objects.filter(digest=token_digest(old)).delete()
    new = api_token_for(tenant, make_member(tenant, "erin", role="viewer").username, acting_user=None).key
    yield
    for key, status in ((old, 401), (new, 200)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get("/api/v1/customers/").status_code == status, key


def _purge_grants(north):
    """A purge grant revoked after the backup stays revoked; one given after it stays."""
    manager = make_member(north["tenant"], "mona", role="manager")
    first, second = north["customers"]
    permission = purge_permission(Customer)
    assign_perm(permission, manager, first)
    yield
    remove_perm(permission, manager, first)
    assign_perm(permission, manager, second)
    yield
    granted = CustomerPurgePermission.objects.filter(user=manager).values_list("content_object_id", flat=True)
    assert list(granted) == [second.pk]


def _customer_shares(north):
    """Sharing a customer is access: a share ended after the backup stays ended, a new one stays."""
    rep = make_member(north["tenant"], "rita", role="rep")
    first, second = north["customers"]
    CustomerShare.all_objects.create(tenant=north["tenant"], customer=first, user=rep)
    yield
    CustomerShare.all_objects.filter(customer=first).delete()
    CustomerShare.all_objects.create(tenant=north["tenant"], customer=second, user=rep)
    yield
    assert list(CustomerShare.all_objects.values_list("customer_id", flat=True)) == [second.pk]


def _company_settings_and_sessions(north):
    """The company's settings and people's sessions are as they are now."""
    yield
    Tenant.objects.filter(pk=north["tenant"].pk).update(retention_days=7, legal_hold=True)
    browser = Client()
    assert browser.login(username=north["admin"].username, password=PASSWORD)
    yield
    assert Tenant.objects.filter(pk=north["tenant"].pk, retention_days=7, legal_hold=True).exists()
    assert browser.get("/customers/").status_code == 200


@pytest.mark.parametrize(
    "access", [_memberships, _api_tokens, _purge_grants, _customer_shares, _company_settings_and_sessions]
)
def test_a_company_restore_brings_back_data_never_access(north, access):
    steps = access(north)
    next(steps)  # as it was at the backup
    north["backup"] = take_backup()
    next(steps)  # changed since
    restore_company(north)
    with pytest.raises(StopIteration):
        next(steps)  # checked: as it is now


# -- users deleted since the backup ------------------------------------------------------


def test_a_company_restore_works_when_users_in_the_backup_are_gone(north):
    rep = make_member(north["tenant"], "ronald", role="rep")
    owned = north["maker"].customer(name="Owned by Ronald", owner=rep)
    north["backup"] = take_backup()
    with activate(north["tenant"], user=north["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=owned.pk), acting_user=north["admin"])
        recyclebin.purge([Item(Customer, owned.pk)], acting_user=north["admin"])
    rep.delete()  # the live references become NULL (SET_NULL)

    run = restore_company(north)

    back = Customer.all_objects.get(pk=owned.pk)
    assert (back.name, back.owner_id, back.deleted_at) == ("Owned by Ronald", None, None)
    assert Customer.history.filter(id=owned.pk, history_type="+").exists()  # its history is there too
    assert run.report["missing_users"] >= 1


def test_a_customer_restore_works_when_its_owner_is_gone(north, announced):
    rep = make_member(north["tenant"], "ronald", role="rep")
    owned = north["maker"].customer(name="Owned by Ronald", owner=rep)
    backup = take_backup()
    with activate(north["tenant"], user=north["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=owned.pk), acting_user=north["admin"])
        recyclebin.purge([Item(Customer, owned.pk)], acting_user=north["admin"])
    rep.delete()  # the live references become NULL (SET_NULL)

    with activate(north["tenant"], user=north["admin"], process="tests"):
        run = restore_customer(backup, north["tenant"], owned.pk, user=north["admin"])

    assert run.status == RestoreRun.Status.DONE, run.error
    assert Customer.all_objects.get(pk=owned.pk).owner_id is None
    assert run.report["missing_users"] == 1
    assert announced == [{"tenant": north["tenant"], "customer_id": owned.pk, "run": run.pk, "committed": "done"}]


# -- a failed restore says why ------------------------------------------------------------


@pytest.fixture
def refusing_constraint():
    """The live database refuses a value the backup holds (a real fault at the database, mid-restore)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE customers_customer ADD CONSTRAINT test_no_north_customer_1 "
            "CHECK (name <> 'North customer 1') NOT VALID"
        )
    yield "test_no_north_customer_1"
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE customers_customer DROP CONSTRAINT test_no_north_customer_1")


def test_a_failed_restore_records_its_reason_and_exits_2_with_one_line(north, refusing_constraint):
    changed = north["customers"][1]
    north["backup"] = take_backup()
    with activate(north["tenant"], user=north["admin"]):
        Customer.objects.filter(pk=changed.pk).update(name="Renamed after the backup")
    after = north["maker"].customer(name="Created after the backup")

    with pytest.raises(CommandError) as error:
        call_command("restore_backup", str(north["backup"].pk), "--tenant", "north")

    message = str(error.value)
    assert error.value.returncode == 2 and "\n" not in message and refusing_constraint in message
    run = RestoreRun.objects.get(scope=RestoreRun.Scope.TENANT)
    assert run.status == RestoreRun.Status.FAILED and refusing_constraint in run.error
    event = AuditEvent.objects.get(tenant=north["tenant"], detail__restore_id=run.pk)
    assert event.action == AuditEvent.Action.RESTORE_FAILED and refusing_constraint in event.detail["error"]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.BACKUP_FAILED).exists()
    # All or nothing: the live company is as it was.
    assert Customer.all_objects.get(pk=changed.pk).name == "Renamed after the backup"
    assert Customer.all_objects.get(pk=after.pk).deleted_at is None
