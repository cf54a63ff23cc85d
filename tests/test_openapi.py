"""The OpenAPI 3.1 document at /api/v1/openapi.json, and schemathesis run against it (issue 10).

The document is made from the models that check every request, so schemathesis holds the API to
it: generated requests, valid and invalid, must never get a 5xx, every answer must have a status
and a body the document lists, a request the document says is invalid must be refused, and a
route that needs a key must refuse one without.

Left out: schemathesis's "schema-valid data is accepted". A document can say that ``to`` is a
string but not which strings are phone numbers in service, nor which channels are configured and
how long a body each takes; those are refused with a 400 the document lists.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from support import api_caller, text_in

from adapter.apikeys import create_api_key

# Examples per route and mode; HYPOTHESIS_PROFILE=deep (as for tests/test_properties.py) runs
# ten times as many.
EXAMPLES = 250 if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else 25


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_openapi_document(app, mode):
    api = api_caller(app)
    # Something to find: a contact in a group, an inbound message to list.
    api("POST", "/api/v1/groups", json={"name": "news"})
    api("POST", "/api/v1/contacts", json={"phone": "+14155550100", "groups": ["news"]})
    text_in(app, "+14155550101", "hello")
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        key = create_api_key(session, "schemathesis")
        session.commit()
        session.close()
    # Told as the document's own security scheme, so that schemathesis knows which requests
    # carry a key and which it made without one on purpose.
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"apiKey": {"bearer": key}}}})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 13

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case):
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        run()


def test_the_document_is_openapi_3_1_and_public(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    # Every route of the API is in it, and nothing else.
    assert set(document["paths"]) == {
        "/api/v1/messages",
        "/api/v1/messages/{message_id}",
        "/api/v1/contacts",
        "/api/v1/contacts/{phone}",
        "/api/v1/contacts/{phone}/events",
        "/api/v1/contacts/{phone}/status",
        "/api/v1/groups",
        "/api/v1/groups/{name}/members/{phone}",
    }
    body = document["components"]["schemas"]["MessageRequest"]
    assert body["required"] == ["body"]
    assert body["properties"]["idempotency_key"]["anyOf"][0]["maxLength"] == 200
