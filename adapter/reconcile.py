"""Settling sends whose outcome is unknown (SPEC §2: at most once, never stuck).

A message left ``sending`` (a read timeout, a dropped connection, a worker killed between the
claim and the answer) is looked up at the provider once its request has certainly ended: found,
it takes the provider's status like a receipt; not found after SENDING_TIMEOUT_SECONDS, it fails
with ``outcome_unknown`` so the application learns of it. It is never sent again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from . import config
from .db import transaction, utcnow
from .http import read_timeout
from .models import Contact, Message, MessageStatus
from .outcomes import fail_unknown
from .provider import DeliveryReceipt, OutboundRequest, SendError
from .receipts import apply_receipt

log = logging.getLogger(__name__)

# Sends looked up per sweep at most; the next sweep takes the rest.
RECONCILE_BATCH = 100
# Beyond the provider timeout, how long a send may still be on its way back to the recorder.
_GRACE_SECONDS = 5.0


def reconcile() -> int:
    """Look up (or time out) stale ``sending`` messages; returns how many were settled."""
    from .sendpool import worker_send_pool

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = utcnow()
    timeout = float(app.config.get("SENDING_TIMEOUT_SECONDS", config.SENDING_TIMEOUT_SECONDS))
    settled_after = now - timedelta(seconds=min(timeout, read_timeout(app.config) + _GRACE_SECONDS))
    with transaction() as session:
        rows = session.execute(
            select(
                Message.id,
                Message.channel,
                Message.body,
                Message.attempts,
                Message.sending_since,
                Contact.phone,
            )
            .join(Contact, Contact.id == Message.contact_id)
            .where(
                Message.status == MessageStatus.SENDING.value,
                Message.sending_since < settled_after,
            )
            .order_by(Message.sending_since)
            .limit(RECONCILE_BATCH)
        ).all()
    if not rows:
        return 0
    providers = app.extensions["adapter.providers"]
    expired: list[int] = []
    settled = 0
    for row in rows:
        request = OutboundRequest(
            message_id=row.id,
            to=row.phone,
            body=row.body,
            status_callback_url=None,
            attempt=row.attempts,
            claimed_at=row.sending_since,
        )
        found = None
        if row.channel in providers:
            try:
                found = worker_send_pool(app).sender(row.channel).lookup(request)
            except SendError as exc:
                log.info("message %s: lookup failed (%s); trying later", row.id, exc.code)
            except Exception:
                log.exception("message %s: lookup raised", row.id)
        if found is not None and _held_elsewhere(row.channel, found.provider_message_id, row.id):
            # A lookup that matches on number and time can find the message we sent next to the
            # same person when ours never arrived: that message is not ours to settle with.
            log.info("message %s: lookup found another message's send; not taken", row.id)
            found = None
        if found is not None:
            apply_receipt(
                DeliveryReceipt(
                    channel=row.channel,
                    message_id=row.id,
                    provider_message_id=found.provider_message_id,
                    status=found.status,
                    error_code=found.error_code,
                    verdict=found.verdict,
                    attempt=row.attempts,
                )
            )
            settled += 1
        elif row.sending_since < now - timedelta(seconds=timeout):
            expired.append(row.id)
    if expired:
        with transaction() as session:
            failed = fail_unknown(session, expired, {row.id: row.attempts for row in rows})
        settled += len(failed)
        log.warning("%d send(s) failed as outcome_unknown after %ss", len(failed), timeout)
    return settled


def _held_elsewhere(channel: str, provider_id: str, message_id: int) -> bool:
    """Whether another of our messages already carries the provider's ``provider_id``."""
    with transaction() as session:
        return (
            session.scalar(
                select(Message.id)
                .where(
                    Message.channel == channel,
                    Message.provider_message_id == provider_id,
                    Message.id != message_id,
                )
                .limit(1)
            )
            is not None
        )
