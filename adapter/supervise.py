"""Keeping a worker process running on a developer's machine (``flask --app wsgi dev``).

In production the process manager (systemd, Kubernetes, Heroku) restarts a worker that exits; on a
laptop honcho would instead stop everything when one process ends, so the worker supervises itself.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

log = logging.getLogger(__name__)

# A worker that keeps dying right away is restarted no faster than this.
MIN_RESTART_SECONDS = 1.0


def supervise(command: Sequence[str]) -> int:
    """Run ``command`` again whenever it exits, until this process is asked to stop."""
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        started = time.monotonic()
        child = subprocess.Popen(list(command))
        code = child.wait()
        if stopping:
            return code
        log.warning("worker process exited with %s; restarting it", code)
        time.sleep(max(0.0, MIN_RESTART_SECONDS - (time.monotonic() - started)))


def worker_command(argv: Sequence[str]) -> list[str]:
    """This process's own command line without ``--restart``: the worker it supervises."""
    return [sys.executable, *[arg for arg in argv if arg != "--restart"]]
