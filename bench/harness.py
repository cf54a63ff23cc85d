"""What every benchmark here needs: an emptied database at the newest migration, and a free port.

The scripts run as `python bench/<name>.py`, so this folder is on their import path.
"""

from __future__ import annotations

import socket

from sqlalchemy import text

from adapter.db import make_engine
from adapter.schema import upgrade


def reset_database(url: str) -> None:
    """Drop the `public` schema of the PostgreSQL database at ``url`` and migrate it afresh."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
