"""The provider-neutral contract between the core and each provider package.

A provider parses its webhooks into :class:`InboundMessage` and :class:`DeliveryReceipt`, sends an
:class:`OutboundRequest` and reports failures as :class:`SendError` with a :class:`Verdict`.
The core never looks at a provider's own codes beyond storing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from flask import Blueprint


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


class Verdict(StrEnum):
    """What a provider's error code says about the recipient (SPEC §1.3)."""

    NONE = "none"  # nothing about the person: the message fails, the contact is left alone
    OPTED_OUT = "opted_out"  # the person unsubscribed: the contact becomes stopped
    PHONE_INVALID = "phone_invalid"  # the number cannot receive SMS
    UNREACHABLE = "unreachable"  # the handset was unreachable; counts towards phone invalid
    TRANSIENT = "transient"  # try again later, with backoff


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    sender: str
    recipient: str | None
    text: str
    provider_message_id: str
    media: list[str] = field(default_factory=list)
    # The provider's own classification (e.g. Twilio's OptOutType); it wins over ours.
    provider_keyword: Keyword | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    channel: str
    # The adapter's own id, carried in the status-callback URL; the provider's id as a fallback.
    message_id: int | None
    provider_message_id: str | None
    status: str  # one of sent, delivered, undelivered, failed (MessageStatus values)
    error_code: str | None = None
    verdict: Verdict = Verdict.NONE


@dataclass(frozen=True)
class OutboundRequest:
    message_id: int
    to: str
    body: str
    status_callback_url: str | None


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None


class SendError(Exception):
    """A send the provider refused or that did not get an answer."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None,
        verdict: Verdict,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.verdict = verdict
        self.retry_after = retry_after


class Sender(Protocol):
    def send(self, request: OutboundRequest) -> SendResult: ...


class Provider(Protocol):
    """What a provider package exposes as its module-level ``provider``."""

    name: str
    # Environment variables with this prefix are copied into the app's config (SPEC §5).
    env_prefix: str
    # The longest body the provider accepts for one message, in characters.
    max_body_length: int

    def blueprint(self) -> Blueprint | None: ...

    def is_configured(self, config: Mapping[str, Any]) -> bool: ...

    def sender(self, config: Mapping[str, Any]) -> Sender: ...

    def enforces_opt_out(self, config: Mapping[str, Any]) -> bool: ...

    def sends_per_second(self, config: Mapping[str, Any]) -> float: ...
