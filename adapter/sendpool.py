"""Many sends in flight from one worker process: a pool of threads calls the providers, and one
recorder thread stores their answers in batches.

Threads suit the job: a send spends its time waiting on the provider's API, and the senders
share pooled keep-alive connections. The recorder keeps answers in memory while the database is
away and stores them when it is back; if the process dies first, the reconciler settles those
messages (they are left ``sending``, never sent again blindly).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy.exc import DBAPIError, OperationalError

from . import config
from .db import transaction
from .gate import Claimed
from .outcomes import Outcome, record
from .provider import Sender, SendError

log = logging.getLogger(__name__)

# Answers stored per transaction at most; a busy pool fills a batch within milliseconds.
RECORD_BATCH = 500


class SendPool:
    def __init__(self, app: Flask, concurrency: int) -> None:
        self.app = app
        self.concurrency = concurrency
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="send")
        self._free = threading.Semaphore(concurrency)
        self._in_flight = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._answers: queue.Queue[Outcome | None] = queue.Queue()
        self._senders: dict[str, Sender] = {}
        self._recorder = threading.Thread(target=self._record_forever, name="recorder", daemon=True)
        self._recorder.start()

    def room(self, wanted: int, timeout: float) -> int:
        """Reserve up to ``wanted`` free threads, waiting up to ``timeout`` for the first."""
        if not self._free.acquire(timeout=timeout):
            return 0
        got = 1
        while got < wanted and self._free.acquire(blocking=False):
            got += 1
        return got

    def release(self, unused: int) -> None:
        for _ in range(unused):
            self._free.release()

    def submit(self, claimed: Claimed) -> None:
        """Send ``claimed`` on a thread reserved with :meth:`room`."""
        with self._lock:
            self._in_flight += 1
        self._executor.submit(self._send, claimed)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every send submitted so far has been answered and its answer stored."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def shutdown(self) -> None:
        """Finish the sends in flight and store their answers (a warm shutdown)."""
        self._executor.shutdown(wait=True)
        self._answers.put(None)
        self._recorder.join()

    def sender(self, channel: str) -> Sender:
        sender = self._senders.get(channel)
        if sender is None:
            with self._lock:
                sender = self._senders.get(channel)
                if sender is None:
                    provider = self.app.extensions["adapter.providers"][channel]
                    sender = provider.sender(self.app.config, pool_size=self.concurrency)
                    self._senders[channel] = sender
        return sender

    def _send(self, claimed: Claimed) -> None:
        request = claimed.request
        outcome: Outcome
        try:
            result = self.sender(claimed.channel).send(request)
            outcome = Outcome(request.message_id, request.attempt, result=result)
        except SendError as exc:
            outcome = Outcome(request.message_id, request.attempt, error=exc)
        except Exception as exc:
            log.exception("message %s: the send raised", request.message_id)
            outcome = Outcome(request.message_id, request.attempt, crash=type(exc).__name__)
        finally:
            self._free.release()
        self._answers.put(outcome)

    def _record_forever(self) -> None:
        with self.app.app_context():
            while True:
                first = self._answers.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < RECORD_BATCH:
                    try:
                        more = self._answers.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._answers.put(None)
                        break
                    batch.append(more)
                self._store(batch)
                with self._idle:
                    self._in_flight -= len(batch)
                    self._idle.notify_all()

    def _store(self, batch: list[Outcome]) -> None:
        delay = 0.5
        while True:
            try:
                with transaction() as session:
                    record(session, batch)
                return
            except DBAPIError as exc:
                if not exc.connection_invalidated and not isinstance(exc, OperationalError):
                    self._store_one_by_one(batch)
                    return
                # The database is away: keep the answers and try again; they are the only record
                # of what the provider took.
                log.warning(
                    "could not store %d send answer(s) (%s); retrying in %.1fs",
                    len(batch),
                    exc.__class__.__name__,
                    delay,
                )
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
            except Exception:
                self._store_one_by_one(batch)
                return

    def _store_one_by_one(self, batch: list[Outcome]) -> None:
        # One bad answer must not cost the others; one that cannot be stored leaves its message
        # `sending`, which the reconciler settles.
        for outcome in batch:
            try:
                with transaction() as session:
                    record(session, [outcome])
            except Exception:
                log.exception("message %s: could not store the send's answer", outcome.message_id)


def worker_send_pool(app: Flask) -> SendPool:
    """This process's send pool (made on first use; one per worker process)."""
    pool = app.extensions.get("adapter.send_pool")
    if pool is None:
        concurrency = int(app.config.get("SEND_CONCURRENCY") or config.SEND_CONCURRENCY)
        pool = app.extensions.setdefault("adapter.send_pool", SendPool(app, concurrency))
    return pool


def shutdown_send_pool(app: Flask) -> None:
    pool = app.extensions.pop("adapter.send_pool", None)
    if pool is not None:
        pool.shutdown()
