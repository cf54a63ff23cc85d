"""The contact rules of SPEC §1, through adapter.rules, on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

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


def events(session, contact):
    return list(
        session.scalars(
            select(ContactEvent)
            .where(ContactEvent.contact_id == contact.id)
            .order_by(ContactEvent.id)
        )
    )


def memberships(session) -> int:
    return session.scalar(select(func.count()).select_from(GroupMembership))


# --- statuses and groups ----------------------------------------------------------------------


def test_new_contacts_are_active_valid_and_never_seen(session):
    contact = new_contact(session, groups=())
    assert (contact.status, contact.phone_valid, contact.last_seen_on) == ("active", True, None)


@pytest.mark.parametrize("target", LEAVING)
def test_entering_stopped_blocked_or_archived_leaves_every_group(session, target):
    contact = new_contact(session)
    event = rules.set_status(session, contact, target, STAFF)
    session.commit()
    session.refresh(contact)
    assert contact.status == target
    assert contact.groups == []
    assert memberships(session) == 0
    assert sorted(event.groups_left) == ["news", "vip"]
    # The groups themselves stay: only the membership goes.
    assert session.scalar(select(func.count()).select_from(Group)) == 2


@pytest.mark.parametrize("start", LEAVING)
def test_going_back_to_active_never_re_adds_groups(session, start):
    contact = new_contact(session, status=start)
    event = rules.set_status(session, contact, "active", STAFF)
    session.commit()
    session.refresh(contact)
    assert (contact.status, contact.groups) == ("active", [])
    assert event.groups_left is None


def test_only_the_contact_changed_leaves_its_groups(session):
    ann = new_contact(session, "+14155550100")
    bob = new_contact(session, "+14155550101")
    rules.block(session, ann, STAFF)
    session.commit()
    session.refresh(bob)
    assert bob.group_names == ["news", "vip"]


def test_every_change_records_source_actor_reason_channel_and_message(session):
    contact = new_contact(session, groups=())
    inbound = Message(
        contact_id=contact.id, direction="in", kind="inbound", channel="twilio", status="received"
    )
    session.add(inbound)
    session.flush()
    cause = rules.Cause(
        source=EventSource.KEYWORD,
        actor=None,
        reason="opt-out keyword",
        channel="twilio",
        message_id=inbound.id,
    )
    rules.record_opt_out(session, contact, cause)
    rules.set_status(session, contact, "active", STAFF)
    session.commit()
    first, second = events(session, contact)
    assert (first.kind, first.old_value, first.new_value) == ("status", "active", "stopped")
    assert (first.source, first.reason, first.channel, first.message_id) == (
        "keyword",
        "opt-out keyword",
        "twilio",
        inbound.id,
    )
    assert (second.source, second.actor, second.reason) == (
        "staff",
        "ana@support",
        "asked on the phone",
    )
    assert first.created_on <= second.created_on


def test_setting_the_same_status_again_records_nothing(session):
    contact = new_contact(session, status="blocked")
    before = len(events(session, contact))
    assert rules.set_status(session, contact, "blocked", STAFF) is None
    session.commit()
    assert len(events(session, contact)) == before


@pytest.mark.parametrize("bad", ["deleted", "ACTIVE ", "", None, 3])
def test_unknown_status_is_a_typed_error_and_changes_nothing(session, bad):
    contact = new_contact(session)
    with pytest.raises(InvalidStatus, match="active, stopped, blocked, archived"):
        rules.set_status(session, contact, bad, STAFF)
    session.commit()
    session.refresh(contact)
    assert (contact.status, contact.group_names) == ("active", ["news", "vip"])
    assert events(session, contact) == []


# --- consent ----------------------------------------------------------------------------------


def test_opt_out_stops_an_active_contact(session):
    contact = new_contact(session)
    rules.record_opt_out(session, contact, KEYWORD)
    session.commit()
    assert (contact.status, contact.opted_out, contact.groups) == ("stopped", True, [])


def test_opt_in_reactivates_a_stopped_contact_without_groups(session):
    contact = new_contact(session)
    rules.record_opt_out(session, contact, KEYWORD)
    event = rules.record_opt_in(session, contact, KEYWORD)
    session.commit()
    session.refresh(contact)
    assert (event.old_value, event.new_value) == ("stopped", "active")
    assert (contact.status, contact.opted_out, contact.groups) == ("active", False, [])


def test_opt_in_from_an_active_contact_changes_nothing(session):
    contact = new_contact(session)
    assert rules.record_opt_in(session, contact, KEYWORD) is None


@pytest.mark.parametrize("status", ["blocked", "archived"])
def test_opt_out_while_blocked_or_archived_is_a_consent_event_and_returns_them_stopped(
    session, status
):
    contact = new_contact(session, status=status)
    event = rules.record_opt_out(session, contact, KEYWORD)
    session.commit()
    assert contact.status == status
    assert (event.kind, event.old_value, event.new_value, event.source) == (
        "consent",
        "opted_in",
        "opted_out",
        "keyword",
    )
    # Again: already recorded, nothing new.
    assert rules.record_opt_out(session, contact, KEYWORD) is None

    undo = rules.unblock if status == "blocked" else rules.unarchive
    returned = undo(session, contact, STAFF)
    session.commit()
    assert contact.status == "stopped"
    assert (returned.old_value, returned.new_value) == (status, "stopped")


@pytest.mark.parametrize("status", ["blocked", "archived"])
def test_unblock_or_unarchive_without_an_opt_out_returns_them_active(session, status):
    contact = new_contact(session, status=status)
    rules.set_status(session, contact, "active", STAFF)
    session.commit()
    assert contact.status == "active"


def test_opt_in_while_blocked_cancels_the_recorded_opt_out(session):
    contact = new_contact(session, status="blocked")
    rules.record_opt_out(session, contact, KEYWORD)
    event = rules.record_opt_in(session, contact, KEYWORD)
    assert (event.kind, event.new_value) == ("consent", "opted_in")
    rules.unblock(session, contact, STAFF)
    session.commit()
    assert contact.status == "active"


def test_a_stop_before_blocking_is_remembered_through_the_block(session):
    contact = new_contact(session)
    rules.record_opt_out(session, contact, KEYWORD)
    rules.block(session, contact, STAFF)
    rules.set_status(session, contact, "active", STAFF)
    session.commit()
    assert contact.status == "stopped"


def test_unblock_and_unarchive_only_act_on_their_own_status(session):
    contact = new_contact(session, status="stopped")
    assert rules.unblock(session, contact, STAFF) is None
    assert rules.unarchive(session, contact, STAFF) is None
    assert rules.reactivate(session, new_contact(session, "+14155550101"), STAFF) is None
    assert contact.status == "stopped"


# --- phone validity ---------------------------------------------------------------------------


def test_phone_invalid_is_separate_from_status_and_consent(session):
    contact = new_contact(session)
    event = rules.mark_phone_invalid(session, contact, PROVIDER)
    session.commit()
    assert (contact.status, contact.opted_out, contact.phone_valid) == ("active", False, False)
    assert contact.group_names == ["news", "vip"]
    assert (event.kind, event.old_value, event.new_value) == ("phone_valid", "true", "false")
    assert rules.mark_phone_invalid(session, contact, PROVIDER) is None

    back = rules.mark_phone_valid(session, contact, STAFF)
    session.commit()
    assert contact.phone_valid is True
    assert (back.new_value, back.source) == ("true", "staff")


def test_unreachable_makes_the_phone_invalid_only_on_the_third_in_a_row(session):
    contact = new_contact(session)
    assert rules.record_unreachable(session, contact, PROVIDER) is None
    assert rules.record_unreachable(session, contact, PROVIDER) is None
    assert contact.phone_valid is True
    assert rules.record_unreachable(session, contact, PROVIDER).new_value == "false"
    assert contact.phone_valid is False


def test_a_delivery_restarts_the_unreachable_streak(session):
    contact = new_contact(session)
    rules.record_unreachable(session, contact, PROVIDER)
    rules.record_unreachable(session, contact, PROVIDER)
    rules.record_delivered(contact)
    rules.record_unreachable(session, contact, PROVIDER)
    rules.record_unreachable(session, contact, PROVIDER)
    session.commit()
    assert contact.phone_valid is True


@pytest.mark.parametrize(
    ("verdict", "status", "phone_valid"),
    [
        (Verdict.OPTED_OUT, "stopped", True),
        (Verdict.PHONE_INVALID, "active", False),
        (Verdict.NONE, "active", True),
        (Verdict.TRANSIENT, "active", True),
    ],
)
def test_provider_verdicts(session, verdict, status, phone_valid):
    contact = new_contact(session)
    failed = Message(
        contact_id=contact.id, direction="out", kind="api", channel="twilio", status="failed"
    )
    session.add(failed)
    session.flush()
    event = rules.apply_provider_verdict(session, failed, verdict, "error 123")
    session.commit()
    session.refresh(contact)
    assert (contact.status, contact.phone_valid) == (status, phone_valid)
    if event is not None:
        assert (event.source, event.channel, event.message_id, event.reason) == (
            "provider",
            "twilio",
            failed.id,
            "error 123",
        )


def test_record_seen_sets_last_seen_whatever_the_status(session):
    contact = new_contact(session, status="blocked")
    when = utcnow() - timedelta(minutes=5)
    rules.record_seen(contact, when)
    session.commit()
    session.expire_all()
    assert session.get(Contact, contact.id).last_seen_on == when


# --- deletion ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["active", "stopped", "blocked"])
def test_deleting_anything_but_an_archived_contact_is_refused(session, status):
    contact = new_contact(session, status=status)
    with pytest.raises(DeletionRefused, match="archive it first"):
        rules.delete_contact(session, contact)
    session.commit()
    assert session.get(Contact, contact.id) is not None


def test_deleting_an_archived_contact_removes_its_messages_and_history(session):
    contact = new_contact(session)
    session.add(
        Message(
            contact_id=contact.id, direction="in", kind="inbound", channel="t", status="received"
        )
    )
    rules.archive(session, contact, STAFF)
    session.commit()
    rules.delete_contact(session, contact)
    session.commit()
    for model in (Contact, Message, ContactEvent, GroupMembership):
        assert session.scalar(select(func.count()).select_from(model)) == 0
    assert session.scalar(select(func.count()).select_from(Group)) == 2


def test_bulk_delete_removes_only_archived_contacts(session):
    keep = [new_contact(session, f"+1415555010{i}", status=s) for i, s in enumerate(LEAVING[:2])]
    keep.append(new_contact(session, "+14155550109"))
    for i in range(3):
        new_contact(session, f"+1415555020{i}", status="archived")
    assert rules.bulk_delete_archived(session) == 3
    session.commit()
    left = session.scalars(select(Contact.status).order_by(Contact.id)).all()
    assert left == ["stopped", "blocked", "active"]


# --- bulk -------------------------------------------------------------------------------------


def test_bulk_archive_of_dormant_contacts_is_set_based_and_traced(session):
    old = utcnow() - timedelta(days=400)
    recent = utcnow() - timedelta(days=3)
    dormant = new_contact(session, "+14155550100")
    never = new_contact(session, "+14155550101", groups=("news",))
    active = new_contact(session, "+14155550102")
    already = new_contact(session, "+14155550103", status="archived")
    rules.record_seen(dormant, old)
    rules.record_seen(active, recent)
    rules.record_seen(already, old)
    session.commit()

    cutoff = utcnow() - timedelta(days=365)
    cause = rules.Cause(source=EventSource.BULK, actor="ana@support", reason="yearly clean-up")
    changed = rules.bulk_set_status(session, "archived", cause, [rules.dormant_filter(cutoff)])
    session.commit()

    assert changed == 2
    statuses = dict(session.execute(select(Contact.phone, Contact.status)).all())
    assert statuses == {
        dormant.phone: "archived",
        never.phone: "archived",
        active.phone: "active",
        already.phone: "archived",
    }
    bulk = session.scalars(select(ContactEvent).where(ContactEvent.source == "bulk")).all()
    assert len(bulk) == 2
    assert len({event.batch_id for event in bulk}) == 1
    assert {(e.contact_id, e.old_value, e.new_value) for e in bulk} == {
        (dormant.id, "active", "archived"),
        (never.id, "active", "archived"),
    }
    by_contact = {e.contact_id: e for e in bulk}
    assert sorted(by_contact[dormant.id].groups_left) == ["news", "vip"]
    assert by_contact[never.id].groups_left == ["news"]
    assert all((e.actor, e.reason) == ("ana@support", "yearly clean-up") for e in bulk)
    remaining = session.scalars(select(GroupMembership.contact_id)).all()
    assert set(remaining) == {active.id}


def test_dormant_filter_can_leave_out_never_seen_contacts(session):
    new_contact(session, "+14155550100", groups=())
    cause = rules.Cause(source=EventSource.BULK)
    where = [rules.dormant_filter(utcnow(), include_never_seen=False)]
    assert rules.bulk_set_status(session, "archived", cause, where) == 0


def test_bulk_active_returns_opted_out_contacts_as_stopped(session):
    opted_out = new_contact(session, "+14155550100", status="blocked")
    rules.record_opt_out(session, opted_out, KEYWORD)
    plain = new_contact(session, "+14155550101", status="archived")
    stopped = new_contact(session, "+14155550102", status="stopped")
    session.commit()

    changed = rules.bulk_set_status(session, "active", rules.Cause(source=EventSource.BULK))
    session.commit()
    assert changed == 3
    rows = dict(session.execute(select(Contact.phone, Contact.status)).all())
    assert rows == {opted_out.phone: "stopped", plain.phone: "active", stopped.phone: "active"}
    flags = dict(session.execute(select(Contact.phone, Contact.opted_out)).all())
    assert flags == {opted_out.phone: True, plain.phone: False, stopped.phone: False}
    assert session.scalar(select(func.count()).select_from(GroupMembership)) == 0


def test_bulk_stop_sets_consent_and_leaves_groups(session):
    new_contact(session, "+14155550100")
    rules.bulk_set_status(session, "stopped", rules.Cause(source=EventSource.BULK))
    session.commit()
    contact = session.scalars(select(Contact)).one()
    assert (contact.status, contact.opted_out, contact.groups) == ("stopped", True, [])


def test_bulk_with_an_unknown_status_writes_nothing(session):
    new_contact(session)
    with pytest.raises(InvalidStatus):
        rules.bulk_set_status(session, "gone", rules.Cause(source=EventSource.BULK))
    assert session.scalar(select(func.count()).select_from(ContactEvent)) == 0


def test_statuses_are_exactly_the_four_of_the_spec():
    assert [s.value for s in ContactStatus] == ["active", "stopped", "blocked", "archived"]
