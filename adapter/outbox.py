"""The outbox: messages are committed before they are queued, and queued again if lost."""

from __future__ import annotations


def sweep() -> int:
    """Queue every message that is due and has no live job; returns how many were queued."""
    return 0
