"""Opt-out requests written as sentences, wired into the product (SPEC §3 *Revocation in a
sentence*): each policy's effect on the contact, its history, the clarification, the event
forwarded to the application, the admin page, and keywords still handled as keywords. Real
database, Redis, signed Twilio webhooks and an HTTP receiver for the forwarded events."""

from __future__ import annotations

import base64
import threading
from datetime import timedelta

import pytest
import responses
from admin_support import logged_in
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from standardwebhooks import Webhook
from support import ACCOUNT_SID, TWILIO, api_caller
from test_app_events import deliver_all, receiver  # noqa: F401 (receiver is a fixture)
from test_twilio_inbound import set_up_contact, staff_set, text_in

from adapter import create_app
from adapter.app_events.models import AppEvent
from adapter.channels import DEFAULT_OPT_OUT_INTENT_REPLY, DEFAULT_OPT_OUT_REPLY
from adapter.db import make_engine
from adapter.errors import ConfigurationError
from adapter.inbound import handle_inbound
from adapter.models import Contact, ContactEvent, Message
from adapter.provider import InboundMessage
from adapter.schema import alembic_config
from adapter.worker import run_worker

PHONE = "+14155550100"
REQUEST = "Please stop texting me!!"
SECRET = "whsec_" + base64.b64encode(b"opt-out-intent-test-secret-32byt").decode()
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def policy_app(make_app, policy: str | None = None, **settings: str):
    if policy is not None:
        settings["TWILIO_OPT_OUT_INTENT"] = policy
    return make_app(**TWILIO, **settings)


def request_from(make_app, policy: str | None, status: str = "active", **settings: str):
    """An app with ``policy``, a contact in ``status``, and REQUEST texted in by it."""
    app = policy_app(make_app, policy, **settings)
    set_up_contact(app, status=status)
    text_in(app, REQUEST)
    return app


class World:
    """What a user would look at afterwards: the contact, its history, its messages."""

    def __init__(self, app):
        with app.app_context():
            session = app.extensions["adapter.sessionmaker"]()
            self.contact = session.scalar(select(Contact).where(Contact.phone == PHONE))
            self.groups = self.contact.group_names
            self.events = list(
                session.scalars(
                    select(ContactEvent)
                    .where(ContactEvent.contact_id == self.contact.id)
                    .order_by(ContactEvent.id)
                )
            )
            messages = list(session.scalars(select(Message).order_by(Message.id)))
            self.inbound = [m for m in messages if m.direction == "in"]
            self.outbound = [m for m in messages if m.direction == "out"]
            self.app_events = list(session.scalars(select(AppEvent).order_by(AppEvent.id)))
            session.close()

    @property
    def person_events(self) -> list[ContactEvent]:
        """The history written by the person's own messages (not by staff setting things up)."""
        return [e for e in self.events if e.source != "staff"]

    @property
    def clarifications(self) -> list[Message]:
        return [m for m in self.outbound if m.kind == "clarification"]

    @property
    def replies(self) -> list[Message]:
        return [m for m in self.outbound if m.kind == "compliance"]


# --- stop -------------------------------------------------------------------------------------


def test_stop_policy_opts_the_contact_out_as_a_keyword_would_with_source_intent(make_app):
    app = policy_app(make_app, "stop")
    set_up_contact(app, groups=("news", "vip"))
    text_in(app, REQUEST)

    world = World(app)
    assert world.contact.status == "stopped"
    assert world.contact.opted_out is True
    assert world.groups == []
    [event] = world.person_events
    assert (event.kind, event.old_value, event.new_value) == ("status", "active", "stopped")
    assert event.source == "intent"
    assert event.reason == "stop texting"
    assert event.message_id == world.inbound[0].id
    assert sorted(event.groups_left) == ["news", "vip"]
    assert world.inbound[0].opt_out_intent is True
    [reply] = world.replies
    assert (reply.body, reply.keyword, reply.reply_to_id) == (
        DEFAULT_OPT_OUT_REPLY,
        "opt_out",
        world.inbound[0].id,
    )
    assert world.clarifications == []


def test_stop_policy_on_a_stopped_contact_keeps_it_stopped_and_records_the_request(make_app):
    app = policy_app(make_app, "stop")
    set_up_contact(app, status="stopped")
    text_in(app, "take me off your list")

    world = World(app)
    assert world.contact.status == "stopped"
    [event] = world.person_events
    assert (event.kind, event.new_value, event.source) == ("intent", "stop", "intent")
    assert event.reason == "take me"


@pytest.mark.parametrize("status", ["blocked", "archived"])
def test_stop_policy_on_a_blocked_or_archived_contact_records_consent_only(make_app, status):
    app = policy_app(make_app, "stop")
    set_up_contact(app, status=status)
    text_in(app, "ne m'écrivez plus")

    world = World(app)
    assert world.contact.status == status
    assert world.contact.opted_out is True
    [event] = world.person_events
    assert (event.kind, event.old_value, event.new_value, event.source) == (
        "consent",
        "opted_in",
        "opted_out",
        "intent",
    )
    assert world.inbound[0].status == "archived"
    assert world.outbound == []
    # Unblocking or unarchiving returns the person as stopped: they asked to stop.
    staff_set(app, "active")
    assert World(app).contact.status == "stopped"


# --- ask --------------------------------------------------------------------------------------


def test_ask_is_the_default_leaves_the_contact_and_sends_one_clarification(make_app):
    app = request_from(make_app, None)  # the default policy

    world = World(app)
    assert world.contact.status == "active"
    assert world.groups == ["news"]
    [event] = world.person_events
    assert (event.kind, event.old_value, event.new_value) == ("intent", None, "ask")
    assert (event.source, event.reason) == ("intent", "stop texting")
    assert event.message_id == world.inbound[0].id
    [clarification] = world.clarifications
    assert clarification.body == DEFAULT_OPT_OUT_INTENT_REPLY
    assert "Reply STOP" in clarification.body
    assert clarification.status == "queued"
    assert clarification.reply_to_id == world.inbound[0].id
    # Ahead of the channel's backlog, as compliance replies are.
    assert clarification.priority == 0
    assert world.replies == []


def test_at_most_one_clarification_per_contact_per_day(make_app):
    app = request_from(make_app, "ask")
    text_in(app, "seriously, no more texts")
    text_in(app, "dejen de enviarme mensajes")

    world = World(app)
    assert len(world.clarifications) == 1
    # Every request is in the history, whether or not it was answered.
    assert [e.new_value for e in world.person_events] == ["ask", "ask", "ask"]
    assert [e.reason for e in world.person_events] == [
        "stop texting",
        "no more texts",
        "dejen de enviarme",
    ]

    # 23 hours later, still not; a day later the person may be asked again.
    age_clarification(app, timedelta(hours=23))
    text_in(app, REQUEST)
    assert len(World(app).clarifications) == 1
    age_clarification(app, timedelta(hours=1, minutes=1))
    text_in(app, REQUEST)
    assert len(World(app).clarifications) == 2


def age_clarification(app, by: timedelta) -> None:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        [earlier] = session.scalars(select(Message).where(Message.kind == "clarification"))
        earlier.created_on -= by
        session.commit()
        session.close()


@pytest.mark.parametrize("status", ["blocked", "archived"])
def test_no_clarification_for_blocked_or_archived_contacts(make_app, status):
    app = request_from(make_app, "ask", status=status)

    world = World(app)
    assert world.contact.status == status
    assert world.contact.opted_out is False
    assert world.outbound == []
    [event] = world.person_events
    assert (event.kind, event.new_value, event.reason) == ("intent", "ask", "stop texting")
    assert world.inbound[0].status == "archived"
    assert world.inbound[0].opt_out_intent is True


def test_ask_never_reactivates_a_stopped_contact_nor_asks_it(make_app):
    app = request_from(make_app, "ask", status="stopped")

    world = World(app)
    assert world.contact.status == "stopped"
    assert world.outbound == []
    [event] = world.person_events
    assert (event.kind, event.new_value) == ("intent", "ask")


@pytest.mark.parametrize("status", ["blocked", "archived", "stopped"])
def test_a_queued_clarification_is_suppressed_if_the_contact_changed_before_sending(
    make_app, status
):
    app = request_from(make_app, "ask")
    if status == "stopped":
        text_in(app, "STOP")
    else:
        staff_set(app, status)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as twilio:
        twilio.post(MESSAGES_URL, json={"sid": "SM" + "9" * 32, "status": "queued"}, status=201)
        run_worker(app, burst=True)
        sent = [call.request.body for call in twilio.calls]

    [clarification] = World(app).clarifications
    assert clarification.status == "suppressed"
    assert clarification.reason == status
    assert not any("stop+all+messages" in body for body in sent)


def test_the_clarification_goes_out_through_the_gate(make_app):
    app = request_from(make_app, "ask")
    with responses.RequestsMock() as twilio:
        twilio.post(MESSAGES_URL, json={"sid": "SM" + "8" * 32, "status": "queued"}, status=201)
        run_worker(app, burst=True)
        [call] = twilio.calls
    assert "Reply+STOP+to+stop+all+messages+from+us" in call.request.body
    [clarification] = World(app).clarifications
    assert clarification.status == "sent"


def test_the_clarification_text_is_a_channel_setting(make_app):
    app = request_from(make_app, "ask", TWILIO_OPT_OUT_INTENT_REPLY="Text STOP to opt out.")
    [clarification] = World(app).clarifications
    assert clarification.body == "Text STOP to opt out."


def test_ask_sends_the_clarification_even_where_the_provider_enforces_opt_out(make_app):
    # The provider answers keywords itself, never sentences.
    app = request_from(make_app, "ask", TWILIO_ENFORCES_OPT_OUT="true")
    assert len(World(app).clarifications) == 1


# --- flag -------------------------------------------------------------------------------------


def test_flag_only_records_the_request(make_app):
    app = request_from(make_app, "flag")

    world = World(app)
    assert world.contact.status == "active"
    assert world.groups == ["news"]
    assert world.outbound == []
    [event] = world.person_events
    assert (event.kind, event.new_value, event.source, event.reason) == (
        "intent",
        "flag",
        "intent",
        "stop texting",
    )
    assert world.inbound[0].opt_out_intent is True


def test_flag_never_reactivates_a_stopped_contact(make_app):
    app = policy_app(make_app, "flag")
    set_up_contact(app, status="stopped")
    text_in(app, "unsubscribe me please")
    assert World(app).contact.status == "stopped"


# --- the event forwarded to the application -----------------------------------------------------


@pytest.mark.parametrize("policy", ["ask", "stop", "flag"])
def test_the_forwarded_message_received_says_opt_out_intent(make_app, receiver, policy):  # noqa: F811
    app = request_from(make_app, policy, APP_WEBHOOK_URL=receiver.url, APP_WEBHOOK_SECRET=SECRET)
    text_in(app, "stop by the store at 5")
    deliver_all(app)

    events = [Webhook(SECRET).verify(r.body, r.headers) for r in receiver.accepted]
    received = [e["data"] for e in events if e["type"] == "message.received"]
    assert [(d["body"], d["opt_out_intent"]) for d in received] == [
        (REQUEST, True),
        ("stop by the store at 5", False),
    ]
    opted_out = [e["data"] for e in events if e["type"] == "contact.opted_out"]
    if policy == "stop":
        [data] = opted_out
        assert (data["source"], data["reason"]) == ("intent", "stop texting")
    else:
        assert opted_out == []


def test_the_api_shows_the_flag_on_the_inbound_message(make_app):
    app = request_from(make_app, "flag", POLL_SETTLE_SECONDS="0")
    text_in(app, "see you at 5")
    api = api_caller(app)
    message_id = World(app).inbound[0].id
    got = api("GET", f"/api/v1/messages/{message_id}").get_json()
    assert got["opt_out_intent"] is True
    polled = api("GET", "/api/v1/messages?direction=inbound").get_json()["messages"]
    assert [(m["body"], m["opt_out_intent"]) for m in polled] == [
        (REQUEST, True),
        ("see you at 5", False),
    ]
    [event] = [
        e
        for e in api("GET", f"/api/v1/contacts/{PHONE}/events").get_json()["events"]
        if e["source"] == "intent"
    ]
    assert (event["kind"], event["new_value"]) == ("intent", "flag")
    assert event["reason"] == "stop texting"


# --- keywords stay keywords --------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["ask", "stop", "flag"])
@pytest.mark.parametrize("body", ["STOP", "Stop.", "unsubscribe", "ARRÊT"])
def test_a_keyword_is_handled_as_a_keyword_never_as_an_intent(make_app, policy, body):
    app = policy_app(make_app, policy)
    set_up_contact(app)
    text_in(app, body)

    world = World(app)
    assert world.contact.status == "stopped"
    [event] = world.person_events
    assert (event.kind, event.source, event.reason) == ("status", "keyword", "opt-out keyword")
    assert world.inbound[0].opt_out_intent is False
    assert [m.kind for m in world.outbound] == ["compliance"]


@pytest.mark.parametrize("policy", ["ask", "stop", "flag"])
def test_help_and_opt_in_keywords_are_not_read_as_requests(make_app, policy):
    app = policy_app(make_app, policy)
    set_up_contact(app, status="stopped")
    text_in(app, "START")
    world = World(app)
    assert world.contact.status == "active"
    assert [e.source for e in world.person_events] == ["keyword"]
    assert world.clarifications == []


def test_the_providers_own_opt_out_flag_wins_over_the_detector(make_app):
    app = policy_app(make_app, "ask")
    set_up_contact(app)
    text_in(app, REQUEST, OptOutType="STOP")
    world = World(app)
    assert world.contact.status == "stopped"
    assert [e.source for e in world.person_events] == ["provider"]
    assert world.clarifications == []
    assert world.inbound[0].opt_out_intent is False


@pytest.mark.parametrize(
    "body", ["stop by the store at 5", "can't stop laughing", "don't stop sending me the scores"]
)
def test_a_sentence_that_merely_contains_a_keyword_is_an_ordinary_message(make_app, body):
    app = policy_app(make_app, "stop")
    set_up_contact(app, status="stopped")
    text_in(app, body)
    world = World(app)
    # Any message but an opt-out brings a stopped contact back (SPEC §1.2).
    assert world.contact.status == "active"
    assert [e.source for e in world.person_events] == ["system"]
    assert world.inbound[0].opt_out_intent is False
    assert world.outbound == []


def test_a_retried_webhook_records_the_request_once(make_app):
    app = policy_app(make_app, "ask")
    set_up_contact(app)
    text_in(app, REQUEST, MessageSid="SM" + "5" * 32)
    text_in(app, REQUEST, MessageSid="SM" + "5" * 32)
    world = World(app)
    assert len(world.inbound) == 1
    assert len(world.person_events) == 1
    assert len(world.clarifications) == 1


def test_requests_arriving_at_once_get_one_clarification(make_app):
    """Four different requests from one person at the same moment: the contact's row lock
    serialises them, so only the first finds no clarification yet."""
    app = policy_app(make_app, "ask")
    set_up_contact(app)
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def deliver(n: int) -> None:
        inbound = InboundMessage(
            channel="twilio",
            sender=PHONE,
            recipient=TWILIO["TWILIO_FROM"],
            text=f"please stop texting me ({n})",
            provider_message_id=f"SM{n:032d}",
        )
        with app.app_context():
            barrier.wait()
            try:
                handle_inbound(inbound)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    world = World(app)
    assert len(world.inbound) == 4
    assert len(world.person_events) == 4
    assert len(world.clarifications) == 1


# --- settings ---------------------------------------------------------------------------------


def test_the_channels_languages_choose_the_grammars(make_app):
    app = policy_app(make_app, "flag", TWILIO_OPT_OUT_INTENT_LANGUAGES="en")
    set_up_contact(app)
    text_in(app, "dejen de enviarme mensajes")
    text_in(app, "no more texts please")
    assert [m.opt_out_intent for m in World(app).inbound] == [False, True]


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("TWILIO_OPT_OUT_INTENT", "maybe", "TWILIO_OPT_OUT_INTENT must be one of ask, stop, flag"),
        ("TWILIO_OPT_OUT_INTENT_LANGUAGES", "en,de", "TWILIO_OPT_OUT_INTENT_LANGUAGES"),
    ],
)
def test_a_bad_setting_stops_the_app_at_start_and_names_it(database_url, setting, value, named):
    with pytest.raises(ConfigurationError, match=named):
        create_app({"DATABASE_URL": database_url, **TWILIO, setting: value})


# --- the admin page ---------------------------------------------------------------------------


def test_the_admin_timeline_shows_the_request_and_warns_while_the_person_is_active(make_app):
    app = policy_app(make_app, "ask")
    set_up_contact(app)
    text_in(app, "<b>please</b> stop texting me")
    client = logged_in(app)
    contact_id = World(app).contact.id

    page = client.get(f"/admin/contacts/{contact_id}").get_data(as_text=True)
    assert "Opt-out request in a sentence (policy ask)" in page
    assert "opt-out request</span>" in page
    assert "which reads as a request to stop getting messages" in page
    assert "Sent (clarification)" in page
    assert "<b>please</b>" not in page
    csv = client.get(f"/admin/contacts/{contact_id}/history.csv").get_data(as_text=True)
    assert "intent,,ask,intent" in csv
    assert csv.splitlines()[0].endswith(",opt_out_intent")

    # Once the person confirms with STOP, the page says they texted it, not the warning.
    text_in(app, "STOP")
    page = client.get(f"/admin/contacts/{contact_id}").get_data(as_text=True)
    assert "which reads as a request to stop getting messages" not in page
    assert "This person texted STOP" in page


def test_the_admin_page_says_a_stop_by_intent_came_from_the_persons_sentence(make_app):
    app = request_from(make_app, "stop")
    page = logged_in(app).get(f"/admin/contacts/{World(app).contact.id}").get_data(as_text=True)
    assert f"This person texted {REQUEST} on" in page


# --- migration 0008 ---------------------------------------------------------------------------


def test_migration_0008_keeps_the_history_and_round_trips(database_url):
    """The real migration, on the suite's own database (SQLite or PostgreSQL): SQLite rebuilds
    contact_events to change its CHECK constraints, and every row must survive that."""
    engine = make_engine(database_url)
    config = alembic_config(database_url)
    try:
        command.downgrade(config, "0007")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO contacts (id, phone, status, opted_out, phone_valid, "
                    "unreachable_count, created_on, modified_on) VALUES (990001, '+14155550177', "
                    "'stopped', true, true, 0, '2026-01-01', '2026-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO contact_events (contact_id, kind, old_value, new_value, source, "
                    "reason, created_on) VALUES (990001, 'status', 'active', 'stopped', "
                    "'keyword', 'opt-out keyword', '2026-01-01')"
                )
            )
        command.upgrade(config, "head")
        with engine.begin() as connection:
            kept = connection.execute(
                text("SELECT kind, source, reason FROM contact_events WHERE contact_id = 990001")
            ).all()
            assert [tuple(row) for row in kept] == [("status", "keyword", "opt-out keyword")]
            connection.execute(
                text(
                    "INSERT INTO contact_events (contact_id, kind, old_value, new_value, source, "
                    "reason, created_on) VALUES (990001, 'intent', NULL, 'ask', 'intent', "
                    "'stop texting', '2026-01-02'), (990001, 'status', 'active', 'stopped', "
                    "'intent', 'no more texts', '2026-01-03')"
                )
            )
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(
                    text(
                        "INSERT INTO contact_events (contact_id, kind, new_value, source, "
                        "created_on) VALUES (990001, 'status', 'x', 'guess', '2026-01-04')"
                    )
                )
        # Downgrading keeps the opt-out the request caused, as the person's own.
        command.downgrade(config, "0007")
        with engine.begin() as connection:
            rows = connection.execute(
                text(
                    "SELECT kind, source, reason FROM contact_events WHERE contact_id = 990001 "
                    "ORDER BY id"
                )
            ).all()
        assert [tuple(row) for row in rows] == [
            ("status", "keyword", "opt-out keyword"),
            ("status", "keyword", "opt-out request in a sentence: no more texts"),
        ]
    finally:
        command.upgrade(config, "head")
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM contacts WHERE id = 990001"))
        engine.dispose()
