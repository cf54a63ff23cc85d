"""Twilio's messaging webhook end to end: signed requests in, contact state, events, messages,
compliance replies and TwiML out. Real database and Redis."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from support import TWILIO, post_form, post_signed, twilio_signature

from adapter import rules
from adapter.channels import DEFAULT_HELP_REPLY, DEFAULT_OPT_IN_REPLY, DEFAULT_OPT_OUT_REPLY
from adapter.inbound import handle_inbound
from adapter.models import Contact, ContactEvent, Group, Message
from adapter.provider import InboundMessage
from adapter.queue import send_queue

PHONE = "+14155550100"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture
def app(make_app):
    return make_app(**TWILIO)


@pytest.fixture
def enforced(make_app):
    return make_app(**TWILIO, TWILIO_ENFORCES_OPT_OUT="true")


_sids = iter(range(1, 10**6))


def inbound_form(body: str = "hello", sid: str | None = None, **fields: str) -> dict[str, str]:
    return {
        "MessageSid": sid or f"SM{next(_sids):032d}",
        "AccountSid": TWILIO["TWILIO_ACCOUNT_SID"],
        "From": PHONE,
        "To": TWILIO["TWILIO_FROM"],
        "Body": body,
        "NumMedia": "0",
        **fields,
    }


def text_in(app, body: str = "hello", **fields: str):
    response = post_signed(app, "/twilio/inbound", inbound_form(body, **fields))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data(as_text=True) == EMPTY_TWIML
    assert response.mimetype == "application/xml"
    return response


class World:
    """What a user would look at after a webhook: the contact, its events, its messages."""

    def __init__(self, app):
        with app.app_context():
            session = app.extensions["adapter.sessionmaker"]()
            self.contact = session.scalar(select(Contact).where(Contact.phone == PHONE))
            self.groups = self.contact.group_names if self.contact else []
            self.events = list(session.scalars(select(ContactEvent).order_by(ContactEvent.id)))
            messages = list(session.scalars(select(Message).order_by(Message.id)))
            self.inbound = [m for m in messages if m.direction == "in"]
            self.replies = [m for m in messages if m.kind == "compliance"]
            session.close()

    @property
    def status_events(self):
        return [e for e in self.events if e.kind == "status"]


def set_up_contact(app, status: str = "active", groups=("news",)):
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        contact = rules.get_or_create_contact(session, PHONE)
        for name in groups:
            contact.groups.append(Group(name=name))
        session.flush()
        rules.set_status(session, contact, status, rules.Cause(source=rules.EventSource.STAFF))
        session.commit()
        session.close()


def staff_set(app, status: str):
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        contact = rules.lock_contact(session, PHONE)
        rules.set_status(session, contact, status, rules.Cause(source=rules.EventSource.STAFF))
        session.commit()
        session.close()


# --- opt-out -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["STOP", "stop", " Stop. ", "ＳＴＯＰ", "opt out", "stop all", "Unsubscribe", "ARRÊT"]
)
def test_stop_in_all_its_spellings_stops_the_contact_and_confirms_once(app, body):
    set_up_contact(app, groups=("news", "vip"))
    text_in(app, body)

    world = World(app)
    assert world.contact.status == "stopped"
    assert world.groups == []
    event = world.status_events[-1]
    assert (event.old_value, event.new_value, event.source) == ("active", "stopped", "keyword")
    assert sorted(event.groups_left) == ["news", "vip"]
    assert event.message_id == world.inbound[0].id
    assert event.channel == "twilio"
    assert world.inbound[0].body == body
    assert world.inbound[0].status == "received"
    [reply] = world.replies
    assert (reply.body, reply.status, reply.reply_to_id) == (
        DEFAULT_OPT_OUT_REPLY,
        "queued",
        world.inbound[0].id,
    )
    assert send_queue(app).count == 1


def test_a_sentence_with_stop_is_not_a_keyword_but_is_kept(app):
    set_up_contact(app)
    text_in(app, "please stop texting me")
    world = World(app)
    assert world.contact.status == "active"
    assert world.inbound[0].body == "please stop texting me"
    assert world.inbound[0].status == "received"
    assert world.replies == []


def test_twilio_opt_out_type_wins_over_our_matching(app):
    set_up_contact(app)
    text_in(app, "please stop texting me", OptOutType="STOP")
    world = World(app)
    assert world.contact.status == "stopped"
    assert world.status_events[-1].source == "provider"
    assert world.status_events[-1].reason == "the provider's opt-out flag"


def test_stopped_contact_texting_stop_again_stays_stopped(app):
    set_up_contact(app, "stopped")
    events_before = len(World(app).status_events)
    text_in(app, "STOP")
    world = World(app)
    assert world.contact.status == "stopped"
    assert len(world.status_events) == events_before


# --- ordinary text, retries, validity --------------------------------------------------------


def test_first_text_from_a_new_number_creates_an_active_contact(app):
    text_in(app, "hi there")
    world = World(app)
    assert world.contact.status == "active"
    assert world.contact.last_seen_on is not None
    assert world.events == []
    assert world.replies == []
    assert [m.body for m in world.inbound] == ["hi there"]


def test_a_retried_webhook_changes_nothing_the_second_time(app):
    set_up_contact(app)
    form = inbound_form("STOP")
    for _ in range(3):
        response = post_signed(app, "/twilio/inbound", form)
        assert response.status_code == 200
    world = World(app)
    assert len(world.inbound) == 1
    assert len([e for e in world.status_events if e.source == "keyword"]) == 1
    assert len(world.replies) == 1
    assert send_queue(app).count == 1


def test_concurrent_duplicates_store_one_message(app):
    message = InboundMessage(
        channel="twilio",
        sender=PHONE,
        recipient=None,
        text="STOP",
        provider_message_id="SM" + "7" * 32,
    )
    barrier = threading.Barrier(4)
    results, errors = [], []

    def deliver():
        with app.app_context():
            barrier.wait()
            try:
                results.append(handle_inbound(message))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.duplicate for r in results) == [False, True, True, True]
    world = World(app)
    assert len(world.inbound) == 1
    assert len(world.replies) == 1
    assert len(world.status_events) == 1


def test_inbound_sets_an_invalid_phone_valid_again(app):
    set_up_contact(app)
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        contact = rules.lock_contact(session, PHONE)
        rules.mark_phone_invalid(session, contact, rules.Cause(source=rules.EventSource.PROVIDER))
        session.commit()
    text_in(app, "I'm here")
    world = World(app)
    assert world.contact.phone_valid is True
    assert world.events[-1].kind == "phone_valid"
    assert world.events[-1].new_value == "true"


# --- opt-in, reactivation, enforcement ---------------------------------------------------------


def test_stopped_contact_writing_hello_is_reactivated_without_its_groups(app):
    set_up_contact(app, groups=("news",))
    staff_set(app, "stopped")
    text_in(app, "hello")
    world = World(app)
    assert world.contact.status == "active"
    assert world.groups == []
    assert world.status_events[-1].source == "system"
    assert world.replies == []
    assert world.inbound[0].status == "received"


def test_stopped_contact_writing_hello_stays_stopped_when_twilio_enforces(enforced):
    set_up_contact(enforced, "stopped")
    events_before = len(World(enforced).status_events)
    text_in(enforced, "hello")
    world = World(enforced)
    assert world.contact.status == "stopped"
    assert len(world.status_events) == events_before
    # Still stored for the application, like any message from a stopped contact.
    assert [(m.body, m.status) for m in world.inbound] == [("hello", "received")]
    assert world.replies == []


def test_help_from_a_stopped_contact_reactivates_and_is_answered_when_not_enforced(app):
    set_up_contact(app, "stopped")
    text_in(app, "help")
    world = World(app)
    assert world.contact.status == "active"
    assert [r.body for r in world.replies] == [DEFAULT_HELP_REPLY]


def test_help_from_a_stopped_contact_leaves_it_stopped_when_enforced(enforced):
    set_up_contact(enforced, "stopped")
    text_in(enforced, "HELP", OptOutType="HELP")
    world = World(enforced)
    assert world.contact.status == "stopped"
    assert world.replies == []


def test_stop_twilio_did_not_flag_still_stops_when_enforced(enforced):
    # Our matching is broader than Twilio's (full-width letters): the person still opted out.
    set_up_contact(enforced)
    text_in(enforced, "ＳＴＯＰ")
    world = World(enforced)
    assert world.contact.status == "stopped"
    assert world.status_events[-1].source == "keyword"
    assert world.replies == []


def test_opt_in_without_enforcement_reactivates_and_confirms(app):
    set_up_contact(app, "stopped")
    text_in(app, "START")
    world = World(app)
    assert world.contact.status == "active"
    assert world.status_events[-1].source == "keyword"
    assert [r.body for r in world.replies] == [DEFAULT_OPT_IN_REPLY]


@pytest.mark.parametrize(
    ("body", "fields"), [("START", {}), ("yes", {}), ("start", {"OptOutType": "START"})]
)
def test_opt_in_with_enforcement_reactivates_without_our_reply(enforced, body, fields):
    set_up_contact(enforced, "stopped")
    text_in(enforced, body, **fields)
    world = World(enforced)
    assert world.contact.status == "active"
    assert world.replies == []
    assert send_queue(enforced).count == 0


def test_stop_with_enforcement_stops_without_our_reply(enforced):
    set_up_contact(enforced)
    text_in(enforced, "STOP", OptOutType="STOP")
    world = World(enforced)
    assert world.contact.status == "stopped"
    assert world.status_events[-1].source == "provider"
    assert world.replies == []


def test_yes_from_an_active_contact_is_an_ordinary_message(app):
    set_up_contact(app)
    text_in(app, "Yes")
    world = World(app)
    assert world.contact.status == "active"
    assert world.replies == []


def test_help_is_answered_and_changes_nothing(app):
    set_up_contact(app)
    text_in(app, "HELP")
    world = World(app)
    assert world.contact.status == "active"
    assert [r.body for r in world.replies] == [DEFAULT_HELP_REPLY]


def test_help_is_left_to_twilio_when_it_enforces(enforced):
    set_up_contact(enforced)
    text_in(enforced, "help", OptOutType="HELP")
    assert World(enforced).replies == []


def test_reply_texts_and_keywords_are_configurable_per_channel(make_app):
    app = make_app(
        **TWILIO,
        TWILIO_OPT_OUT_KEYWORDS="STOP,ALTO",
        TWILIO_OPT_OUT_REPLY="Baja confirmada. Responda START para volver.",
    )
    set_up_contact(app)
    text_in(app, "Alto")
    world = World(app)
    assert world.contact.status == "stopped"
    assert [r.body for r in world.replies] == ["Baja confirmada. Responda START para volver."]


def test_keyword_and_reply_settings_are_read_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("TWILIO_OPT_IN_KEYWORDS", "START,INICIO")
    monkeypatch.setenv("TWILIO_OPT_IN_REPLY", "Alta confirmada. Responda STOP para salir.")
    monkeypatch.setenv("TWILIO_HELP_KEYWORDS", "HELP,AYUDA")
    app = make_app(**TWILIO)
    set_up_contact(app, "stopped")
    text_in(app, "Inicio")
    text_in(app, "ayuda")
    world = World(app)
    assert world.contact.status == "active"
    assert [r.body for r in world.replies] == [
        "Alta confirmada. Responda STOP para salir.",
        DEFAULT_HELP_REPLY,
    ]


def test_a_blank_keyword_setting_keeps_the_default_list(make_app):
    app = make_app(**TWILIO, TWILIO_OPT_OUT_KEYWORDS=" , ")
    set_up_contact(app)
    text_in(app, "STOP")
    assert World(app).contact.status == "stopped"


# --- blocked and archived ----------------------------------------------------------------------


@pytest.mark.parametrize("status", ["blocked", "archived"])
def test_blocked_or_archived_sender_is_archived_and_triggers_nothing(app, status):
    set_up_contact(app, status)
    text_in(app, "hello")
    text_in(app, "HELP")
    world = World(app)
    assert world.contact.status == status
    assert [m.status for m in world.inbound] == ["archived", "archived"]
    assert world.replies == []
    assert world.contact.last_seen_on is not None


@pytest.mark.parametrize("status", ["blocked", "archived"])
def test_opt_out_from_blocked_or_archived_is_recorded_and_returns_them_stopped(app, status):
    set_up_contact(app, status)
    text_in(app, "STOP")
    world = World(app)
    assert world.contact.status == status
    assert world.replies == []
    consent = world.events[-1]
    assert (consent.kind, consent.new_value, consent.source) == ("consent", "opted_out", "keyword")

    staff_set(app, "active")
    assert World(app).contact.status == "stopped"


def test_opt_in_from_blocked_after_opting_out_is_recorded_and_returns_them_active(app):
    set_up_contact(app, "blocked")
    text_in(app, "STOP")
    text_in(app, "START")
    world = World(app)
    assert world.contact.status == "blocked"
    assert world.replies == []
    assert [(e.kind, e.new_value) for e in world.events if e.kind == "consent"] == [
        ("consent", "opted_out"),
        ("consent", "opted_in"),
    ]
    staff_set(app, "active")
    assert World(app).contact.status == "active"


def test_yes_from_blocked_is_not_an_opt_in(app):
    set_up_contact(app, "blocked")
    text_in(app, "STOP")
    text_in(app, "yes")
    staff_set(app, "active")
    assert World(app).contact.status == "stopped"


# --- signatures --------------------------------------------------------------------------------


def nothing_stored(app) -> bool:
    world = World(app)
    return world.contact is None and world.inbound == []


@pytest.mark.parametrize(
    "signature",
    [{}, {"signature": "bm90IGEgc2lnbmF0dXJl"}, {"signature": ""}],
    ids=["missing", "wrong", "empty"],
)
def test_unsigned_or_wrongly_signed_requests_get_403_and_change_nothing(app, signature):
    response = post_form(app, "/twilio/inbound", inbound_form("STOP"), **signature)
    assert response.status_code == 403
    assert nothing_stored(app)


def test_signed_with_another_token_is_refused(app):
    response = post_signed(app, "/twilio/inbound", inbound_form("STOP"), token="someone-else")
    assert response.status_code == 403
    assert nothing_stored(app)


def test_a_signed_request_with_altered_fields_is_refused(app):
    form = inbound_form("hello")
    signature = twilio_signature("https://adapter.example.com/twilio/inbound", form)
    form["Body"] = "STOP"
    response = post_form(app, "/twilio/inbound", form, signature)
    assert response.status_code == 403
    assert nothing_stored(app)


def test_signature_is_checked_against_public_base_url_not_the_local_url(app):
    # Behind a proxy the app sees http://localhost; Twilio signed the public URL.
    form = inbound_form("hello")
    local = twilio_signature("http://localhost/twilio/inbound", form)
    response = post_form(app, "/twilio/inbound", form, local)
    assert response.status_code == 403
    assert text_in(app).status_code == 200


def test_public_base_url_with_a_trailing_slash_still_verifies(make_app):
    app = make_app(**{**TWILIO, "PUBLIC_BASE_URL": "https://adapter.example.com/"})
    form = inbound_form()
    signature = twilio_signature("https://adapter.example.com/twilio/inbound", form)
    assert post_form(app, "/twilio/inbound", form, signature).status_code == 200


def test_without_public_base_url_the_request_url_is_used(make_app):
    app = make_app(**{**TWILIO, "PUBLIC_BASE_URL": None})
    assert post_signed(app, "/twilio/inbound", inbound_form()).status_code == 200
    assert World(app).contact is not None


def test_without_an_auth_token_webhooks_are_refused(make_app):
    app = make_app()
    response = post_signed(app, "/twilio/inbound", inbound_form("STOP"))
    assert response.status_code == 403
    assert "TWILIO_AUTH_TOKEN" in response.get_data(as_text=True)
    assert nothing_stored(app)


# --- awkward content ---------------------------------------------------------------------------


def test_media_only_message_is_stored_with_its_media(app):
    media = {
        "NumMedia": "2",
        "MediaUrl0": "https://api.twilio.com/media/ME1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": "https://api.twilio.com/media/ME2",
        "MediaContentType1": "image/png",
    }
    text_in(app, "", **media)
    [message] = World(app).inbound
    assert message.body == ""
    assert message.media == [
        "https://api.twilio.com/media/ME1",
        "https://api.twilio.com/media/ME2",
    ]


@pytest.mark.parametrize(
    "body",
    ["😀👍🏽", "مرحبا", "你好，请停止", "Привет", "x" * 5000, "line one\nline two", "nul\x00byte"],
    ids=["emoji", "arabic", "chinese", "cyrillic", "long", "newline", "nul"],
)
def test_unusual_text_is_stored_faithfully(app, body):
    text_in(app, body)
    [message] = World(app).inbound
    assert message.body == body.replace("\x00", "\ufffd")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"MessageSid": ""}, "MessageSid is missing"),
        ({"From": ""}, "From is missing"),
        ({"From": "not-a-number"}, "not a phone number"),
        ({"From": "+1415555"}, "not a valid phone number"),
        ({"NumMedia": "lots"}, "NumMedia"),
        ({"NumMedia": "-1"}, "NumMedia"),
        ({"NumMedia": "99"}, "NumMedia"),
        ({"NumMedia": "²"}, "NumMedia"),
        ({"NumMedia": "1" * 5000}, "NumMedia"),
        ({"From": "whatsapp:+14155550100"}, "not an SMS sender"),
        ({"MessageSid": "SM" + "1" * 100}, "MessageSid must be 1 to 64 letters and digits"),
        ({"MessageSid": "SM" + "1" * 63}, "MessageSid must be 1 to 64 letters and digits"),
        ({"MessageSid": "a\x00b"}, "MessageSid must be 1 to 64 letters and digits"),
    ],
)
def test_malformed_webhooks_are_a_400_that_says_why(app, fields, error):
    form = {**inbound_form("STOP"), **fields}
    response = post_signed(app, "/twilio/inbound", form)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert World(app).inbound == []


# --- status callback over HTTP -------------------------------------------------------------------


def test_signed_status_callback_updates_the_message(app):
    set_up_contact(app)
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        message = Message(
            contact_id=World(app).contact.id,
            direction="out",
            kind="api",
            channel="twilio",
            body="hi",
            status="sent",
            provider_message_id="SM" + "5" * 32,
        )
        session.add(message)
        session.commit()
        message_id = message.id
    path = f"/twilio/status?message_id={message_id}"
    form = {"MessageSid": "SM" + "5" * 32, "MessageStatus": "delivered"}
    unsigned = app.test_client().post(path, data=form)
    assert unsigned.status_code == 403
    response = post_signed(app, path, form)
    assert response.status_code == 204
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        assert session.get(Message, message_id).status == "delivered"
