"""What every provider's webhook blueprint needs from the core."""

from __future__ import annotations

from flask import current_app, request


def public_request_url() -> str:
    """The URL the provider called, as it signed it: behind a proxy the app sees its own host
    and scheme, so PUBLIC_BASE_URL (when set) replaces them."""
    # A trailing slash in the setting must not make the signed URL read https://host//path.
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base:
        return request.url
    path = request.full_path if request.query_string else request.path
    return f"{base}{path}"
