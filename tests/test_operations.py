"""Operators' side: API keys listed and revoked, and /healthz naming the store that is down."""

from __future__ import annotations

import os

import pytest
from conftest import TEST_REDIS_URL

from adapter import create_app

PHONE = "+14155550100"


def test_a_revoked_key_gets_401_at_once_and_others_keep_working(app):
    runner = app.test_cli_runner()
    billing = runner.invoke(args=["create-api-key", "billing"]).stdout.strip()
    crm = runner.invoke(args=["create-api-key", "crm"]).stdout.strip()
    client = app.test_client()

    def status(key: str) -> int:
        response = client.get(
            f"/api/v1/contacts/{PHONE}", headers={"Authorization": f"Bearer {key}"}
        )
        return response.status_code

    assert status(billing) == 404  # authenticated: there is just no such contact
    result = runner.invoke(args=["revoke-api-key", "billing"])
    assert result.exit_code == 0, result.output
    assert status(billing) == 401
    assert status(crm) == 404

    listing = runner.invoke(args=["list-api-keys"]).stdout
    lines = dict(line.split("\t", 1) for line in listing.strip().splitlines())
    assert "revoked" in lines["billing"]
    assert lines["crm"].endswith("live")
    # The keys themselves are never shown again.
    assert billing not in listing and crm not in listing


def test_revoking_an_unknown_key_says_so(app):
    result = app.test_cli_runner().invoke(args=["revoke-api-key", "nobody"])
    assert result.exit_code != 0
    assert "no API key named 'nobody'" in result.output


def test_healthz_answers_200_with_both_stores_and_the_backlog(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert (body["database"], body["redis"]) == ("ok", "ok")
    assert body["queue_depth"] == 0
    assert body["events_pending"] == 0


def test_healthz_says_503_and_redis_when_redis_is_down(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["redis"]
    assert body["database"] == "ok"
    assert "does not answer" in body["redis"]


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://postgres@127.0.0.1:1/nothing", "sqlite:////nonexistent/dir/x.sqlite3"],
)
def test_healthz_says_503_and_database_when_the_database_is_down(url, tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("TEST_REDIS_URL", TEST_REDIS_URL),
            "SECRET_KEY": "x",
            "SCHEMA_CHECK": False,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["database"]
    assert body["redis"] == "ok"
    assert body["database"].startswith("unavailable")
    app.extensions["adapter.engine"].dispose()
