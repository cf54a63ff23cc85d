"""Kept for jobs queued by an earlier version (one ``adapter.sending.send_message`` job per
message), which may still be on Redis after an upgrade."""

from .dispatch import send_message

__all__ = ["send_message"]
