"""The contact rules of SPEC §1, through adapter.rules, on the real database."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from adapter import rules
from adapter.db import utcnow
from adapter.errors import DeletionRefused, InvalidStatus
from adapter.models import (
    Contact,
    ContactEvent,
    ContactStatus,
    EventSource,
    Group,
    GroupMembership,
    Message,
)
from adapter.provider import Verdict

STAFF = rules.Cause(source=EventSource.STAFF, actor="ana@support", reason="asked on the phone")
KEYWORD = rules.Cause(source=EventSource.KEYWORD, channel="twilio", reason="STOP")
PROVIDER = rules.Cause(source=EventSource.PROVIDER, channel="twilio", reason="30003")
BULK = rules.Cause(source=EventSource.BULK, actor="ana@support", reason="clean-up")
LEAVING = ["stopped", "blocked", "archived"]


def new_contact(session, phone="+14155550100", groups=("news", "vip"), status="active"):
    contact = rules.get_or_create_contact(session, phone, name="Ann")
    for name in groups:
        group = session.scalar(select(Group).where(Group.name == name)) or Group(name=name)
        contact.groups.append(group)
    session.flush()
    if status != "active":
        rules.set_status(session, contact, status, STAFF)
    session.commit()
    return contact


def add_message(session, contact, direction="in", **fields):
    values = {
        "kind": "inbound" if direction == "in" else "api",
        "channel": "twilio",
        "status": "received" if direction == "in" else "sent",
        "body": "hello",
        **fields,
    }
    message = Message(contact_id=contact.id, direction=direction, **values)
    session.add(message)
    session.flush()
    return message


def events(session, contact):
    return list(
        session.scalars(
            select(ContactEvent)
            .where(ContactEvent.contact_id == contact.id)
            .order_by(ContactEvent.id)
        )
    )


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def fresh(session, contact):
    """The contact as stored, not as this session remembers it."""
    session.expire_all()
    return session.get(Contact, contact.id)


@contextmanager
def statements(session):
    """The SQL statements sent to the database inside the block."""
    sent = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --- statuses and groups ----------------------------------------------------------------------


def test_new_contacts_are_active_valid_and_never_seen(session):
    contact = new_contact(session, groups=())
    stored = fresh(session, contact)
    assert (stored.status, stored.opted_out, stored.phone_valid, stored.last_seen_on) == (
        "active",
        False,
        True,
        None,
    )
    assert events(session, contact) == []


def test_get_or_create_finds_the_existing_contact(session):
    contact = new_contact(session)
    again = rules.get_or_create_contact(session, contact.phone, name="Someone else")
    session.commit()
    assert again.id == contact.id
    assert count(session, Contact) == 1


@pytest.mark.parametrize("target", LEAVING)
def test_entering_stopped_blocked_or_archived_leaves_every_group(session, target):
    contact = new_contact(session)
    event = rules.set_status(session, contact, target, STAFF)
    session.commit()
    stored = fresh(session, contact)
    assert stored.status == target
    assert stored.groups == []
    assert count(session, GroupMembership) == 0
    assert (event.kind, event.old_value, event.new_value) == ("status", "active", target)
    assert sorted(event.groups_left) == ["news", "vip"]
    # The groups themselves stay: only the memberships go.
    assert count(session, Group) == 2


@pytest.mark.parametrize(
    ("start", "undo"),
    [("stopped", rules.reactivate), ("blocked", rules.unblock), ("archived", rules.unarchive)],
)
def test_going_back_to_active_never_re_adds_groups(session, start, undo):
    contact = new_contact(session, status=start)
    event = undo(session, contact, STAFF)
    session.commit()
    stored = fresh(session, contact)
    assert (stored.status, stored.groups) == ("active", [])
    assert count(session, GroupMembership) == 0
    assert (event.old_value, event.new_value, event.groups_left) == (start, "active", None)
    # The event of leaving says which groups staff may want to re-add.
    leaving = events(session, contact)[0]
    assert sorted(leaving.groups_left) == ["news", "vip"]


def test_only_the_contact_changed_leaves_its_groups(session):
    ann = new_contact(session, "+14155550100")
    bob = new_contact(session, "+14155550101")
    rules.block(session, ann, STAFF)
    session.commit()
    assert fresh(session, bob).group_names == ["news", "vip"]


def test_a_second_leaving_status_has_no_groups_left_to_record(session):
    contact = new_contact(session, status="stopped")
    event = rules.block(session, contact, STAFF)
    session.commit()
    assert (event.old_value, event.new_value, event.groups_left) == ("stopped", "blocked", None)


def test_every_change_records_source_actor_reason_channel_and_message(session):
    contact = new_contact(session, groups=())
    inbound = add_message(session, contact, body="STOP")
    cause = rules.Cause(
        source=EventSource.KEYWORD,
        actor=None,
        reason="opt-out keyword",
        channel="twilio",
        message_id=inbound.id,
    )
    rules.record_opt_out(session, contact, cause)
    rules.set_status(session, contact, "active", STAFF)
    rules.mark_phone_invalid(
        session, contact, rules.Cause(source=EventSource.API, actor="crm", reason="bounced")
    )
    session.commit()
    session.expire_all()
    first, second, third = events(session, contact)
    assert (first.kind, first.old_value, first.new_value) == ("status", "active", "stopped")
    assert (first.source, first.actor, first.reason, first.channel, first.message_id) == (
        "keyword",
        None,
        "opt-out keyword",
        "twilio",
        inbound.id,
    )
    assert (second.kind, second.old_value, second.new_value) == ("status", "stopped", "active")
    assert (second.source, second.actor, second.reason, second.channel, second.message_id) == (
        "staff",
        "ana@support",
        "asked on the phone",
        None,
        None,
    )
    assert (third.kind, third.source, third.actor, third.reason) == (
        "phone_valid",
        "api",
        "crm",
        "bounced",
    )
    assert first.created_on <= second.created_on <= third.created_on <= utcnow()
    assert all(e.batch_id is None for e in (first, second, third))


def test_setting_the_same_status_again_records_nothing(session):
    contact = new_contact(session, status="blocked")
    before = len(events(session, contact))
    assert rules.set_status(session, contact, "blocked", STAFF) is None
    session.commit()
    assert len(events(session, contact)) == before


@pytest.mark.parametrize(
    ("start", "opted_out", "target", "expected"),
    [
        ("active", False, "active", None),
        ("stopped", True, "active", "active"),
        ("blocked", False, "active", "active"),
        ("blocked", True, "active", "stopped"),
        ("archived", False, "active", "active"),
        ("archived", True, "active", "stopped"),
        ("active", False, "stopped", "stopped"),
        ("active", False, "blocked", "blocked"),
        ("stopped", True, "archived", "archived"),
        ("blocked", True, "archived", "archived"),
    ],
)
def test_set_status_moves_the_contact_as_staff_and_the_api_ask(
    session, start, opted_out, target, expected
):
    contact = new_contact(session, status=start)
    if opted_out and start != "stopped":
        rules.record_opt_out(session, contact, KEYWORD)
        session.commit()
    event = rules.set_status(session, contact, target, STAFF)
    session.commit()
    stored = fresh(session, contact)
    if expected is None:
        assert event is None
        assert stored.status == start
        return
    assert stored.status == expected
    assert (event.kind, event.old_value, event.new_value, event.source) == (
        "status",
        start,
        expected,
        "staff",
    )
    # Consent follows the status the contact lands in; block and archive keep what it was.
    assert stored.opted_out is {"active": False, "stopped": True}.get(expected, opted_out)


@pytest.mark.parametrize("bad", ["deleted", "", None, 3])
def test_unknown_status_is_a_typed_error_and_changes_nothing(session, bad):
    contact = new_contact(session)
    with pytest.raises(InvalidStatus, match="active, stopped, blocked, archived"):
        rules.set_status(session, contact, bad, STAFF)
    session.commit()
    stored = fresh(session, contact)
    assert (stored.status, stored.group_names) == ("active", ["news", "vip"])
    assert events(session, contact) == []


@pytest.mark.parametrize("name", ["active", "stopped", "blocked", "archived"])
def test_parse_status_accepts_the_four_statuses(name):
    assert rules.parse_status(name) == ContactStatus(name)


@pytest.mark.parametrize(("written", "name"), [("Active", "active"), (" STOPPED ", "stopped")])
def test_parse_status_takes_any_case(written, name):
    assert rules.parse_status(written) == ContactStatus(name)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ("deleted", "unknown status 'deleted'"),
        ("opted_out", "unknown status 'opted_out'"),
        ("", "unknown status ''"),
        (None, "'status' is required"),
        (1, "'status' must be a string"),
    ],
)
def test_parse_status_refuses_anything_else(bad, error):
    with pytest.raises(InvalidStatus, match=error) as caught:
        rules.parse_status(bad)
    assert caught.value.http_status == 400
    assert "active, stopped, blocked, archived" in caught.value.message


# --- consent ----------------------------------------------------------------------------------


def test_opt_out_stops_an_active_contact(session):
    contact = new_contact(session)
    event = rules.record_opt_out(session, contact, KEYWORD)
    session.commit()
    stored = fresh(session, contact)
    assert (stored.status, stored.opted_out, stored.groups) == ("stopped", True, [])
    assert (event.kind, event.new_value, event.source) == ("status", "stopped", "keyword")
    assert sorted(event.groups_left) == ["news", "vip"]


def test_opting_out_again_while_stopped_changes_nothing(session):
    contact = new_contact(session, status="stopped")
    before = len(events(session, contact))
    assert rules.record_opt_out(session, contact, KEYWORD) is None
    session.commit()
    assert fresh(session, contact).status == "stopped"
    assert len(events(session, contact)) == before


def test_opt_in_reactivates_a_stopped_contact_without_groups(session):
    contact = new_contact(session)
    rules.record_opt_out(session, contact, KEYWORD)
    session.commit()
    event = rules.record_opt_in(session, contact, KEYWORD)
    session.commit()
    stored = fresh(session, contact)
    assert (event.kind, event.old_value, event.new_value) == ("status", "stopped", "active")
    assert (stored.status, stored.opted_out, stored.groups) == ("active", False, [])


def test_opt_in_from_an_active_contact_changes_nothing(session):
    contact = new_contact(session)
    assert rules.record_opt_in(session, contact, KEYWORD) is None
    session.commit()
    assert events(session, contact) == []
    assert fresh(session, contact).group_names == ["news", "vip"]


@pytest.mark.parametrize("status", ["blocked", "archived"])
def test_opt_out_while_blocked_or_archived_is_a_consent_event_and_returns_them_stopped(
    session, status
):
    contact = new_contact(session, status=status)
    event = rules.record_opt_out(session, contact, KEYWORD)
    session.commit()
    stored = fresh(session, contact)
    assert (stored.status, stored.opted_out) == (status, True)
    assert (event.kind, event.old_value, event.new_value, event.source, event.channel) == (
        "consent",
        "opted_in",
        "opted_out",
        "keyword",
        "twilio",
    )
    # Again: already recorded, nothing new.
    assert rules.record_opt_out(session, stored, KEYWORD) is None

    undo = rules.unblock if status == "blocked" else rules.unarchive
    returned = undo(session, stored, STAFF)
    session.commit()
    stored = fresh(session, contact)
    assert (stored.status, stored.opted_out) == ("stopped", True)
    assert (returned.old_value, returned.new_value) == (status, "stopped")
    kinds = [(e.kind, e.new_value) for e in events(session, contact)]
    assert kinds == [
        ("status", status),
        ("consent", "opted_out"),
        ("status", "stopped"),
    ]


@pytest.mark.parametrize("status", ["blocked", "archived"])
def test_unblock_or_unarchive_without_an_opt_out_returns_them_active(session, status):
    contact = new_contact(session, status=status)
    undo = rules.unblock if status == "blocked" else rules.unarchive
    event = undo(session, contact, STAFF)
    session.commit()
    assert fresh(session, contact).status == "active"
    assert (event.old_value, event.new_value) == (status, "active")


@pytest.mark.parametrize("status", ["blocked", "archived"])
def test_opt_in_while_blocked_or_archived_cancels_the_recorded_opt_out(session, status):
    contact = new_contact(session, status=status)
    rules.record_opt_out(session, contact, KEYWORD)
    event = rules.record_opt_in(session, contact, KEYWORD)
    session.commit()
    assert fresh(session, contact).status == status
    assert (event.kind, event.old_value, event.new_value) == ("consent", "opted_out", "opted_in")
    # An opt-in with nothing to cancel records nothing.
    assert rules.record_opt_in(session, contact, KEYWORD) is None
    rules.set_status(session, contact, "active", STAFF)
    session.commit()
    assert fresh(session, contact).status == "active"


def test_a_stop_before_blocking_is_remembered_through_the_block(session):
    contact = new_contact(session)
    rules.record_opt_out(session, contact, KEYWORD)
    rules.block(session, contact, STAFF)
    session.commit()
    event = rules.set_status(session, contact, "active", STAFF)
    session.commit()
    assert fresh(session, contact).status == "stopped"
    assert (event.old_value, event.new_value) == ("blocked", "stopped")


def test_unblock_and_unarchive_only_act_on_their_own_status(session):
    contact = new_contact(session, status="stopped")
    active = new_contact(session, "+14155550101")
    assert rules.unblock(session, contact, STAFF) is None
    assert rules.unarchive(session, contact, STAFF) is None
    assert rules.reactivate(session, active, STAFF) is None
    session.commit()
    assert fresh(session, contact).status == "stopped"
    assert fresh(session, active).status == "active"


# --- phone validity ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["active", "stopped", "blocked"])
def test_phone_validity_is_separate_from_status_and_consent(session, status):
    contact = new_contact(session, status=status)
    opted_out = contact.opted_out
    groups = contact.group_names
    event = rules.mark_phone_invalid(session, contact, PROVIDER)
    session.commit()
    stored = fresh(session, contact)
    assert (stored.status, stored.opted_out, stored.phone_valid) == (status, opted_out, False)
    assert stored.group_names == groups
    assert (event.kind, event.old_value, event.new_value, event.source) == (
        "phone_valid",
        "true",
        "false",
        "provider",
    )
    assert rules.mark_phone_invalid(session, stored, PROVIDER) is None

    back = rules.mark_phone_valid(session, stored, STAFF)
    session.commit()
    stored = fresh(session, contact)
    assert (stored.status, stored.opted_out, stored.phone_valid) == (status, opted_out, True)
    assert (back.kind, back.old_value, back.new_value, back.source) == (
        "phone_valid",
        "false",
        "true",
        "staff",
    )
    assert rules.mark_phone_valid(session, stored, STAFF) is None


def test_unreachable_makes_the_phone_invalid_only_on_the_third_in_a_row(session):
    contact = new_contact(session)
    # Each receipt arrives in its own request: the streak must survive between them.
    for _ in range(2):
        stored = rules.lock_contact(session, contact.phone)
        assert rules.record_unreachable(session, stored, PROVIDER) is None
        session.commit()
        session.expire_all()
    assert fresh(session, contact).phone_valid is True
    assert events(session, contact) == []

    stored = rules.lock_contact(session, contact.phone)
    event = rules.record_unreachable(session, stored, PROVIDER)
    session.commit()
    stored = fresh(session, contact)
    assert (stored.phone_valid, stored.status, stored.opted_out) == (False, "active", False)
    assert (event.kind, event.new_value, event.reason) == ("phone_valid", "false", "30003")


def test_a_delivery_restarts_the_unreachable_streak(session):
    contact = new_contact(session)
    rules.record_unreachable(session, contact, PROVIDER)
    rules.record_unreachable(session, contact, PROVIDER)
    rules.record_delivered(contact)
    session.commit()
    stored = fresh(session, contact)
    rules.record_unreachable(session, stored, PROVIDER)
    rules.record_unreachable(session, stored, PROVIDER)
    session.commit()
    assert fresh(session, contact).phone_valid is True
    rules.record_unreachable(session, stored, PROVIDER)
    session.commit()
    assert fresh(session, contact).phone_valid is False


def test_marking_the_phone_valid_restarts_the_unreachable_streak(session):
    contact = new_contact(session)
    rules.record_unreachable(session, contact, PROVIDER)
    rules.record_unreachable(session, contact, PROVIDER)
    # An inbound message from the number proves it reachable.
    assert rules.mark_phone_valid(session, contact, KEYWORD) is None
    rules.record_unreachable(session, contact, PROVIDER)
    rules.record_unreachable(session, contact, PROVIDER)
    session.commit()
    assert fresh(session, contact).phone_valid is True


@pytest.mark.parametrize(
    ("verdict", "status", "phone_valid"),
    [
        (Verdict.OPTED_OUT, "stopped", True),
        (Verdict.PHONE_INVALID, "active", False),
        (Verdict.UNREACHABLE, "active", True),
        (Verdict.NONE, "active", True),
        (Verdict.TRANSIENT, "active", True),
    ],
)
def test_provider_verdicts(session, verdict, status, phone_valid):
    contact = new_contact(session)
    failed = add_message(session, contact, "out", status="failed", error_code="123")
    event = rules.apply_provider_verdict(session, failed, verdict, "error 123")
    session.commit()
    stored = fresh(session, contact)
    assert (stored.status, stored.phone_valid) == (status, phone_valid)
    expects_event = verdict in (Verdict.OPTED_OUT, Verdict.PHONE_INVALID)
    assert len(events(session, contact)) == int(expects_event)
    if expects_event:
        assert (event.source, event.channel, event.message_id, event.reason) == (
            "provider",
            "twilio",
            failed.id,
            "error 123",
        )


@pytest.mark.parametrize("status", ["active", "stopped", "blocked", "archived"])
def test_record_seen_sets_last_seen_whatever_the_status(session, status):
    contact = new_contact(session, status=status)
    when = utcnow() - timedelta(minutes=5)
    rules.record_seen(contact, when)
    session.commit()
    stored = fresh(session, contact)
    assert stored.last_seen_on == when
    assert stored.status == status


def test_record_seen_defaults_to_now(session):
    contact = new_contact(session)
    before = utcnow()
    rules.record_seen(contact)
    session.commit()
    assert before <= fresh(session, contact).last_seen_on <= utcnow()


# --- deletion ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["active", "stopped", "blocked"])
def test_deleting_anything_but_an_archived_contact_is_refused(session, status):
    contact = new_contact(session, status=status)
    add_message(session, contact)
    rules.mark_phone_invalid(session, contact, PROVIDER)
    session.commit()
    memberships = count(session, GroupMembership)
    with pytest.raises(DeletionRefused, match="archive it first") as caught:
        rules.delete_contact(session, contact)
    assert contact.phone in caught.value.message
    assert caught.value.http_status == 409
    session.commit()
    session.expire_all()
    assert session.get(Contact, contact.id) is not None
    assert count(session, Message) == 1
    assert count(session, ContactEvent) == len(events(session, contact)) >= 1
    assert count(session, GroupMembership) == memberships


def test_deleting_an_archived_contact_removes_its_messages_history_and_memberships(session):
    contact = new_contact(session)
    other = new_contact(session, "+14155550101")
    inbound = add_message(session, contact, body="STOP")
    add_message(session, contact, "out", kind="compliance", reply_to_id=inbound.id)
    kept = add_message(session, other)
    cause = rules.Cause(source=EventSource.KEYWORD, channel="twilio", message_id=inbound.id)
    rules.record_opt_out(session, contact, cause)
    rules.archive(session, contact, STAFF)
    rules.block(session, other, STAFF)
    session.commit()
    # Memberships added after archiving go with the contact too.
    news = session.scalar(select(Group.id).where(Group.name == "news"))
    session.add(GroupMembership(contact_id=contact.id, group_id=news))
    session.commit()

    rules.delete_contact(session, contact)
    session.commit()
    session.expire_all()
    assert session.get(Contact, contact.id) is None
    for model in (Message, ContactEvent, GroupMembership):
        assert count(session, model, model.contact_id == contact.id) == 0
    # Everything of the other contact stays, and so do the groups.
    assert session.get(Contact, other.id).status == "blocked"
    assert session.scalars(select(Message.id)).all() == [kept.id]
    assert len(events(session, other)) == 1
    assert count(session, Group) == 2


def test_bulk_delete_removes_only_archived_contacts_with_their_messages(session):
    keep = [
        new_contact(session, "+14155550100", status="stopped"),
        new_contact(session, "+14155550101", status="blocked"),
        new_contact(session, "+14155550109"),
    ]
    gone = [new_contact(session, f"+1415555020{i}", status="archived") for i in range(3)]
    for contact in keep + gone:
        add_message(session, contact)
    session.commit()

    assert rules.bulk_delete_archived(session) == 3
    session.commit()
    session.expire_all()
    left = session.scalars(select(Contact.status).order_by(Contact.id)).all()
    assert left == ["stopped", "blocked", "active"]
    gone_ids = [c.id for c in gone]
    for model in (Message, ContactEvent):
        assert count(session, model, model.contact_id.in_(gone_ids)) == 0
    assert count(session, Message) == 3
    assert count(session, ContactEvent) == 2  # the stop and the block
    assert rules.bulk_delete_archived(session) == 0


def test_bulk_delete_can_be_narrowed(session):
    old = new_contact(session, "+14155550100", status="archived")
    recent = new_contact(session, "+14155550101", status="archived")
    rules.record_seen(old, utcnow() - timedelta(days=400))
    rules.record_seen(recent, utcnow() - timedelta(days=1))
    session.commit()
    where = [rules.dormant_filter(utcnow() - timedelta(days=365))]
    assert rules.bulk_delete_archived(session, where) == 1
    session.commit()
    assert session.scalars(select(Contact.phone)).all() == [recent.phone]


# --- bulk -------------------------------------------------------------------------------------


def test_bulk_archive_of_dormant_contacts_is_traced_as_one_batch(session):
    old = utcnow() - timedelta(days=400)
    recent = utcnow() - timedelta(days=3)
    dormant = new_contact(session, "+14155550100")
    never = new_contact(session, "+14155550101", groups=("news",))
    lonely = new_contact(session, "+14155550104", groups=())
    active = new_contact(session, "+14155550102")
    already = new_contact(session, "+14155550103", status="archived")
    rules.record_seen(dormant, old)
    rules.record_seen(lonely, old)
    rules.record_seen(active, recent)
    rules.record_seen(already, old)
    session.commit()

    cutoff = utcnow() - timedelta(days=365)
    cause = rules.Cause(
        source=EventSource.BULK, actor="ana@support", reason="yearly clean-up", channel="twilio"
    )
    changed = rules.bulk_set_status(session, "archived", cause, [rules.dormant_filter(cutoff)])
    session.commit()

    assert changed == 3
    statuses = dict(session.execute(select(Contact.phone, Contact.status)).all())
    assert statuses == {
        dormant.phone: "archived",
        never.phone: "archived",
        lonely.phone: "archived",
        active.phone: "active",
        already.phone: "archived",
    }
    bulk = session.scalars(select(ContactEvent).where(ContactEvent.source == "bulk")).all()
    assert len(bulk) == 3
    assert len({event.batch_id for event in bulk}) == 1
    assert None not in {event.batch_id for event in bulk}
    assert {(e.contact_id, e.kind, e.old_value, e.new_value) for e in bulk} == {
        (dormant.id, "status", "active", "archived"),
        (never.id, "status", "active", "archived"),
        (lonely.id, "status", "active", "archived"),
    }
    by_contact = {e.contact_id: e for e in bulk}
    assert sorted(by_contact[dormant.id].groups_left) == ["news", "vip"]
    assert by_contact[never.id].groups_left == ["news"]
    assert by_contact[lonely.id].groups_left is None
    assert all(
        (e.actor, e.reason, e.channel, e.message_id)
        == ("ana@support", "yearly clean-up", "twilio", None)
        for e in bulk
    )
    assert all(e.created_on <= utcnow() for e in bulk)
    remaining = session.scalars(select(GroupMembership.contact_id)).all()
    assert set(remaining) == {active.id}


def test_dormant_filter_can_leave_out_never_seen_contacts(session):
    never = new_contact(session, "+14155550100", groups=())
    old = new_contact(session, "+14155550101", groups=())
    rules.record_seen(old, utcnow() - timedelta(days=400))
    session.commit()
    where = [rules.dormant_filter(utcnow() - timedelta(days=365), include_never_seen=False)]
    assert rules.bulk_set_status(session, "archived", BULK, where) == 1
    session.commit()
    assert (fresh(session, never).status, fresh(session, old).status) == ("active", "archived")


def test_dormant_filter_without_a_date_finds_the_never_seen(session):
    never = new_contact(session, "+14155550100", groups=())
    seen = new_contact(session, "+14155550101", groups=())
    rules.record_seen(seen, utcnow() - timedelta(days=4000))
    session.commit()
    assert rules.bulk_set_status(session, "archived", BULK, [rules.dormant_filter(None)]) == 1
    session.commit()
    assert (fresh(session, never).status, fresh(session, seen).status) == ("archived", "active")


def test_bulk_active_returns_opted_out_contacts_as_stopped(session):
    opted_out = new_contact(session, "+14155550100", status="blocked")
    rules.record_opt_out(session, opted_out, KEYWORD)
    plain = new_contact(session, "+14155550101", status="archived")
    stopped = new_contact(session, "+14155550102", status="stopped")
    archived_stop = new_contact(session, "+14155550103", status="stopped")
    rules.archive(session, archived_stop, STAFF)
    untouched = new_contact(session, "+14155550104")
    session.commit()

    changed = rules.bulk_set_status(session, "active", BULK)
    session.commit()
    assert changed == 4
    rows = dict(session.execute(select(Contact.phone, Contact.status)).all())
    assert rows == {
        opted_out.phone: "stopped",
        plain.phone: "active",
        stopped.phone: "active",
        archived_stop.phone: "stopped",
        untouched.phone: "active",
    }
    flags = dict(session.execute(select(Contact.phone, Contact.opted_out)).all())
    assert flags == {
        opted_out.phone: True,
        plain.phone: False,
        stopped.phone: False,
        archived_stop.phone: True,
        untouched.phone: False,
    }
    bulk = session.scalars(select(ContactEvent).where(ContactEvent.source == "bulk")).all()
    assert {(e.contact_id, e.old_value, e.new_value, e.groups_left) for e in bulk} == {
        (opted_out.id, "blocked", "stopped", None),
        (plain.id, "archived", "active", None),
        (stopped.id, "stopped", "active", None),
        (archived_stop.id, "archived", "stopped", None),
    }
    assert len({e.batch_id for e in bulk}) == 1
    # Only the untouched contact still has its groups: none came back.
    assert set(session.scalars(select(GroupMembership.contact_id)).all()) == {untouched.id}


def test_bulk_block_keeps_consent_so_a_bulk_unblock_returns_the_opted_out_stopped(session):
    stopped = new_contact(session, "+14155550100")
    rules.record_opt_out(session, stopped, KEYWORD)
    active = new_contact(session, "+14155550101")
    session.commit()
    assert rules.bulk_set_status(session, "blocked", BULK) == 2
    session.commit()
    assert [fresh(session, c).opted_out for c in (stopped, active)] == [True, False]
    assert rules.bulk_set_status(session, "active", BULK) == 2
    session.commit()
    assert [fresh(session, c).status for c in (stopped, active)] == ["stopped", "active"]


def test_bulk_stop_sets_consent_and_leaves_groups(session):
    contact = new_contact(session, "+14155550100")
    rules.bulk_set_status(session, "stopped", BULK)
    session.commit()
    stored = fresh(session, contact)
    assert (stored.status, stored.opted_out, stored.groups) == ("stopped", True, [])
    (event,) = events(session, contact)
    assert sorted(event.groups_left) == ["news", "vip"]


def test_bulk_only_touches_the_contacts_it_selects(session):
    chosen = new_contact(session, "+14155550100")
    other = new_contact(session, "+14155550101")
    where = [Contact.phone == chosen.phone]
    assert rules.bulk_set_status(session, "blocked", BULK, where) == 1
    session.commit()
    assert fresh(session, chosen).status == "blocked"
    stored = fresh(session, other)
    assert (stored.status, stored.group_names) == ("active", ["news", "vip"])
    assert events(session, other) == []


def test_bulk_is_set_based_not_one_statement_per_contact(session):
    small = [new_contact(session, f"+1415555010{i}").id for i in range(2)]
    large = [new_contact(session, f"+141555502{i:02}").id for i in range(12)]
    costs = []
    for ids in (small, large):
        with statements(session) as sent:
            changed = rules.bulk_set_status(session, "archived", BULK, [Contact.id.in_(ids)])
            session.commit()
        assert changed == len(ids)
        costs.append(len(sent))
    assert costs[0] == costs[1]
    assert count(session, GroupMembership) == 0
    assert count(session, ContactEvent, ContactEvent.source == "bulk") == 14


def test_bulk_with_an_unknown_status_writes_nothing(session):
    contact = new_contact(session)
    with pytest.raises(InvalidStatus):
        rules.bulk_set_status(session, "gone", BULK)
    session.commit()
    assert count(session, ContactEvent) == 0
    assert fresh(session, contact).group_names == ["news", "vip"]


def test_statuses_are_exactly_the_four_of_the_spec():
    assert [s.value for s in ContactStatus] == ["active", "stopped", "blocked", "archived"]


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="SQLite lets one writer at a time: the race cannot happen there",
)
def test_an_opt_out_during_a_bulk_unblock_is_not_lost(app, session):
    """A bulk "active" and a STOP from one of its contacts, at the same moment: the contact must
    end stopped, whichever commits first."""
    contact = new_contact(session, groups=(), status="blocked")
    engine = session.get_bind()
    done = threading.Event()
    pid = {}

    def opt_out():
        with app.app_context():
            other = app.extensions["adapter.write_sessionmaker"]()
            pid["value"] = other.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            rules.record_opt_out(other, rules.lock_contact(other, contact.phone), KEYWORD)
            other.commit()
            other.close()
        done.set()

    def waiting_for_a_lock():
        if "value" not in pid:
            return False
        with engine.connect() as watcher:
            state = watcher.exec_driver_sql(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid["value"],)
            ).scalar()
        return state == "Lock"

    def interleave(_conn, _cursor, statement, *_args):
        # Once the bulk has chosen its contacts, the STOP arrives: let it commit, or wait until
        # it queues behind the bulk's locks.
        if statement.startswith("INSERT INTO contact_events") and not thread.is_alive():
            thread.start()
            deadline = time.monotonic() + 10
            while not done.is_set() and not waiting_for_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)

    thread = threading.Thread(target=opt_out)
    event.listen(engine, "after_cursor_execute", interleave)
    try:
        rules.bulk_set_status(session, "active", BULK)
        session.commit()
    finally:
        event.remove(engine, "after_cursor_execute", interleave)
        thread.join(timeout=10)
    stored = fresh(session, contact)
    assert (stored.status, stored.opted_out) == ("stopped", True)


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="SQLite lets one writer at a time: the race cannot happen there",
)
def test_a_bulk_unblock_during_an_opt_out_does_not_undo_it(app, session):
    """The STOP is being stored when the bulk "active" starts: the contact must end stopped."""
    contact = new_contact(session, groups=(), status="blocked")
    engine = session.get_bind()
    bulk_pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    locked = threading.Event()

    def waiting_for_a_lock(pid):
        with engine.connect() as watcher:
            state = watcher.exec_driver_sql(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).scalar()
        return state == "Lock"

    def opt_out():
        with app.app_context():
            other = app.extensions["adapter.write_sessionmaker"]()
            rules.record_opt_out(other, rules.lock_contact(other, contact.phone), KEYWORD)
            other.flush()
            locked.set()
            deadline = time.monotonic() + 5
            while not waiting_for_a_lock(bulk_pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            other.commit()
            other.close()

    thread = threading.Thread(target=opt_out)
    thread.start()
    try:
        assert locked.wait(timeout=5)
        rules.bulk_set_status(session, "active", BULK)
        session.commit()
    finally:
        thread.join(timeout=10)
    stored = fresh(session, contact)
    assert (stored.status, stored.opted_out) == ("stopped", True)
