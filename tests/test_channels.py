"""Several providers at once: each outbound message takes the request's "channel" or
DEFAULT_CHANNEL, inbound on any channel reaches the same contacts, and each channel keeps its
own keywords and answers on the channel the keyword came in on."""

from __future__ import annotations

import json

import pytest
import responses
from provider_rows import ROWS
from sqlalchemy import select
from support import api_caller

from adapter import create_app
from adapter.errors import ConfigurationError
from adapter.models import Contact, Message
from adapter.worker import run_worker
from providers import all_providers

PHONE = "+14155550100"
TWILIO, TELNYX = ROWS["twilio"], ROWS["telnyx"]


def settings(*rows, **extra) -> dict:
    """The settings of several providers at once (they share PUBLIC_BASE_URL)."""
    merged: dict = {}
    for row in rows:
        merged.update(row.config)
    return {**merged, **extra}


@pytest.fixture
def app(make_app):
    return make_app(**settings(TWILIO, TELNYX))


@pytest.fixture
def api_mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        status, payload = TELNYX.accepted(TELNYX.provider_id(1))
        mock.post(TELNYX.api_url, json=payload, status=status)
        status, payload = TWILIO.accepted(TWILIO.provider_id(1))
        mock.post(TWILIO.api_url, json=payload, status=status)
        yield mock


_callers: dict = {}


def post_message(app, **fields):
    if app not in _callers:
        _callers[app] = api_caller(app)
    return _callers[app]("POST", "/api/v1/messages", json={"to": PHONE, "body": "hi", **fields})


def messages(app) -> list[Message]:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        found = list(session.scalars(select(Message).order_by(Message.id)))
        session.close()
        return found


def contacts(app) -> list[Contact]:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        found = list(session.scalars(select(Contact)))
        session.close()
        return found


def text_in(app, row, text: str, n: int) -> None:
    hook = row.sign(row.inbound(PHONE, text, n))
    response = app.test_client().post(hook.path, data=hook.body, headers=hook.headers)
    assert response.status_code < 300, response.get_data(as_text=True)


def test_the_request_names_the_channel_and_the_message_goes_through_it(app, api_mock):
    response = post_message(app, channel="telnyx")
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["channel"] == "telnyx"
    run_worker(app, burst=True)
    [call] = api_mock.calls
    assert call.request.url == TELNYX.api_url
    assert json.loads(call.request.body)["webhook_url"].startswith(
        "https://adapter.example.com/telnyx/status?"
    )


def test_without_a_channel_the_first_configured_provider_is_used(app, api_mock):
    assert post_message(app).get_json()["channel"] == "twilio"


def test_default_channel_picks_the_channel_of_requests_that_name_none(make_app, api_mock):
    app = make_app(**settings(TWILIO, TELNYX, DEFAULT_CHANNEL="telnyx"))
    assert post_message(app).get_json()["channel"] == "telnyx"
    assert post_message(app, channel="twilio").get_json()["channel"] == "twilio"


@pytest.mark.parametrize("channel", ["nope", "plivo", "dev", 7, ""])
def test_a_channel_that_is_not_configured_is_refused_and_nothing_is_stored(app, channel):
    response = post_message(app, channel=channel)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "'channel'" in error
    # Named channels are answered with the ones there are; a number is not a channel's name.
    assert ("telnyx" in error) if isinstance(channel, str) else ("must be a string" in error)
    assert messages(app) == []


def test_default_channel_must_name_a_configured_provider(make_app):
    with pytest.raises(ConfigurationError, match="DEFAULT_CHANNEL"):
        make_app(**TWILIO.config, DEFAULT_CHANNEL="telnyx")


def test_the_body_limit_is_the_chosen_channels(make_app):
    app = make_app(**settings(TWILIO, ROWS["vonage"]))
    long = "x" * 1200
    assert post_message(app, body=long, channel="twilio").status_code == 202
    response = post_message(app, body=long, channel="vonage")
    assert response.status_code == 400
    assert "vonage takes at most 1000" in response.get_json()["error"]


def test_an_idempotency_key_reused_on_another_channel_is_a_conflict(app):
    assert post_message(app, idempotency_key="k1", channel="twilio").status_code == 202
    assert post_message(app, idempotency_key="k1", channel="twilio").status_code == 202
    assert post_message(app, idempotency_key="k1", channel="telnyx").status_code == 409
    assert len(messages(app)) == 1


def test_inbound_on_any_channel_reaches_the_same_contact_and_replies_on_its_own(app):
    text_in(app, TELNYX, "STOP", 1)
    [person] = contacts(app)
    assert person.status == "stopped"
    text_in(app, TWILIO, "START", 2)
    assert [c.status for c in contacts(app)] == ["active"]
    replies = [m for m in messages(app) if m.direction == "out"]
    # Each confirmation goes back on the channel its keyword came in on.
    assert [(m.channel, m.keyword) for m in replies] == [
        ("telnyx", "opt_out"),
        ("twilio", "opt_in"),
    ]


def test_each_channel_has_its_own_keywords(make_app):
    app = make_app(**settings(TWILIO, TELNYX, TELNYX_OPT_OUT_KEYWORDS="STOP,ALTO"))
    text_in(app, TWILIO, "ALTO", 1)
    assert contacts(app)[0].status == "active"
    text_in(app, TELNYX, "ALTO", 2)
    assert contacts(app)[0].status == "stopped"


@pytest.mark.parametrize(
    "provider", [p for p in all_providers() if p.required_settings], ids=lambda p: p.name
)
def test_a_half_configured_provider_stops_the_app_naming_what_is_missing(
    database_url, monkeypatch, provider
):
    for key in provider.required_settings:
        monkeypatch.delenv(key, raising=False)
    first, *rest = provider.required_settings
    with pytest.raises(ConfigurationError) as refused:
        create_app({"DATABASE_URL": database_url, "TESTING": True, first: "set"})
    assert all(name in str(refused.value) for name in rest)


def test_a_group_send_takes_the_named_channel(app):
    post_message(app)  # creates the API key and the contact
    call = _callers[app]
    assert call("POST", "/api/v1/groups", json={"name": "news"}).status_code == 201
    assert call("PUT", f"/api/v1/groups/news/members/{PHONE}").status_code in (200, 201, 204)
    response = call(
        "POST", "/api/v1/messages", json={"group": "news", "body": "hi", "channel": "telnyx"}
    )
    assert response.status_code == 202, response.get_json()
    [sent] = response.get_json()["messages"]
    assert [m.channel for m in messages(app) if m.id == sent["id"]] == ["telnyx"]
