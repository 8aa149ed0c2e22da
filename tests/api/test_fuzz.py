"""Property-based: whatever a client sends to any operation of the OpenAPI schema, the answer is never a 5xx."""

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from api.main import create_app
from config import Settings

# The schema is read when the module loads; its app is pointed at the test database before each test.
schema_app = create_app(Settings())
# The event streams never end by themselves; tests/api/test_streams.py covers their parameters and errors.
schema = schemathesis.openapi.from_asgi("/openapi.json", schema_app).exclude(tag="events")


@pytest.fixture(autouse=True)
def _on_the_test_database(db, settings):
    schema_app.state.engine = db
    schema_app.state.settings = settings


@schema.parametrize()
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case):
    case.call_and_validate(checks=[not_a_server_error])
