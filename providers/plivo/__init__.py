"""Plivo: Message API out, signed form posts in (SPEC §5 *Other providers*)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint

from adapter.config import SEND_CONCURRENCY
from adapter.provider import PrefixedProvider, Sender


class PlivoProvider(PrefixedProvider):
    name = "plivo"
    env_prefix = "PLIVO"
    # Plivo splits long texts itself and refuses more than 1,600 characters.
    max_body_length = 1600
    required_settings = ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_FROM")

    def blueprint(self) -> Blueprint | None:
        from .webhooks import blueprint

        return blueprint

    def sender(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> Sender:
        from .sender import PlivoSender

        return PlivoSender(config, pool_size)


provider = PlivoProvider()
