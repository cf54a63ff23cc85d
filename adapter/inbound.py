"""The provider-neutral inbound path: one parsed message in, every consequence stored at once.

A message, its contact's changes, their events and any compliance reply commit in one
transaction, keyed by the provider's message id: a webhook retried (or delivered twice at the
same moment) meets the unique index and changes nothing a second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import rules
from .app_events.record import record_message_received
from .channels import ChannelSettings, channel_settings
from .db import transaction, utcnow
from .dispatch import wake
from .intent import IntentResult, Policy, detect
from .models import (
    Contact,
    ContactStatus,
    Direction,
    EventSource,
    Message,
    MessageKind,
    MessageStatus,
)
from .outbox import insert_outbound
from .phone import to_e164
from .provider import InboundMessage, Keyword

log = logging.getLogger(__name__)

# Attempts at the transaction: a second is needed only when a concurrent request created the
# same new contact first.
_ATTEMPTS = 3
# At most one clarification of an opt-out request per contact in this time (SPEC §3).
CLARIFICATION_INTERVAL = timedelta(days=1)
# Built once: every inbound message is one INSERT on the table. Through the ORM (an instance
# added and flushed) the same statement cost several times its own time in Python.
_INSERT_MESSAGE = insert(Message.__table__).returning(Message.__table__.c.id)


@dataclass(frozen=True)
class InboundResult:
    message_id: int
    duplicate: bool
    keyword: Keyword | None = None
    reply_id: int | None = None
    # What the opt-out request detector made of a message that is not a keyword.
    intent: IntentResult | None = None


def handle_inbound(inbound: InboundMessage) -> InboundResult:
    """Store ``inbound`` and apply SPEC §1.2 and §3: keywords, opt-out requests in sentences,
    reactivation, consent, replies.

    Raises :class:`~adapter.errors.InvalidPhone` for a sender that is not a phone number.
    """
    phone = to_e164(inbound.sender, current_app.config["DEFAULT_REGION"])
    settings = channel_settings(inbound.channel)
    for attempt in range(_ATTEMPTS):
        try:
            with transaction() as session:
                # The unique index finds a duplicate; only a retry looks for one first.
                result = _store(session, inbound, phone, settings, known_new=attempt == 0)
        except IntegrityError:
            # This message was stored before (a provider's retry), or another request stored it
            # or created this contact first; the next attempt finds it.
            log.info(
                "inbound %s: stored already or concurrently, attempt %d",
                inbound.provider_message_id,
                attempt,
            )
            continue
        if result.reply_id is not None:
            wake(inbound.channel)
        return result
    raise RuntimeError(f"could not store inbound {inbound.provider_message_id}")


def _store(
    session: Session,
    inbound: InboundMessage,
    phone: str,
    settings: ChannelSettings,
    known_new: bool,
) -> InboundResult:
    if not known_new:
        earlier = session.scalar(
            select(Message.id).where(
                Message.channel == inbound.channel,
                Message.provider_message_id == inbound.provider_message_id,
            )
        )
        if earlier is not None:
            return InboundResult(message_id=earlier, duplicate=True)
    now = utcnow()
    # One statement locks a known contact and records it seen; only a new one takes more.
    contact = rules.touch_contact(session, phone, now) or rules.get_or_create_contact(
        session, phone
    )
    ignored = contact.status in rules.IGNORED
    stopped = contact.status == ContactStatus.STOPPED
    # The provider's own opt-out / opt-in flag wins over our matching, and the keyword is
    # classified before anything changes: a stopped contact texting STOP stays stopped.
    keyword = inbound.provider_keyword or settings.keywords.classify(inbound.text, stopped)
    # A keyword is handled as a keyword, never as an intent: only other messages are read.
    intent = detect(inbound.text, settings.intent_languages) if keyword is None else None
    opt_out_intent = intent is not None and intent.is_intent
    values = {
        "contact_id": contact.id,
        "direction": Direction.INBOUND.value,
        "kind": MessageKind.INBOUND.value,
        "channel": inbound.channel,
        "provider_message_id": inbound.provider_message_id,
        # PostgreSQL text cannot hold NUL; keep the rest of the message rather than lose it.
        "body": inbound.text.replace("\x00", "\ufffd"),
        "media": list(inbound.media) or None,
        "status": (MessageStatus.ARCHIVED if ignored else MessageStatus.RECEIVED).value,
        "opt_out_intent": opt_out_intent,
        "attempts": 0,
        "created_on": now,
        "modified_on": now,
    }
    # The unique (channel, provider_message_id) index fires here for a concurrent duplicate,
    # before any consequence is written.
    message_id = session.execute(_INSERT_MESSAGE, values).scalar_one()
    # Not added to the session: the row is stored; this only tells the events what it holds.
    message = Message(id=message_id, **values)
    record_message_received(session, message, contact)

    def cause(source: EventSource, reason: str) -> rules.Cause:
        return rules.Cause(
            source=source, reason=reason, channel=inbound.channel, message_id=message.id
        )

    # The history tells a keyword we matched from the provider's own flag (SPEC §1.4).
    if inbound.provider_keyword:
        opt_out = cause(EventSource.PROVIDER, "the provider's opt-out flag")
        opt_in = cause(EventSource.PROVIDER, "the provider's opt-in flag")
    else:
        opt_out = cause(EventSource.KEYWORD, "opt-out keyword")
        opt_in = cause(EventSource.KEYWORD, "opt-in keyword")
    rules.record_seen(contact, now)
    rules.mark_phone_valid(session, contact, cause(EventSource.SYSTEM, "inbound message"))

    reply: _Reply | None = None
    # Where the provider enforces opt-out it answers keywords itself (never sentences).
    answer_keywords = not settings.enforces_opt_out
    # On a blocked or archived contact an opt-out or opt-in changes only the recorded consent
    # (the rules keep the status), which decides how they return if ever unblocked.
    if keyword == Keyword.OPT_OUT:
        rules.record_opt_out(session, contact, opt_out)
        if answer_keywords:
            reply = _Reply(settings.opt_out_reply, keyword=Keyword.OPT_OUT)
    elif keyword == Keyword.OPT_IN:
        rules.record_opt_in(session, contact, opt_in)
        if answer_keywords:
            reply = _Reply(settings.opt_in_reply, keyword=Keyword.OPT_IN)
    elif intent is not None and intent.is_intent:
        reply = _opt_out_intent(
            session, contact, settings, intent, cause(EventSource.INTENT, intent.triggers), now
        )
    else:
        if keyword == Keyword.HELP and answer_keywords:
            reply = _Reply(settings.help_reply, keyword=Keyword.HELP)
        if stopped and not settings.enforces_opt_out:
            # Any message but an opt-out brings a stopped contact back (SPEC §1.2), without its
            # groups. Where the provider enforces opt-out, only an opt-in lifts its block.
            rules.reactivate(
                session,
                contact,
                cause(EventSource.SYSTEM, "inbound message from a stopped contact"),
            )

    reply_id = None
    # Blocked and archived contacts trigger nothing, replies included. A reply answers one
    # inbound message (unique reply_to_id); its keyword is checked against the contact again at
    # send time, and a clarification goes only to a contact still active then.
    if reply is not None and not ignored:
        reply_id = insert_outbound(
            session,
            contact.id,
            reply.text,
            kind=reply.kind,
            channel=message.channel,
            reply_to_id=message.id,
            keyword=reply.keyword,
        )
    return InboundResult(
        message_id=message.id, duplicate=False, keyword=keyword, reply_id=reply_id, intent=intent
    )


@dataclass(frozen=True)
class _Reply:
    text: str
    kind: MessageKind = MessageKind.COMPLIANCE
    keyword: Keyword | None = None


def _opt_out_intent(
    session: Session,
    contact: Contact,
    settings: ChannelSettings,
    intent: IntentResult,
    cause: rules.Cause,
    now: datetime,
) -> _Reply | None:
    """Act on an opt-out request written as a sentence as the channel's policy says (SPEC §3).

    Whatever the policy, a stopped contact is not reactivated by it: it is an opt-out in words.
    Replies are sent even where the provider enforces opt-out: it answered no keyword.
    """
    policy = settings.opt_out_intent
    rules.apply_opt_out_intent(session, contact, policy, cause)
    log.info("inbound opt-out request (%s rules), policy %s", intent.language, policy.value)
    if policy == Policy.STOP:
        return _Reply(settings.opt_out_reply, keyword=Keyword.OPT_OUT)
    if (
        policy == Policy.ASK
        and contact.status == ContactStatus.ACTIVE
        and _clarification_due(session, contact, now)
    ):
        return _Reply(settings.opt_out_intent_reply, kind=MessageKind.CLARIFICATION)
    return None


def _clarification_due(session: Session, contact: Contact, now: datetime) -> bool:
    """No clarification created for ``contact`` within CLARIFICATION_INTERVAL (the contact row is
    locked, so two requests at once cannot both find none)."""
    earlier = session.scalar(
        select(Message.id)
        .where(
            Message.contact_id == contact.id,
            Message.kind == MessageKind.CLARIFICATION.value,
            Message.created_on > now - CLARIFICATION_INTERVAL,
        )
        .limit(1)
    )
    return earlier is None
