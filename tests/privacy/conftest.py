from tests.api.conftest import api, api_as, other_api  # noqa: F401  (the API's token-client fixtures)
