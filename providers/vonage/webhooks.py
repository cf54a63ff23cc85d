"""Vonage's webhooks, checked by the HS256 JWT in the Authorization header: signed with the
signature secret, its ``payload_hash`` the SHA-256 of the body."""

from __future__ import annotations

import hashlib
import hmac

import jwt
from flask import request

from adapter.provider import DeliveryReceipt, InboundMessage
from adapter.webhooks import (
    fresh_timestamp,
    json_body,
    setting,
    webhook_blueprint,
)

from .events import parse_inbound, parse_status


def verify_vonage_request() -> str | None:
    secret = setting("VONAGE_SIGNATURE_SECRET")
    if secret is None:
        return "VONAGE_SIGNATURE_SECRET is not configured; webhooks cannot be verified"
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return "the signed JWT (Authorization: Bearer) is missing"
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["iat", "payload_hash"]}
        )
    except jwt.PyJWTError:
        return "invalid JWT signature"
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or not fresh_timestamp(str(int(issued))):
        return "the JWT's iat is not within five minutes of now"
    body_hash = hashlib.sha256(request.get_data()).hexdigest()
    if not hmac.compare_digest(str(claims.get("payload_hash")), body_hash):
        return "the JWT's payload_hash does not match the body"
    return None


def _inbound(channel: str) -> list[InboundMessage]:
    return [parse_inbound(json_body(), channel)]


def _status(channel: str) -> list[DeliveryReceipt]:
    return [parse_status(json_body(), request.args, channel)]


blueprint = webhook_blueprint(
    "vonage", verify=verify_vonage_request, routes={"inbound": _inbound, "status": _status}
)
