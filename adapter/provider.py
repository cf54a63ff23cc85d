"""The provider-neutral contract between the core and each provider package.

A provider parses its webhooks into :class:`InboundMessage` and :class:`DeliveryReceipt`, sends an
:class:`OutboundRequest` and reports failures as :class:`SendError` with a :class:`Verdict`.
The core never looks at a provider's own codes beyond storing them.

A :class:`Sender` is made once per process and shared by every thread of the send pool, so it
must be thread-safe (``adapter.http.HttpClient`` is: one pooled keep-alive session). Its
``send`` must say whether a failed request certainly did not reach the provider
(``Verdict.TRANSIENT``: retried) or may have (``Verdict.UNKNOWN``: never re-sent blindly, settled
by a receipt, by ``lookup`` or by the reconciler's timeout).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from flask import Blueprint

from .config import SEND_CONCURRENCY, env_flag


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
    TRANSIENT = "transient"  # the provider certainly did not take it: try again, with backoff
    # The request may have reached the provider (read timeout, connection dropped mid-answer):
    # never re-sent; a receipt, a lookup or SENDING_TIMEOUT_SECONDS settles it.
    UNKNOWN = "unknown"


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
    # The send attempt the callback URL was made for; a receipt for an earlier attempt is stale.
    attempt: int | None = None


@dataclass(frozen=True)
class OutboundRequest:
    message_id: int
    to: str
    body: str
    status_callback_url: str | None
    # 1 for the first send of a message; a retry after a certain failure is attempt 2, ...
    attempt: int = 1
    # When the message was claimed for this attempt: a lookup looks no further back.
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None


@dataclass(frozen=True)
class LookupResult:
    """What the provider knows of a send whose answer we never got."""

    provider_message_id: str
    # sent, delivered, undelivered or failed (a provider's accepted/queued/sending count as sent)
    status: str
    error_code: str | None = None
    verdict: Verdict = Verdict.NONE


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
    """Thread-safe; one per provider and process."""

    def send(self, request: OutboundRequest) -> SendResult:
        """Hand one message to the provider; raise :class:`SendError` when it is not taken."""
        ...

    def lookup(self, request: OutboundRequest) -> LookupResult | None:
        """Find a send whose outcome is unknown at the provider; None when it is not there (or
        the provider has no way to look messages up)."""
        ...


class Provider(Protocol):
    """What a provider package exposes as its module-level ``provider``."""

    name: str
    # Environment variables with this prefix are copied into the app's config (SPEC §5).
    env_prefix: str
    # The longest body the provider accepts for one message, in characters.
    max_body_length: int

    def blueprint(self) -> Blueprint | None: ...

    # Every setting the provider needs to send; some but not all of them set is a configuration
    # error the app refuses to start with.
    required_settings: tuple[str, ...]

    def is_configured(self, config: Mapping[str, Any]) -> bool: ...

    def sender(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> Sender:
        """A sender for this process, its connection pool sized for ``pool_size`` threads."""
        ...

    def enforces_opt_out(self, config: Mapping[str, Any]) -> bool: ...

    def sends_per_second(self, config: Mapping[str, Any]) -> float: ...


class PrefixedProvider:
    """The settings every provider reads alike under its prefix (SPEC §5): configured when all of
    ``required_settings`` are set, ``<PREFIX>_ENFORCES_OPT_OUT``, ``<PREFIX>_SENDS_PER_SECOND``
    (default 1: a long code sends about one message a second)."""

    env_prefix: str
    required_settings: tuple[str, ...]

    def is_configured(self, config: Mapping[str, Any]) -> bool:
        return all(config.get(key) for key in self.required_settings)

    def enforces_opt_out(self, config: Mapping[str, Any]) -> bool:
        return env_flag(config.get(f"{self.env_prefix}_ENFORCES_OPT_OUT"))

    def sends_per_second(self, config: Mapping[str, Any]) -> float:
        return float(config.get(f"{self.env_prefix}_SENDS_PER_SECOND") or 1)


def missing_settings(provider: Provider, config: Mapping[str, Any]) -> list[str]:
    """The required settings of a half-configured provider; empty when it has all or none."""
    missing = [key for key in provider.required_settings if not config.get(key)]
    return [] if len(missing) == len(provider.required_settings) else missing
