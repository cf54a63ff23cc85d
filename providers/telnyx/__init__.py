"""Telnyx: Messaging API v2 out, signed JSON events in (SPEC §5 *Other providers*)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint

from adapter.config import SEND_CONCURRENCY
from adapter.provider import PrefixedProvider, Sender


class TelnyxProvider(PrefixedProvider):
    name = "telnyx"
    env_prefix = "TELNYX"
    # Telnyx splits long texts itself, up to 10 parts of 153 GSM characters.
    max_body_length = 1530
    # TELNYX_MESSAGING_PROFILE_ID is optional: sent with each message when set (a number pool
    # needs it). TELNYX_ENFORCES_OPT_OUT: Telnyx answers keywords and blocks sends to numbers that
    # texted STOP (40300) unless the messaging profile turns that off.
    required_settings = ("TELNYX_API_KEY", "TELNYX_PUBLIC_KEY", "TELNYX_FROM")

    def blueprint(self) -> Blueprint | None:
        from .webhooks import blueprint

        return blueprint

    def sender(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> Sender:
        from .sender import TelnyxSender

        return TelnyxSender(config, pool_size)


provider = TelnyxProvider()
