import pytest

from tests.api.conftest import token_client


@pytest.fixture
def api(tenant, admin_user):
    """The admin of `tenant`, through the API."""
    return token_client(tenant, admin_user)
