"""The restore screens: finding a customer of a backup by name, naming it on the confirm and progress
pages, refusing an id the backup lacks before anything is queued, what a restore's audit events say,
who started a backup, durations and phases in words.

Searches read real backups (take_backup), so these tests commit (transaction=True).
"""

import getpass
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from audit.models import AuditEvent, SystemEvent
from backups import listing, presentation
from backups.dump import take_backup
from backups.models import Backup, RestoreRun
from backups.restore import QUEUED, _end
from crm.celery import app
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers.models import Customer
from privacy import actions as privacy
from tests.api.conftest import error_of, token_client
from tests.backups.helpers import KEY, fake_backup, fake_run, queued_tasks
from tests.conftest import login
from tests.factories import RecordMaker, make_member, make_tenant

NAMES = ["Åsa Lindqvist AB", "Harbour Supplies", "harbour view hotel", "Zeta Works"]


@pytest.fixture
def harbour(db):
    tenant = make_tenant("harbour", name="Harbour Group")
    admin = make_member(tenant, "harbour-admin", role="admin")
    maker = RecordMaker(tenant, admin)
    customers = {name: maker.customer(name=name) for name in NAMES}
    other = make_tenant("elsewhere", name="Elsewhere Ltd")
    RecordMaker(other, make_member(other, "elsewhere-admin", role="admin")).customer(name="Harbour Lights (not ours)")
    return {"tenant": tenant, "admin": admin, "maker": maker, "customers": customers}


@pytest.fixture
def queue():
    """This test process's Celery queue, emptied before and after: a restore queued here reaches no later worker."""
    app.control.purge()
    yield lambda: queued_tasks("backups.tasks.run_restore")
    app.control.purge()


def good_backup():
    backup = take_backup()
    assert backup.status == Backup.Status.GOOD, backup.error
    return backup


def matches(response) -> dict[str, str]:
    """{name: where it is now} of the customers a search shows."""
    html = response.content.decode()
    found = re.findall(
        r'data-testid="customer-match" data-id="(\d+)" data-live="(\w+)">.*?data-testid="customer-match-name">([^<]*)<',
        html,
        re.S,
    )
    return {name: live for _id, live, name in found}


def erase(harbour, customer):
    with activate(harbour["tenant"], user=harbour["admin"]):
        privacy.erase(Customer, customer.pk, acting_user=harbour["admin"])


# -- finding the customer by name -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_admin_finds_the_companys_customers_in_the_backup_by_part_of_the_name(harbour, backup_dir):
    customers = harbour["customers"]
    with activate(harbour["tenant"], user=harbour["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=customers["Zeta Works"].pk), acting_user=harbour["admin"])
    backup = good_backup()
    with activate(harbour["tenant"], user=harbour["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=customers["Harbour Supplies"].pk), acting_user=harbour["admin"])
    harbour["maker"].customer(name="Harbour Newcomer")  # after the backup: not in it
    client = login(harbour["admin"])
    url = f"/backups/{backup.pk}/restore-customer/"

    assert client.get(url).status_code == 200  # the page asks first, reading nothing yet
    found = client.get(url, {"q": "HARBOUR"})

    # Case-insensitive, anywhere in the name; this company's only; where each one is now.
    assert matches(found) == {"Harbour Supplies": "bin", "harbour view hotel": "live"}
    assert f"#{customers['Harbour Supplies'].pk}" in found.content.decode()
    assert matches(client.get(url, {"q": "åsa"})) == {"Åsa Lindqvist AB": "live"}
    zeta = client.get(url, {"q": "eta wo"})
    assert matches(zeta) == {"Zeta Works": "bin"} and 'data-testid="customer-match-deleted"' in zeta.content.decode()
    assert matches(client.get(url, {"q": f"#{customers['Zeta Works'].pk}"})) == {"Zeta Works": "bin"}
    assert len(matches(client.get(url, {"q": ""}))) == len(NAMES)
    in_bin = client.get(url, {"customer": customers["Harbour Supplies"].pk}).content.decode()
    assert "Harbour Supplies is in the recycle bin: restore it from there instead" in in_bin
    live = client.get(url, {"customer": customers["harbour view hotel"].pk}).content.decode()
    assert "harbour view hotel exists in the live data, so this restore would be refused" in live
    nothing = client.get(url, {"q": "Lights"})
    assert matches(nothing) == {} and 'data-testid="customer-no-match"' in nothing.content.decode()

    # Typing runs the search again through htmx: the results alone, from the cache, not the backup again
    # (which now could not be read).
    Path(backup.path).write_bytes(b"no longer a dump")
    typed = client.get(url, {"q": "view"}, HTTP_HX_REQUEST="true")
    assert typed.status_code == 200 and "<html" not in typed.content.decode()
    assert matches(typed) == {"harbour view hotel": "live"}
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_erased_person_is_never_found_nor_restored(harbour, backup_dir):
    backup = good_backup()
    client = login(harbour["admin"])
    url = f"/backups/{backup.pk}/restore-customer/"
    hotel = harbour["customers"]["harbour view hotel"]
    assert "harbour view hotel" in matches(client.get(url, {"q": "harbour"}))  # the listing is cached now

    erase(harbour, hotel)

    assert matches(client.get(url, {"q": "harbour"})) == {"Harbour Supplies": "live"}
    assert matches(client.get(url, {"q": f"#{hotel.pk}"})) == {}
    refused = client.post(url, {"customer": str(hotel.pk), "confirm": "1"})
    assert refused.status_code == 200 and "erased at a person" in refused.content.decode()
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_encrypted_backups_keep_no_name_in_clear_beside_the_dump_nor_in_the_cache(harbour, backup_dir, settings):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    backup = good_backup()

    found, total = listing.search(backup, harbour["tenant"], "zeta")

    assert [customer.name for customer in found] == ["Zeta Works"] and total == 1
    on_disk = b"".join(path.read_bytes() for path in Path(backup_dir).iterdir())
    cached = cache.get(f"backups:customers:{backup.pk}:{backup.sha256}:{harbour['tenant'].pk}")
    for name in NAMES:
        assert name.encode() not in on_disk and name.encode() not in cached


# -- refusing an id the backup lacks, naming the customer ----------------------------


@pytest.mark.django_db(transaction=True)
def test_an_id_the_backup_lacks_is_refused_before_anything_is_queued(harbour, backup_dir, queue):
    backup = good_backup()
    newcomer = harbour["maker"].customer(name="Harbour Newcomer")  # after the backup
    elsewhere = Customer.all_objects.filter(name="Harbour Lights (not ours)").get()
    client = login(harbour["admin"])
    url = f"/backups/{backup.pk}/restore-customer/"
    api = token_client(harbour["tenant"], harbour["admin"])

    for missing in (newcomer.pk, elsewhere.pk, 987654321):
        page = client.post(url, {"customer": str(missing), "confirm": "1"})
        assert page.status_code == 200 and 'data-testid="customer-error"' in page.content.decode()
        assert f"holds no customer #{missing}" in page.content.decode()
        assert 'data-testid="customer-error"' in client.get(url, {"customer": str(missing)}).content.decode()
        error = error_of(
            api.post(
                f"/api/v1/backups/{backup.pk}/restore/", {"scope": "customer", "customer": missing}, format="json"
            ),
            400,
        )
        assert set(error["fields"]) == {"customer"}
    with pytest.raises(CommandError, match=f"holds no customer #{newcomer.pk}") as command_line:
        call_command("restore_backup", backup.pk, "--tenant", "harbour", "--customer", newcomer.pk)
    assert command_line.value.returncode == 2
    assert RestoreRun.objects.count() == 0 and queue() == []


@pytest.mark.django_db(transaction=True)
def test_the_confirm_and_progress_pages_name_the_customer(harbour, backup_dir, queue):
    supplies = harbour["customers"]["Harbour Supplies"]
    backup = good_backup()
    with activate(harbour["tenant"], user=harbour["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=supplies.pk), acting_user=harbour["admin"])
        recyclebin.purge([recyclebin.Item(Customer, supplies.pk)], acting_user=harbour["admin"])
    client = login(harbour["admin"])
    url = f"/backups/{backup.pk}/restore-customer/"

    api = token_client(harbour["tenant"], harbour["admin"])
    found = api.get(f"/api/v1/backups/{backup.pk}/customers/", {"q": "supplies"}).json()
    assert found == {
        "count": 1,
        "results": [{"id": supplies.pk, "name": "Harbour Supplies", "deleted": False, "live": "absent"}],
    }
    assert error_of(api.get(f"/api/v1/backups/{backup.pk}/customers/", {"q": "x" * 201}), 400)["fields"].keys() == {"q"}

    confirm = client.get(url, {"customer": str(supplies.pk)})

    statement = re.search(r'data-testid="confirm-statement">([^<]*)<', confirm.content.decode()).group(1)
    assert statement.startswith(f"Harbour Supplies (customer #{supplies.pk}) will be brought back as it was on")
    assert "Restore Harbour Supplies" in confirm.content.decode()
    assert 'data-testid="customer-live"' not in confirm.content.decode()  # purged: nothing in the way

    started = client.post(url, {"customer": str(supplies.pk), "confirm": "1"}, follow=True)

    run = RestoreRun.objects.get()
    assert (run.phase, run.target) == (QUEUED, str(supplies.pk))  # queued: no worker in this test
    assert [task["args"] for task in queue()] == [[run.pk]]
    html = started.content.decode()
    assert f"Harbour Supplies (customer #{supplies.pk})" in html
    assert re.search(r'data-testid="restore-customer">Harbour Supplies #\d+<', html)
    assert "has started" not in html  # the progress card says where it is; no message goes stale
    assert "step 1 of 5: waiting for a worker to start" in html
    assert api.get(f"/api/v1/backups/restores/{run.pk}/").json()["customer_name"] == "Harbour Supplies"


# -- audit events of restores ---------------------------------------------------------


@pytest.mark.django_db
def test_a_restores_audit_events_name_the_restore_never_a_backup_failing(harbour, backup_dir):
    backup = fake_backup(backup_dir)
    run = fake_run(backup, harbour["tenant"], phase="checking for conflicts", scope="customer", target="5")

    with activate(harbour["tenant"], process="celery:restore"):
        _end(run, RestoreRun.Status.FAILED, error="pg_restore exited with 1: out of disk")
    events = AuditEvent.objects.filter(tenant=harbour["tenant"], object_type="restorerun")
    assert [(event.action, event.object_id) for event in events] == [(AuditEvent.Action.RESTORE_FAILED, str(run.pk))]
    assert events.get().detail["backup"] == backup.pk
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.BACKUP_FAILED).exists()

    log = login(harbour["admin"]).get("/audit/").content.decode()
    row = re.search(r'data-action="restore_failed">(.*?)</tr>', log, re.S).group(1)
    assert "restore failed" in row and f"Restore #{run.pk}" in row and "Backup #" not in row


# -- who started a backup, durations, phases ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_backup_from_the_command_line_shows_who_started_it(harbour, backup_dir):
    operator = make_member(harbour["tenant"], "operator", role="viewer")
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])

    call_command("backup_now")
    call_command("backup_now", "--user", "operator")

    plain, asked = Backup.objects.order_by("pk")
    account = getpass.getuser()
    assert (plain.os_user, plain.created_by, asked.os_user, asked.created_by) == (account, None, account, operator)
    page = login(operator).get("/backups/").content.decode()
    shown = re.findall(r'data-testid="backup-started-by">([^<]*)<', page)
    assert shown == [f"operator · command line (OS user {account})", f"command line (OS user {account})"]
    created = [event.actor for event in SystemEvent.objects.filter(action="backup_created").order_by("seq")]
    assert created == [None, operator]
    with pytest.raises(CommandError, match="Unknown user: nobody") as unknown:
        call_command("backup_now", "--user", "nobody")
    assert unknown.value.returncode == 2
    with pytest.raises(CommandError, match="Only staff") as refused:
        call_command("backup_now", "--user", "harbour-admin")
    assert refused.value.returncode == 2 and Backup.objects.count() == 2


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.004, "0.1 s"),
        (0.06, "0.1 s"),
        (0.14, "0.1 s"),
        (3.26, "3.3 s"),
        (9.96, "10 s"),
        (42.4, "42 s"),
        (59.7, "1 min 0 s"),
        (75.2, "1 min 15 s"),
        (3 * 3600 + 125, "3 h 2 min"),
    ],
)
def test_durations_read_as_a_person_would_say_them(seconds, shown):
    with translation.override("en"):
        assert presentation.human_duration(seconds) == shown


@pytest.mark.django_db
def test_progress_pages_say_each_phase_in_words_and_how_far_it_has_got(harbour, backup_dir):
    source = "".join(path.read_text() for path in Path(presentation.__file__).parent.glob("*.py"))
    written = set(re.findall(r'_(?:phase|progress)\((?:run|backup), "([^"]+)"\)', source)) | {QUEUED, "starting"}
    assert written <= set(presentation.PHASES)  # every phase the code records has its words...
    po = (Path(__file__).parents[2] / "locale/zh_Hans/LC_MESSAGES/django.po").read_text()
    for words in presentation.PHASES.values():  # ...in Chinese too
        assert re.search(rf'^msgid "{re.escape(str(words))}"\nmsgstr "[^"]+"', po, re.M), words
    backup = fake_backup(backup_dir)
    run = fake_run(backup, harbour["tenant"], phase="checking for conflicts", scope="customer", target="5")

    html = login(harbour["admin"]).get(f"/backups/restores/{run.pk}/").content.decode()

    phase = re.search(r'data-testid="restore-phase">([^<]*)<', html).group(1)
    assert phase == "step 4 of 5: checking for conflicts with the live data"
