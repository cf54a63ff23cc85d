"""Recording what the provider answered, for a batch of sends at once (SPEC §2).

Every update is conditional on the message still being ``sending`` for the same attempt, so an
answer that arrives after a receipt, a lookup or the reconciler settled the message changes
nothing, and nothing here can send anything twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.orm import Session

from . import rules
from .app_events.record import record_message_statuses
from .db import utcnow
from .models import Message, MessageStatus
from .outbox import schedule_retry
from .provider import SendError, SendResult, Verdict

log = logging.getLogger(__name__)

# The error code of a message whose send raised something unexpected inside the adapter.
ADAPTER_ERROR = "adapter_error"
# The error code of a send whose outcome no receipt or lookup settled in time.
OUTCOME_UNKNOWN = "outcome_unknown"


@dataclass(frozen=True)
class Outcome:
    message_id: int
    attempt: int
    result: SendResult | None = None
    error: SendError | None = None
    # The exception class of an unexpected failure inside the adapter.
    crash: str | None = None


_table = Message.__table__
_sent = (
    update(_table)
    .where(_table.c.id == bindparam("mid"), _table.c.attempts == bindparam("attempt"))
    .values(
        # A receipt may already have moved the message on; never move it back.
        status=case(
            (_table.c.status == MessageStatus.SENDING.value, MessageStatus.SENT.value),
            else_=_table.c.status,
        ),
        provider_message_id=func.coalesce(bindparam("pid"), _table.c.provider_message_id),
        # A message that ends `sent` carries no error of an earlier attempt.
        error_code=case(
            (_table.c.status == MessageStatus.SENDING.value, None), else_=_table.c.error_code
        ),
        modified_on=bindparam("now"),
    )
)


def record(session: Session, outcomes: list[Outcome]) -> None:
    """Store ``outcomes`` in ``session``'s transaction: sends in one statement, failures (rare)
    one by one because they may act on the contact."""
    now = utcnow()
    attempts = {o.message_id: o.attempt for o in outcomes}
    # The sends this batch settles, locked: a receipt that beat the answer has already moved its
    # message on and reported it, and it must not be counted or reported a second time.
    settling = {
        row.id
        for row in session.execute(
            select(Message.id, Message.attempts)
            .where(
                Message.id.in_(list(attempts)),
                Message.status == MessageStatus.SENDING.value,
            )
            .order_by(Message.id)
            .with_for_update()
        )
        if attempts[row.id] == row.attempts
    }
    sent = [
        {"mid": o.message_id, "attempt": o.attempt, "pid": o.result.provider_message_id, "now": now}
        for o in outcomes
        if o.result is not None
    ]
    if sent:
        session.execute(_sent, sent)
    changed = [o.message_id for o in outcomes if o.result is not None and o.message_id in settling]
    for outcome in outcomes:
        if outcome.result is None and _record_failure(session, outcome):
            changed.append(outcome.message_id)
    record_message_statuses(session, changed)


def _record_failure(session: Session, outcome: Outcome) -> bool:
    """Apply a failed send; True when the message ended ``failed`` by it."""
    error = outcome.error
    if error is not None and error.verdict == Verdict.UNKNOWN:
        # The provider may have the message: leave it `sending` for a receipt, a lookup or the
        # reconciler's timeout to settle. Sending it again could text the person twice.
        log.warning(
            "message %s: outcome unknown (%s); left for the reconciler",
            outcome.message_id,
            error.code,
        )
        return False
    message = session.scalar(
        select(Message)
        .where(
            Message.id == outcome.message_id,
            Message.attempts == outcome.attempt,
            Message.status == MessageStatus.SENDING.value,
        )
        .with_for_update()
    )
    if message is None:
        return False
    if error is None:
        message.status = MessageStatus.FAILED.value
        message.error_code = ADAPTER_ERROR
        log.error("message %s failed inside the adapter (%s)", message.id, outcome.crash)
        return True
    message.error_code = error.code
    log.info("message %s: send failed with %s (%s)", message.id, error.code, error.verdict)
    if error.verdict == Verdict.TRANSIENT and schedule_retry(message, error.retry_after):
        return False
    message.status = MessageStatus.FAILED.value
    reason = f"{message.channel} refused a send with error {error.code}"
    rules.apply_provider_verdict(session, message, error.verdict, reason)
    return True


def fail_unknown(session: Session, message_ids: list[int], attempts: dict[int, int]) -> list[int]:
    """Fail sends still unknown past SENDING_TIMEOUT_SECONDS; returns the ids failed."""
    failed: list[int] = []
    for message_id in message_ids:
        changed = session.execute(
            update(Message)
            .where(
                Message.id == message_id,
                Message.attempts == attempts[message_id],
                Message.status == MessageStatus.SENDING.value,
            )
            .values(
                status=MessageStatus.FAILED.value,
                error_code=OUTCOME_UNKNOWN,
                modified_on=utcnow(),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed:
            failed.append(message_id)
    record_message_statuses(session, failed)
    return failed
