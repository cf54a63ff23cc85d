"""`flask --app wsgi worker` that also counts the database commits it makes, for
bench/outbound.py: every half second it writes the count so far to $BENCH_COMMITS_FILE.

Counting in the worker itself (SQLAlchemy's commit event) measures the adapter alone; the
database-wide counter also sees autovacuum, the web processes and the benchmark's own queries.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapter.worker import run_worker
from wsgi import app

_commits = itertools.count()  # next() is atomic under the GIL: safe from every send thread
_seen = [0]


@event.listens_for(app.extensions["adapter.engine"], "commit")
def _count(_connection) -> None:  # type: ignore[no-untyped-def]
    _seen[0] = next(_commits) + 1


def _publish(path: Path, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        path.write_text(str(_seen[0]))


if __name__ == "__main__":
    out = Path(os.environ["BENCH_COMMITS_FILE"])
    stop = threading.Event()
    threading.Thread(target=_publish, args=(out, stop), daemon=True).start()
    try:
        run_worker(app)
    finally:
        stop.set()
        out.write_text(str(_seen[0]))
