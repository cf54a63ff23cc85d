"""Twilio's webhooks: the messaging webhook (inbound) and the status callback (receipts)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.twiml.messaging_response import MessagingResponse

from adapter.errors import AdapterError
from adapter.inbound import handle_inbound
from adapter.receipts import apply_receipt
from adapter.webhooks import public_request_url

from .inbound import parse_inbound
from .receipts import parse_status_callback

CHANNEL = "twilio"

log = logging.getLogger(__name__)
blueprint = Blueprint("twilio", __name__, url_prefix="/twilio")


# Every route of this blueprint is a Twilio webhook, so every one is checked before its view runs.
@blueprint.before_request
def verify_twilio_request() -> Response | None:
    """None when the current request carries a valid X-Twilio-Signature, else the 403 to answer.

    Registered for every route of this blueprint; a view elsewhere can call it directly.
    The URL checked is the one Twilio called (PUBLIC_BASE_URL behind a proxy), with the form.
    """
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not token:
        log.error("Twilio webhook refused: TWILIO_AUTH_TOKEN is not set, so it cannot be verified")
        return _text("TWILIO_AUTH_TOKEN is not configured; webhooks cannot be verified", 403)
    signature = request.headers.get("X-Twilio-Signature", "")
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    url = public_request_url()
    if not signature or not RequestValidator(token).validate(
        url, request.form, signature, algorithm
    ):
        log.warning("Twilio webhook refused: bad or missing signature for %s", url)
        return _text("invalid X-Twilio-Signature", 403)
    return None


@blueprint.errorhandler(AdapterError)
def _bad_request(exc: AdapterError) -> Response:
    # Twilio shows the body in its debugger; say what was wrong with the request.
    return _text(exc.message, exc.http_status)


@blueprint.post("/inbound")
def inbound() -> Response:
    handle_inbound(parse_inbound(request.form, CHANNEL))
    # Replies go out through the outbox and the gate, like every message, so the TwiML is empty.
    return Response(str(MessagingResponse()), mimetype="application/xml")


@blueprint.post("/status")
def status() -> Response:
    receipt = parse_status_callback(request.form, request.args, CHANNEL)
    apply_receipt(receipt)
    return Response(status=204)


def _text(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")
