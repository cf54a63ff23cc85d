"""Twilio: messaging webhooks in, Programmable Messaging API out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint

from adapter.config import env_flag
from adapter.provider import Sender


class TwilioProvider:
    name = "twilio"
    env_prefix = "TWILIO"
    # Twilio accepts up to 1,600 characters and splits them into segments itself.
    max_body_length = 1600
    required_settings = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")

    def blueprint(self) -> Blueprint | None:
        from .webhooks import blueprint

        return blueprint

    def is_configured(self, config: Mapping[str, Any]) -> bool:
        return all(config.get(key) for key in self.required_settings)

    def sender(self, config: Mapping[str, Any], pool_size: int = 32) -> Sender:
        from .sender import TwilioSender

        return TwilioSender(config, pool_size)

    def enforces_opt_out(self, config: Mapping[str, Any]) -> bool:
        return env_flag(config.get("TWILIO_ENFORCES_OPT_OUT"))

    def sends_per_second(self, config: Mapping[str, Any]) -> float:
        # A long code sends about one message a second; a Messaging Service (MG...) pools senders
        # and may be given more by setting TWILIO_SENDS_PER_SECOND.
        return float(config.get("TWILIO_SENDS_PER_SECOND") or 1)


provider = TwilioProvider()
