"""The application side at scale: `import-contacts` on a large CSV, and a group send.

Resets the PostgreSQL database it is given (BENCH_DATABASE_URL; its public schema is DROPPED).

1. Imports ROWS contacts (default 1,000,000; one row in a hundred bad) through the importer the
   CLI runs, then the same file again (every row unchanged), and prints rows/s with the issue's
   ceiling: 1,000,000 rows "in minutes", taken as 5 minutes.
2. Puts MEMBERS contacts (default 100,000) in one group with one set-based INSERT, then times
   `POST /api/v1/messages {"group": ...}` through the API, with the issue's ceiling: 100,000
   members "in seconds, not minutes", taken as 10 s.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/h10 \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python bench/app_side.py [ROWS] [MEMBERS]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from harness import reset_database
from sqlalchemy import text

from adapter import create_app
from adapter.apikeys import create_api_key
from adapter.contact_import import import_contacts
from adapter.db import transaction

IMPORT_CEILING_S_PER_MILLION = 300.0
GROUP_CEILING_S_PER_100K = 10.0


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("phone,name,groups,status\n")
        for n in range(rows):
            if n % 100 == 99:
                out.write(f"not a number {n},Bad {n},,\n")
            else:
                status = "blocked" if n % 50 == 7 else ""
                group = "vip" if n % 10 == 1 else ""
                out.write(f"+1415{2000000 + n},Person {n},{group},{status}\n")


def bench_import(app, rows: int) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        write_csv(path, rows)
        for run in ("first run", "second run (same file)"):
            started = time.perf_counter()
            with app.app_context(), path.open(newline="") as source:
                report = import_contacts(source, default_region="US", source_name=path.name)
            seconds = time.perf_counter() - started
            per_million = seconds * 1_000_000 / rows
            print(
                f"import {rows:,} rows, {run}: {seconds:.1f} s ({rows / seconds:,.0f} rows/s; "
                f"{per_million:.0f} s per million, ceiling {IMPORT_CEILING_S_PER_MILLION:.0f} s) "
                f"created {report.created:,}, updated {report.updated:,}, "
                f"unchanged {report.unchanged:,}, refused {len(report.refused):,}"
            )


def bench_group_send(app, members: int) -> None:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction() as session:
        session.execute(text("DELETE FROM messages"))
        session.execute(text("DELETE FROM contacts"))
        session.execute(text("INSERT INTO groups (name, created_on) VALUES ('all', now())"))
        session.execute(
            text(
                """
                INSERT INTO contacts (phone, status, opted_out, phone_valid, unreachable_count,
                                      created_on, modified_on)
                SELECT '+1415' || (3000000 + g)::text, 'active', false, true, 0, now(), now()
                FROM generate_series(1, :n) AS g
                """
            ),
            {"n": members},
        )
        session.execute(
            text(
                "INSERT INTO group_memberships (contact_id, group_id) "
                "SELECT c.id, g.id FROM contacts c, groups g WHERE g.name = 'all'"
            )
        )
        key = create_api_key(session, "bench")
    client = app.test_client()
    started = time.perf_counter()
    response = client.post(
        "/api/v1/messages",
        json={"group": "all", "body": "Doors open at 9"},
        headers={"Authorization": f"Bearer {key}"},
    )
    seconds = time.perf_counter() - started
    assert response.status_code == 202, response.get_data(as_text=True)
    count = response.get_json()["count"]
    ceiling = GROUP_CEILING_S_PER_100K * members / 100_000
    print(
        f"group send to {count:,} members: {seconds:.1f} s ({count / seconds:,.0f} messages/s; "
        f"ceiling {ceiling:.0f} s)"
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    members = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    url = os.environ["BENCH_DATABASE_URL"]
    reset_database(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "SECRET_KEY": "bench",
        }
    )
    bench_import(app, rows)
    bench_group_send(app, members)


if __name__ == "__main__":
    main()
