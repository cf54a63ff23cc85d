"""Events to the application: recorded in the outbox with the change they report (``record``),
delivered by a worker job signed by the Standard Webhooks scheme (``delivery``)."""

from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from ..errors import ConfigurationError
from .record import RECORDED

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Refuse a webhook URL without a usable secret at start, not at the first event."""
    url = app.config.get("APP_WEBHOOK_URL")
    if not url:
        return
    secret = app.config.get("APP_WEBHOOK_SECRET") or ""
    try:
        Webhook(secret)
    except Exception:
        raise ConfigurationError(
            "APP_WEBHOOK_URL is set but APP_WEBHOOK_SECRET is missing or not a Standard Webhooks "
            'secret (whsec_ followed by base64, e.g. from `python -c "import base64, os; '
            "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\"`)"
        ) from None


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    # Events are delivered only once committed; wake the deliverer now rather than at the
    # worker's next sweep.
    if session.info.pop(RECORDED, False) and has_app_context():
        from .delivery import wake_events

        try:
            wake_events(current_app._get_current_object())  # type: ignore[attr-defined]
        except Exception:
            log.exception("could not wake the event deliverer; the worker's pump will")


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(RECORDED, None)
