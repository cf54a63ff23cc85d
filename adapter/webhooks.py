"""What every provider's webhook blueprint needs from the core.

A provider package supplies three things: a check of its own signature scheme, and parsers that
turn a verified request into neutral :class:`~adapter.provider.InboundMessage` and
:class:`~adapter.provider.DeliveryReceipt` events. :func:`webhook_blueprint` does the rest the
same way for every provider: refuse an unverified request with 403 before anything is read,
answer malformed input with a 400 that says why, and hand each event to the core.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Blueprint, Response, current_app, request

from .errors import AdapterError, InvalidRequest, TooLarge
from .inputs import MAX_ID, without_nul
from .models import MessageStatus
from .provider import DeliveryReceipt, InboundMessage, Verdict

log = logging.getLogger(__name__)

WebhookEvent = InboundMessage | DeliveryReceipt
# Reads the current request; returns why it is refused, or None when it is the provider's own.
Verifier = Callable[[], str | None]
# Reads the current (verified) request; returns the events in it, in the order they happened.
Parser = Callable[[str], Iterable[WebhookEvent]]

# Provider message ids: UUIDs, Twilio SIDs, Bandwidth's digits, all far inside the column.
_PROVIDER_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Providers join a long text into at most a few thousand characters; far more is not theirs.
MAX_INBOUND_TEXT = 16_000
# How old a signed timestamp may be before the request counts as a replay.
SIGNATURE_TOLERANCE_SECONDS = 300


def public_request_url() -> str:
    """The URL the provider called, as it signed it: behind a proxy the app sees its own host
    and scheme, so PUBLIC_BASE_URL (when set) replaces them."""
    # A trailing slash in the setting must not make the signed URL read https://host//path.
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base:
        return request.url
    path = request.full_path if request.query_string else request.path
    return f"{base}{path}"


def webhook_blueprint(
    name: str,
    *,
    verify: Verifier,
    routes: Mapping[str, Parser],
    answers: Mapping[str, Callable[[], Response]] | None = None,
) -> Blueprint:
    """A blueprint under ``/<name>/`` with one POST route per entry of ``routes`` (``inbound``,
    ``status``), each checked by ``verify`` before its parser runs; ``answers`` makes the body
    a route answers a handled request with (an empty 204 by default)."""
    blueprint = Blueprint(name, __name__, url_prefix=f"/{name}")

    @blueprint.before_request
    def _verified() -> Response | None:
        refusal = verify()
        if refusal is None:
            return None
        # The reason names the header or setting, never the request's content.
        log.warning("%s webhook refused: %s", name, refusal)
        return plain_text(refusal, 403)

    @blueprint.errorhandler(AdapterError)
    def _bad_request(exc: AdapterError) -> Response:
        # Providers show the answer in their consoles; say what was wrong with the request.
        return plain_text(exc.message, exc.http_status)

    for route, parser in routes.items():
        blueprint.add_url_rule(
            f"/{route}",
            endpoint=route,
            view_func=_view(name, parser, (answers or {}).get(route)),
            methods=["POST"],
        )
    return blueprint


def _view(channel: str, parser: Parser, answer: Callable[[], Response] | None):  # type: ignore[no-untyped-def]
    def view() -> Response:
        # Parse everything first: a batch with one malformed event is refused whole (400), so
        # the provider's retry does not meet half of it already applied.
        events = list(parser(channel))
        apply_events(events)
        return answer() if answer is not None else Response(status=204)

    return view


def apply_events(events: Iterable[WebhookEvent]) -> None:
    """Hand each parsed event to the core: inbound messages and delivery receipts alike are
    idempotent, so a provider retrying a webhook changes nothing the second time."""
    from .inbound import handle_inbound
    from .receipts import apply_receipt

    for event in events:
        if isinstance(event, InboundMessage):
            handle_inbound(event)
        else:
            apply_receipt(event)


def provider_receipt(
    channel: str,
    status: MessageStatus,
    *,
    our_id: int | None,
    attempt: int | None,
    provider_id: str | None,
    code: str | None,
    verdict_for: Callable[[str | None], Verdict],
) -> DeliveryReceipt:
    """A receipt from a provider's parsed fields: an error code (and what it says about the
    person) is kept only on a failure, so a "delivered" carrying a stale code changes nothing.
    Raises :class:`InvalidRequest` when neither our id nor the provider's names the message."""
    if our_id is None and provider_id is None:
        raise InvalidRequest("the message id is missing")
    failed = status in (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
    return DeliveryReceipt(
        channel=channel,
        message_id=our_id,
        provider_message_id=provider_id,
        status=status.value,
        error_code=code if failed else None,
        verdict=verdict_for(code) if failed else Verdict.NONE,
        attempt=attempt,
    )


def plain_text(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def json_body() -> Any:
    """The request's JSON, or :class:`InvalidRequest` saying it is not JSON."""
    try:
        return json.loads(request.get_data())
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the body is not JSON") from None


def callback_reference(query: Mapping[str, str]) -> tuple[int | None, int | None]:
    """The ``message_id`` and ``attempt`` our status-callback URL carries (adapter.gate)."""
    return _number(query, "message_id"), _number(query, "attempt")


def _number(query: Mapping[str, str], name: str) -> int | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise InvalidRequest(f"{name} must be a number")
    if len(raw) > 10 or int(raw) > MAX_ID:
        raise InvalidRequest(f"{name} must be a number up to {MAX_ID}")
    return int(raw)


def provider_message_id(value: object, field: str) -> str | None:
    """A provider's message id as the column keeps it: None when absent, else 1 to 64 letters,
    digits and ``-._:``, or :class:`InvalidRequest` naming ``field``."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    if not _PROVIDER_ID.fullmatch(text):
        raise InvalidRequest(f"{field} must be 1 to 64 letters, digits and -._:")
    return text


def inbound_text(value: object, field: str) -> str:
    """The text of an inbound message as it can be stored: NULs replaced (the person already sent
    it), far more than any provider joins refused with 413."""
    text = value if isinstance(value, str) else ""
    if len(text) > MAX_INBOUND_TEXT:
        raise TooLarge(f"{field} is {len(text)} characters; at most {MAX_INBOUND_TEXT} are taken")
    return without_nul(text)


def fresh_timestamp(raw: str, tolerance: float = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """Whether a signed Unix ``raw`` timestamp is within ``tolerance`` seconds of now."""
    try:
        stamp = int(raw.strip())
    except ValueError:
        return False
    return abs(time.time() - stamp) <= tolerance


def same_secret(given: str, expected: str) -> bool:
    """Compare credentials in constant time, so the answer's timing tells nothing about them."""
    return hmac.compare_digest(given.encode(), expected.encode())


def setting(name: str) -> str | None:
    """A provider's secret from the app's config; None when it is unset (webhooks are then
    refused: nothing can be verified without it)."""
    value = current_app.config.get(name)
    return str(value) if value else None
