"""Telnyx's webhooks, checked by their Ed25519 signature over ``timestamp|raw body``."""

from __future__ import annotations

import base64
import binascii

from flask import request
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from adapter.webhooks import (
    WebhookEvent,
    callback_reference,
    fresh_timestamp,
    json_body,
    setting,
    webhook_blueprint,
)

from .events import parse_event


def verify_telnyx_request() -> str | None:
    """None when ``telnyx-signature-ed25519`` signs this body at a recent ``telnyx-timestamp``."""
    public_key = setting("TELNYX_PUBLIC_KEY")
    if public_key is None:
        return "TELNYX_PUBLIC_KEY is not configured; webhooks cannot be verified"
    signature = request.headers.get("telnyx-signature-ed25519", "")
    timestamp = request.headers.get("telnyx-timestamp", "")
    if not signature or not timestamp:
        return "telnyx-signature-ed25519 or telnyx-timestamp is missing"
    # Five minutes either way, as Telnyx's SDKs allow: an older request is a replay.
    if not fresh_timestamp(timestamp):
        return "telnyx-timestamp is not within five minutes of now"
    try:
        key = VerifyKey(base64.b64decode(public_key, validate=True))
        key.verify(timestamp.encode() + b"|" + request.get_data(), base64.b64decode(signature))
    except (BadSignatureError, binascii.Error, ValueError):
        return "invalid telnyx-signature-ed25519"
    return None


def _events(channel: str) -> list[WebhookEvent]:
    our_id, attempt = callback_reference(request.args)
    return parse_event(json_body(), channel, our_id, attempt)


blueprint = webhook_blueprint(
    "telnyx",
    verify=verify_telnyx_request,
    # Every event type may arrive at either URL (the profile's webhook, or the one a send names).
    routes={"inbound": _events, "status": _events},
)
