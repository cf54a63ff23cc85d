"""Plivo's webhooks, checked by X-Plivo-Signature-V3 (or -V2) with its nonce."""

from __future__ import annotations

from flask import request
from plivo.utils import validate_signature
from plivo.utils.signature_v3 import validate_v3_signature

from adapter.provider import DeliveryReceipt, InboundMessage
from adapter.webhooks import callback_reference, public_request_url, setting, webhook_blueprint

from .events import parse_inbound, parse_status


def verify_plivo_request() -> str | None:
    """None when the request carries Plivo's V3 signature (URL, sorted form fields and nonce,
    HMAC-SHA256 with the auth token) or, from older applications, its V2 one (URL and nonce)."""
    token = setting("PLIVO_AUTH_TOKEN")
    if token is None:
        return "PLIVO_AUTH_TOKEN is not configured; webhooks cannot be verified"
    url = public_request_url()
    v3 = request.headers.get("X-Plivo-Signature-V3", "")
    v3_nonce = request.headers.get("X-Plivo-Signature-V3-Nonce", "")
    v2 = request.headers.get("X-Plivo-Signature-V2", "")
    v2_nonce = request.headers.get("X-Plivo-Signature-V2-Nonce", "")
    try:
        if v3 and v3_nonce:
            valid = validate_v3_signature(
                "POST", url, v3_nonce, token, v3, params=request.form.to_dict()
            )
        elif v2 and v2_nonce:
            valid = validate_signature(url, v2_nonce, v2, token)
        else:
            return "X-Plivo-Signature-V3 (or -V2) and its nonce are missing"
    except Exception:  # the SDK's argument validators raise their own errors on odd input
        valid = False
    return None if valid else "invalid X-Plivo-Signature"


def _inbound(channel: str) -> list[InboundMessage]:
    return [parse_inbound(request.form, channel)]


def _status(channel: str) -> list[DeliveryReceipt]:
    our_id, attempt = callback_reference(request.args)
    return [parse_status(request.form, channel, our_id, attempt)]


blueprint = webhook_blueprint(
    "plivo", verify=verify_plivo_request, routes={"inbound": _inbound, "status": _status}
)
