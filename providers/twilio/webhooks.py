"""Twilio's webhooks: the messaging webhook (inbound) and the status callback (receipts)."""

from __future__ import annotations

from flask import Response, current_app, request
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.twiml.messaging_response import MessagingResponse

from adapter.provider import DeliveryReceipt, InboundMessage
from adapter.webhooks import public_request_url, webhook_blueprint

from .inbound import parse_inbound
from .receipts import parse_status_callback


def verify_twilio_request() -> str | None:
    """None when the current request carries a valid X-Twilio-Signature, else why not.

    The URL checked is the one Twilio called (PUBLIC_BASE_URL behind a proxy), with the form.
    """
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not token:
        return "TWILIO_AUTH_TOKEN is not configured; webhooks cannot be verified"
    signature = request.headers.get("X-Twilio-Signature", "")
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    if not signature or not RequestValidator(token).validate(
        public_request_url(), request.form, signature, algorithm
    ):
        return "invalid X-Twilio-Signature"
    return None


def _inbound(channel: str) -> list[InboundMessage]:
    return [parse_inbound(request.form, channel)]


def _status(channel: str) -> list[DeliveryReceipt]:
    return [parse_status_callback(request.form, request.args, channel)]


# Replies go out through the outbox and the gate, like every message, so the TwiML is empty:
# one document, written once rather than built by the XML library for every webhook.
_EMPTY_TWIML = str(MessagingResponse())


def _twiml() -> Response:
    return Response(_EMPTY_TWIML, mimetype="application/xml")


blueprint = webhook_blueprint(
    "twilio",
    verify=verify_twilio_request,
    routes={"inbound": _inbound, "status": _status},
    answers={"inbound": _twiml},
)
