"""Redis, the RQ queues and the key namespace that keeps deployments sharing a Redis apart."""

from __future__ import annotations

import hashlib

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy.engine import make_url

# The queues a worker listens to, in the order it takes jobs from them.
SEND_QUEUE = "messages"
# Events to the application come last: a slow application must not hold back sends.
WORKER_QUEUES: tuple[str, ...] = (SEND_QUEUE, "admin", "app_events")


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


def namespace(app: Flask | None = None) -> str:
    """The prefix of every queue and Redis key of this deployment.

    QUEUE_NAMESPACE when set; otherwise derived from the database URL, so that two deployments
    with their own databases on one Redis never run each other's jobs, while every process of
    one deployment (same DATABASE_URL) agrees without being told.
    """
    app = app or current_app
    configured = (app.config.get("QUEUE_NAMESPACE") or "").strip()
    if configured:
        return configured
    cached = app.extensions.get("adapter.namespace")
    if cached is None:
        url = make_url(app.config["DATABASE_URL"]).render_as_string(hide_password=True)
        cached = "adapter-" + hashlib.sha256(url.encode()).hexdigest()[:12]
        app.extensions["adapter.namespace"] = cached
    return cached


def redis_key(*parts: str, app: Flask | None = None) -> str:
    """A Redis key inside this deployment's namespace."""
    return ":".join((namespace(app), *parts))


def named_queue(name: str, app: Flask | None = None) -> Queue:
    """The RQ queue ``name`` (one of WORKER_QUEUES) of this deployment."""
    return Queue(redis_key(name, app=app), connection=redis_connection(app))


def send_queue(app: Flask | None = None) -> Queue:
    return named_queue(SEND_QUEUE, app)


def worker_queues(app: Flask | None = None) -> list[Queue]:
    return [named_queue(name, app) for name in WORKER_QUEUES]


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
