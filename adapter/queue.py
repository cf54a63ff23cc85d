"""Redis and the RQ queue that carries send jobs."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

QUEUE_NAME = "messages"


def redis_connection(app: Flask | None = None) -> Redis:
    """The app's Redis client (one per process; redis-py pools its connections)."""
    app = app or current_app
    client = app.extensions.get("adapter.redis")
    if client is None:
        # Short timeouts: when Redis is down the API must still answer (the outbox keeps the
        # message), not hang.
        client = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        app.extensions["adapter.redis"] = client
    return client


def send_queue(app: Flask | None = None) -> Queue:
    return Queue(QUEUE_NAME, connection=redis_connection(app))


def redis_problem(app: Flask | None = None) -> str | None:
    """None when Redis answers; otherwise one line saying what is wrong and how to fix it."""
    app = app or current_app
    try:
        redis_connection(app).ping()
    except RedisError as exc:
        url = app.config["REDIS_URL"]
        return (
            f"Redis at {_without_password(url)} does not answer ({exc.__class__.__name__}): "
            "start it (e.g. `redis-server --daemonize yes`) or set REDIS_URL."
        )
    return None


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
