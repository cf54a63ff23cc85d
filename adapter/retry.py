"""When to try a send again: exponential backoff that honours a provider's Retry-After."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from .db import utcnow

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
# A Retry-After beyond this is the provider's business for the day; don't sleep on it longer.
RETRY_AFTER_CAP_SECONDS = 3600.0


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 2, 4, 8, ... capped at five
    minutes, and never sooner than the provider asked."""
    backoff = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    if retry_after is not None:
        return max(backoff, min(retry_after, RETRY_AFTER_CAP_SECONDS))
    return backoff
