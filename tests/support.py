"""Helpers shared by the test modules: Twilio settings and correctly signed webhooks."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "test-auth-token"
TWILIO = {
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_FROM": "+14155550199",
    "PUBLIC_BASE_URL": "https://adapter.example.com",
    # High enough that only the rate-limit test meets the limit.
    "TWILIO_SENDS_PER_SECOND": "1000",
}


def twilio_signature(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


def post_signed(app: Flask, path: str, form: dict[str, str], token: str = AUTH_TOKEN):  # type: ignore[no-untyped-def]
    """POST ``form`` to ``path`` signed as Twilio signs it: over PUBLIC_BASE_URL + path."""
    base = app.config.get("PUBLIC_BASE_URL") or "http://localhost"
    signature = twilio_signature(base + path, form, token)
    return app.test_client().post(
        path,
        data=urlencode(form),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
