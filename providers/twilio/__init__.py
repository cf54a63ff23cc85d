"""Twilio: messaging webhooks in, Programmable Messaging API out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint

from adapter.config import SEND_CONCURRENCY
from adapter.provider import PrefixedProvider, Sender


class TwilioProvider(PrefixedProvider):
    name = "twilio"
    env_prefix = "TWILIO"
    # Twilio accepts up to 1,600 characters and splits them into segments itself.
    max_body_length = 1600
    required_settings = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")
    # TWILIO_SENDS_PER_SECOND: a long code sends about one message a second; a Messaging Service
    # (MG...) pools senders and may be given more.

    def blueprint(self) -> Blueprint | None:
        from .webhooks import blueprint

        return blueprint

    def sender(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> Sender:
        from .sender import TwilioSender

        return TwilioSender(config, pool_size)


provider = TwilioProvider()
