"""Vonage: Messages API out, JWT-signed JSON webhooks in (SPEC §5 *Other providers*)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint

from adapter.config import SEND_CONCURRENCY
from adapter.provider import PrefixedProvider, Sender


class VonageProvider(PrefixedProvider):
    name = "vonage"
    env_prefix = "VONAGE"
    # The Messages API takes at most 1,000 characters of SMS text.
    max_body_length = 1000
    # Sends use the API key and secret (HTTP Basic, which the Messages API accepts);
    # VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY name the application whose webhooks point here
    # and are not needed to send.
    required_settings = (
        "VONAGE_API_KEY",
        "VONAGE_API_SECRET",
        "VONAGE_SIGNATURE_SECRET",
        "VONAGE_FROM",
    )

    def blueprint(self) -> Blueprint | None:
        from .webhooks import blueprint

        return blueprint

    def sender(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> Sender:
        from .sender import VonageSender

        return VonageSender(config, pool_size)


provider = VonageProvider()
