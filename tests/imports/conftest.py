"""The API fixtures, for the import API tests."""

from tests.api.conftest import api, api_as, other_api  # noqa: F401
