import pytest

from tests.factories import RecordMaker, make_member, make_tenant


@pytest.fixture(autouse=True)
def backup_dir(settings, tmp_path):
    """Each test's own BACKUP_DIR, unencrypted and without a second copy unless the test sets them."""
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_ENCRYPTION_KEY = ""
    settings.BACKUP_ENCRYPTION_KEY_FILE = ""
    settings.BACKUP_COPY_TO = ""
    return settings.BACKUP_DIR


@pytest.fixture
def company():
    """A company with two customers, each with a contact."""
    tenant = make_tenant("company")
    maker = RecordMaker(tenant, make_member(tenant, "company-admin", role="admin"))
    for n in range(2):
        maker.contact(maker.customer(name=f"customer {n}"))
    return tenant
