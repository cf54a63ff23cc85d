"""What the providers' lookups share: when a send whose answer was lost can have reached the
provider, and how a message found there becomes a :class:`LookupResult`.

A lookup is only as good as what it matches on. A provider that echoes our reference (the
message id and attempt set at send time) is matched on it; one that keeps only the number and
a time is matched on those, and only when exactly one message fits: two candidates could be two
of our own messages to one person, and taking the wrong one would settle a message with another
message's outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from .db import utcnow
from .models import MessageStatus
from .provider import LookupResult, OutboundRequest, Verdict

# Our clock and the provider's disagree by a few seconds; a minute either way covers it without
# reaching back to an earlier message to the same number.
CLOCK_SKEW = timedelta(seconds=60)

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendWindow:
    """When the provider can have received the request: from the claim to the end of the
    request's read timeout, each widened by :data:`CLOCK_SKEW` (and no later than now)."""

    start: datetime
    end: datetime

    def holds(self, value: object) -> bool:
        """Whether a provider's ISO 8601 timestamp falls in the window; an unreadable one does
        not, since the time is all such a match rests on."""
        when = parse_time(value)
        return when is not None and self.start <= when <= self.end


def send_window(
    request: OutboundRequest, read_timeout: float, now: datetime | None = None
) -> SendWindow | None:
    """The window of ``request``'s send; None when it was never claimed (no bound to look in)."""
    if request.claimed_at is None:
        return None
    claimed = request.claimed_at.astimezone(UTC)
    end = claimed + timedelta(seconds=read_timeout) + CLOCK_SKEW
    return SendWindow(start=claimed - CLOCK_SKEW, end=min(end, now or utcnow()))


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp (``Z``, ``+00:00`` or ``+0000``; ``T`` or a space) in UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    # A provider that writes no offset writes UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso_utc(when: datetime) -> str:
    """``2026-11-24T21:16:01Z``: the form every provider's date filters accept."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def only_one(candidates: Sequence[T], request: OutboundRequest, provider: str) -> T | None:
    """The single candidate of a match on number and time; None when there is none or more."""
    if len(candidates) > 1:
        log.info(
            "message %s: %d %s messages fit its number and time; not guessing",
            request.message_id,
            len(candidates),
            provider,
        )
    return candidates[0] if len(candidates) == 1 else None


def found_message(
    provider_id: str,
    status: MessageStatus | None,
    code: str | None,
    verdict_for: Callable[[str | None], Verdict],
) -> LookupResult:
    """A message found at the provider, read like a receipt: a status the provider has not
    reported yet (or one we do not know) means it was taken, so ``sent``; an error code, and
    what it says of the person, counts only on a failure."""
    status = status or MessageStatus.SENT
    failed = status in (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
    return LookupResult(
        provider_message_id=provider_id,
        status=status.value,
        error_code=code if failed else None,
        verdict=verdict_for(code) if failed else Verdict.NONE,
    )
