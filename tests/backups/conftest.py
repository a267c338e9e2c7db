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
