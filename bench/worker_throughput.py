"""Send-job throughput: the in-process SimpleWorker against RQ's fork-per-job Worker.

Queues N messages to the development provider (no network), drains the queue with each worker
class in burst mode, and prints messages per second and their ratio. Uses the real database
(DATABASE_URL, default a temporary SQLite file) and Redis (BENCH_REDIS_URL, default db 14, which
is emptied).

    python bench/worker_throughput.py [N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from redis import Redis
from rq import SimpleWorker, Worker

from adapter import create_app, rules
from adapter.models import MessageKind
from adapter.outbox import create_outbound, enqueue
from adapter.queue import redis_connection, send_queue
from adapter.schema import upgrade


def queue_messages(app, count: int) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        ids = []
        for i in range(count):
            contact = rules.get_or_create_contact(session, f"+1415555{i % 10000:04d}")
            ids.append(create_outbound(session, contact, f"bench {i}", kind=MessageKind.API).id)
        session.commit()
        session.close()
        enqueue(ids)


def drain(app, worker_class) -> float:  # type: ignore[no-untyped-def]
    worker = worker_class([send_queue(app)], connection=redis_connection(app))
    start = time.perf_counter()
    with app.app_context():
        worker.work(burst=True, logging_level="WARNING")
    return time.perf_counter() - start


def main() -> None:
    # The development provider logs each message; keep the figures readable.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    Redis.from_url(redis_url).flushdb()
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "REDIS_URL": redis_url, "DEV_SENDS_PER_SECOND": "0"})
    print(f"database: {app.extensions['adapter.engine'].dialect.name}, messages: {count}")
    rates = {}
    for worker_class in (SimpleWorker, Worker):
        queue_messages(app, count)
        seconds = drain(app, worker_class)
        rates[worker_class.__name__] = count / seconds
        print(f"{worker_class.__name__:>12}: {seconds:6.2f} s, {count / seconds:7.1f} messages/s")
    print(f"ratio SimpleWorker / Worker: {rates['SimpleWorker'] / rates['Worker']:.1f}x")


if __name__ == "__main__":
    main()
