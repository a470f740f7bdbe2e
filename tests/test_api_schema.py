"""The OpenAPI schema, and schemathesis throwing generated requests at the live test server:
whatever a client sends, the API answers with a 2xx/4xx, never a 500."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

# Examples per operation: enough to find type confusion and missing validation, few enough
# that the whole run stays well under a minute on a shared 2-core machine.
EXAMPLES = 20


pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.api_support"]


# Starting an analysis belongs to the runs room's workflow; it is fuzzed in test_api_analyses.py.
schema = schemathesis.pytest.from_fixture("live_api").exclude(method="POST", path="/api/studies/{slug}/analyses/")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    phases=[Phase.generate],  # generated cases only: no coverage sweep, no shrinking
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_generated_request_makes_the_server_fail(case, no_server_error):
    no_server_error(case)


def test_the_schema_and_its_browsable_pages_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in (
        "/api/studies/",
        "/api/studies/{slug}/",
        "/api/studies/{slug}/participants/",
        "/api/studies/{slug}/sorts/",
        "/api/participate/{token}/sort/",
        "/api/studies/{slug}/analyses/",
        "/api/analyses/{run_id}/",
        "/api/studies/{slug}/export/{file}",
        "/api/analyses/{run_id}/export/{file}",
    ):
        assert path in schema["paths"], path
    for page in ("/api/docs/", "/api/redoc/"):
        html = client.get(page).content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        assert "cdn." not in html and "unpkg" not in html
