"""The worker process: RQ's loop runs the dispatch jobs (and the admin's and others'), a send pool
keeps many sends in flight, and a pump thread wakes channels on time and sweeps.

It outlives Redis and the database going away: RQ's loop is restarted when it ends on a Redis
error, the pump retries on its next tick, and the send pool's recorder holds answers until the
database is back.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.exceptions import StopRequested

from .queue import redis_connection, worker_queues

log = logging.getLogger(__name__)

# How often the pump wakes channels whose rate-limit slot has come; a compliance reply behind a
# backlog waits at most this long beyond its slot.
PUMP_SECONDS = 0.1
# Seconds between attempts to restart RQ's loop while Redis is away.
RESTART_DELAY_SECONDS = 1.0
# A burst worker gives up when nothing could be sent for this long (the database is away, say).
BURST_PATIENCE_SECONDS = 60.0


def run_worker(app: Flask, burst: bool = False) -> None:
    """Work until stopped (or, with ``burst``, until no message is due and every send answered).

    ``SimpleWorker`` runs each job in this process: the send pool and its connections live here,
    and forking per job would throw them away.
    """
    from .sendpool import shutdown_send_pool, worker_send_pool

    with app.app_context():
        worker_send_pool(app)
        try:
            if burst:
                _drain(app)
            else:
                _work_forever(app)
        finally:
            # A warm shutdown: the sends in flight finish and their answers are stored.
            shutdown_send_pool(app)


def _work_forever(app: Flask) -> None:
    stop = threading.Event()
    pump = threading.Thread(target=_pump, args=(app, stop), name="pump", daemon=True)
    pump.start()
    try:
        while True:
            worker = None
            try:
                # Even building an RQ worker talks to Redis.
                worker = SimpleWorker(worker_queues(app), connection=redis_connection(app))
                worker.work()
            except StopRequested:
                return
            except RedisError as exc:
                log.warning("RQ's loop lost Redis (%s)", exc.__class__.__name__)
            if worker is not None and (worker._stop_requested or worker._shutdown_requested_date):
                return
            log.warning(
                "RQ's loop ended without a stop request; restarting it in %.0fs",
                RESTART_DELAY_SECONDS,
            )
            time.sleep(RESTART_DELAY_SECONDS)
    finally:
        stop.set()
        pump.join(timeout=5)


def _pump(app: Flask, stop: threading.Event) -> None:
    from .app_events.delivery import pump as app_events_pump
    from .dispatch import wake_scheduled
    from .sweep import sweep

    interval = float(app.config["SWEEP_INTERVAL_SECONDS"])
    next_sweep = 0.0
    with app.app_context():
        while not stop.wait(PUMP_SECONDS):
            try:
                wake_scheduled(app)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + interval
                    sweep()
                    app_events_pump(app)
            except Exception as exc:
                # Redis or the database away: the next tick tries again.
                log.warning("pump: %s; retrying", exc.__class__.__name__)


def _drain(app: Flask) -> None:
    """Burst mode: send everything due now, then return."""
    from .dispatch import wake_scheduled
    from .sendpool import worker_send_pool
    from .sweep import due_count, sweep

    pool = worker_send_pool(app)
    worker = SimpleWorker(worker_queues(app), connection=redis_connection(app))
    idle_since = time.monotonic()
    while True:
        sweep()
        wake_scheduled(app)
        worked = worker.work(burst=True)
        pool.wait_idle()
        if not due_count():
            return
        if worked:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > BURST_PATIENCE_SECONDS:
            log.error("burst worker: messages are due but none could be sent; giving up")
            return
        else:
            # Waiting for a rate-limit slot.
            time.sleep(PUMP_SECONDS)
