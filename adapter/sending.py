"""The send job: the gate that reads the contact at the moment of sending (SPEC §2)."""

from __future__ import annotations


def send_message(message_id: int) -> None:
    """Placeholder until the outbound issue lands."""
