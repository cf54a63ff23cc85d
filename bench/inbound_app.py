"""The app exactly as the Procfile serves it (``wsgi:app``), plus the two ceilings
``bench/inbound.py`` measures in the same gunicorn: a route that does nothing with the webhook
and one that stores it with a single durable INSERT."""

from __future__ import annotations

from flask import request
from sqlalchemy import text

from wsgi import app

_INSERT = text("INSERT INTO bench_inbound (sid, sender, body) VALUES (:sid, :sender, :body)")


@app.post("/bench/noop")
def noop() -> tuple[str, int]:
    request.form  # noqa: B018 - parsed like every webhook, then nothing
    return "", 204


@app.post("/bench/insert")
def insert() -> tuple[str, int]:
    form = request.form
    with app.extensions["adapter.engine"].begin() as connection:
        connection.execute(
            _INSERT, {"sid": form["MessageSid"], "sender": form["From"], "body": form["Body"]}
        )
    return "", 204
