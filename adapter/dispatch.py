"""Dispatching a channel's queued messages: RQ carries wake-up calls, not one job per message.

``wake(channel)`` queues one ``dispatch_channel`` job unless one is already waiting. The job takes
as many send slots as the channel's rate limit and the send pool allow, claims that many messages
through the gate, hands them to the pool, and goes on until the channel is drained or out of slots;
then it asks to be woken when the next slot frees up (a sorted set the worker's pump watches).
A message waiting for its turn is not touched at all, and a compliance reply, claimed first, waits
at most one slot behind any backlog.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import select

from . import ratelimit
from .db import transaction
from .gate import claim
from .models import Message
from .queue import redis_connection, redis_key, send_queue

log = logging.getLogger(__name__)

# Messages claimed per transaction at most.
CLAIM_BATCH = 200
# A dispatch job hands the worker back to RQ after this long, so other channels and other jobs
# get their turn; it wakes its channel again on the way out.
RUN_SECONDS = 1.0
# A wake-up key older than this is assumed lost with its job (Redis flushed, worker killed).
WAKE_TTL_SECONDS = 30

# Moves channels whose time has come from the schedule to the caller, atomically, so that only
# one worker's pump wakes each.
_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #due > 0 then
    redis.call('ZREM', KEYS[1], unpack(due))
end
return due
"""


def wake(channel: str, app: Flask | None = None) -> bool:
    """Make sure a dispatch job for ``channel`` is queued; False when Redis is away (the worker's
    sweep wakes the channel once it is back, and the messages wait in the database)."""
    app = app or current_app
    redis = redis_connection(app)
    try:
        if redis.set(redis_key("wake", channel, app=app), 1, nx=True, ex=WAKE_TTL_SECONDS):
            send_queue(app).enqueue(dispatch_channel, channel, result_ttl=0)
    except RedisError as exc:
        log.warning("Redis unavailable (%s); channel %s left for the sweep", exc, channel)
        return False
    return True


def wake_later(channel: str, delay: float, app: Flask | None = None) -> None:
    """Wake ``channel`` in ``delay`` seconds (the earliest of several requests wins)."""
    app = app or current_app
    redis_connection(app).zadd(
        redis_key("scheduled", app=app), {channel: time.time() + delay}, lt=True
    )


def wake_scheduled(app: Flask) -> int:
    """Wake every channel whose scheduled time has come; the worker's pump calls this."""
    due = redis_connection(app).eval(_DUE, 1, redis_key("scheduled", app=app), time.time())
    for channel in due:
        wake(channel.decode() if isinstance(channel, bytes) else channel, app)
    return len(due)


def dispatch_channel(channel: str) -> int:
    """The RQ job: send what the channel's limit allows now; returns how many were claimed."""
    from .sendpool import worker_send_pool
    from .sweep import fail_unknown_channel

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    redis = redis_connection(app)
    # From here on, any wake-up queues another run: nothing committed meanwhile is missed.
    redis.delete(redis_key("wake", channel, app=app))
    provider = app.extensions["adapter.providers"].get(channel)
    if provider is None:
        fail_unknown_channel(channel)
        return 0
    pool = worker_send_pool(app)
    rate = provider.sends_per_second(app.config)
    bucket = redis_key("ratelimit", channel, app=app)
    started = time.monotonic()
    taken = 0
    while True:
        threads = pool.room(CLAIM_BATCH, timeout=RUN_SECONDS)
        if not threads:
            wake(channel, app)
            return taken
        used = 0
        try:
            slots = ratelimit.take(redis, bucket, rate, threads)
            if not slots.granted:
                wake_later(channel, slots.wait, app)
                return taken
            with transaction() as session:
                batch = claim(session, channel, slots.granted)
            for claimed in batch.claimed:
                pool.submit(claimed)
                used += 1
        finally:
            # Threads reserved for messages that were not there (or a failure on the way) go back.
            pool.release(threads - used)
        taken += batch.taken
        ratelimit.give_back(redis, bucket, rate, slots.granted - len(batch.claimed))
        if batch.taken < slots.granted:
            return taken  # drained
        if slots.wait:
            wake_later(channel, slots.wait, app)
            return taken
        if time.monotonic() - started > RUN_SECONDS:
            wake(channel, app)
            return taken


def send_message(message_id: int) -> None:
    """A job of the earlier one-job-per-message design, still found on Redis after an upgrade:
    it wakes the message's channel, whose dispatcher claims the message if it is still due."""
    with transaction() as session:
        channel = session.scalar(select(Message.channel).where(Message.id == message_id))
    if channel is not None:
        dispatch_channel(channel)
