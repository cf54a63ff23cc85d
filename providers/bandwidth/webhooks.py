"""Bandwidth's callbacks, authenticated with the HTTP Basic credentials set on the application."""

from __future__ import annotations

from flask import request

from adapter.webhooks import WebhookEvent, json_body, same_secret, setting, webhook_blueprint

from .events import parse_callback


def verify_bandwidth_request() -> str | None:
    """None when the request carries the application's callback credentials."""
    username = setting("BANDWIDTH_CALLBACK_USERNAME")
    password = setting("BANDWIDTH_CALLBACK_PASSWORD")
    if username is None or password is None:
        return "BANDWIDTH_CALLBACK_USERNAME and _PASSWORD are not configured"
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return "HTTP Basic credentials are missing"
    # Both compared, always: which one was wrong must not show in the answer's timing.
    user_ok = same_secret(auth.username or "", username)
    password_ok = same_secret(auth.password or "", password)
    return None if user_ok and password_ok else "wrong HTTP Basic credentials"


def _events(channel: str) -> list[WebhookEvent]:
    return parse_callback(json_body(), channel)


blueprint = webhook_blueprint(
    "bandwidth",
    verify=verify_bandwidth_request,
    # The application has one callback URL for every event; either route takes any of them.
    routes={"inbound": _events, "status": _events},
)
