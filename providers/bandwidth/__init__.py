"""Bandwidth: Messaging API v2 out, callbacks (JSON arrays of events) in under HTTP Basic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint

from adapter.config import SEND_CONCURRENCY
from adapter.provider import PrefixedProvider, Sender


class BandwidthProvider(PrefixedProvider):
    name = "bandwidth"
    env_prefix = "BANDWIDTH"
    # Bandwidth refuses texts over 2,048 characters.
    max_body_length = 2048
    required_settings = (
        "BANDWIDTH_ACCOUNT_ID",
        "BANDWIDTH_USERNAME",
        "BANDWIDTH_PASSWORD",
        "BANDWIDTH_APPLICATION_ID",
        "BANDWIDTH_FROM",
        "BANDWIDTH_CALLBACK_USERNAME",
        "BANDWIDTH_CALLBACK_PASSWORD",
    )

    def blueprint(self) -> Blueprint | None:
        from .webhooks import blueprint

        return blueprint

    def sender(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> Sender:
        from .sender import BandwidthSender

        return BandwidthSender(config, pool_size)


provider = BandwidthProvider()
