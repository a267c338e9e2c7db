import pytest

from tests.factories import RecordMaker, make_member, make_tenant


@pytest.fixture
def company():
    """A company with two customers, each with a contact."""
    tenant = make_tenant("company")
    maker = RecordMaker(tenant, make_member(tenant, "company-admin", role="admin"))
    for n in range(2):
        maker.contact(maker.customer(name=f"customer {n}"))
    return tenant


@pytest.fixture(scope="session")
def pitr_base_copy(django_db_setup, django_db_blocker, tmp_path_factory):
    """One verified base backup of the server (pg_basebackup + pg_verifybackup), taken once for the
    session's point-in-time tests: (directory, the earliest moment it recovers to, its first WAL segment).
    Files only: each test's database starts empty, so the `base_backup` fixture records it anew."""
    from backups import basebackup

    directory = tmp_path_factory.mktemp("pitr") / "base"
    with django_db_blocker.unblock():
        copied_at, first_segment = basebackup.copy_verified(directory)
    return directory, copied_at, first_segment


@pytest.fixture
def base_backup(pitr_base_copy):
    """The session's base backup, recorded as a good one in this test's database."""
    from backups.models import BaseBackup

    directory, copied_at, first_segment = pitr_base_copy
    return BaseBackup.objects.create(
        status=BaseBackup.Status.GOOD,
        started_at=copied_at,
        finished_at=copied_at,
        path=str(directory),
        first_segment=first_segment,
    )
