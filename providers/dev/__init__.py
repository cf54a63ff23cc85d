"""The development provider: records messages in the log instead of sending them.

Used when no real provider is configured, so the service runs with no credentials.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint

from adapter.config import SEND_CONCURRENCY
from adapter.provider import LookupResult, OutboundRequest, SendResult

log = logging.getLogger(__name__)


class DevSender:
    def send(self, request: OutboundRequest) -> SendResult:
        # The development provider is the only place a message's content may reach a log: it
        # stands in for the handset on a developer's machine.
        log.info(
            "dev provider: not sending message %s to %s: %r",
            request.message_id,
            request.to,
            request.body,
        )
        return SendResult(provider_message_id=f"dev-{uuid.uuid4().hex}")

    def lookup(self, request: OutboundRequest) -> LookupResult | None:
        # Nothing is kept: a dev send whose outcome was lost is failed after the timeout.
        return None


class DevProvider:
    name = "dev"
    env_prefix = "DEV"
    max_body_length = 1600
    required_settings: tuple[str, ...] = ()

    def blueprint(self) -> Blueprint | None:
        return None

    def is_configured(self, config: Mapping[str, Any]) -> bool:
        return True

    def sender(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> DevSender:
        return DevSender()

    def enforces_opt_out(self, config: Mapping[str, Any]) -> bool:
        return False

    def sends_per_second(self, config: Mapping[str, Any]) -> float:
        return float(config.get("DEV_SENDS_PER_SECOND") or 100)


provider = DevProvider()
