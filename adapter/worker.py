"""The RQ worker: runs send jobs in-process, with the outbox sweeper beside it."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from rq import SimpleWorker

from .queue import redis_connection, worker_queues

log = logging.getLogger(__name__)


def run_worker(app: Flask, burst: bool = False) -> None:
    """Work the send queue until stopped (or, with ``burst``, until it is empty).

    ``SimpleWorker`` runs each job in this process: forking per message would cap throughput far
    below what providers allow. Jobs open their own database sessions, so nothing leaks between
    them through the app context pushed here.
    """
    from .outbox import sweep

    worker = SimpleWorker(worker_queues(app), connection=redis_connection(app))
    with app.app_context():
        if burst:
            sweep()
            worker.work(burst=True)
            return
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweep_forever, args=(app, stop), daemon=True)
        sweeper.start()
        try:
            worker.work()
        finally:
            stop.set()
            sweeper.join(timeout=5)


def _sweep_forever(app: Flask, stop: threading.Event) -> None:
    from .outbox import sweep

    interval = float(app.config["SWEEP_INTERVAL_SECONDS"])
    with app.app_context():
        while not stop.wait(interval):
            try:
                sweep()
            except Exception:
                # A failed sweep (Redis or the database away) is retried on the next tick.
                log.exception("outbox sweep failed; retrying in %.1fs", interval)
