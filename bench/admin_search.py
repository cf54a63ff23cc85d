"""The admin page on 1,000,000 contacts: folder pages, searches and a 100,000-contact bulk archive.

Resets the PostgreSQL database it is given (BENCH_DATABASE_URL; its public schema is DROPPED),
loads 1,000,000 contacts with one set-based INSERT, serves the app with gunicorn, logs in as a
staff member and times the pages over HTTP (each page's server time comes from its
Server-Timing header), then archives the 100,000 dormant active contacts through the bulk form
and a real worker process, timing the job from the form's POST to its end.

    createdb -h 127.0.0.1 -U postgres h9bench
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/h9bench \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/admin_search.py
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from harness import free_port, reset_database
from redis import Redis
from sqlalchemy import text

from adapter import create_app
from adapter.admin.accounts import create_staff
from adapter.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
CONTACTS = 1_000_000
PAGE_CEILING_MS = 50.0
BULK_CEILING_S = 10.0
LOAD_CEILING_S = 60.0
REPEAT = 15
PASSWORD = "bench password 123"

# One row in ten (100,000) is active and last seen in 2023: the dormant contacts to archive.
# The others: mostly active, some stopped / blocked / archived, a fifth never seen.
LOAD = text(
    """
    INSERT INTO contacts (phone, name, status, opted_out, phone_valid, unreachable_count,
                          last_seen_on, created_on, modified_on)
    SELECT '+1415' || (2000000 + g)::text,
           'Person ' || g,
           CASE WHEN g % 10 = 3 THEN 'active'
                WHEN g % 50 = 1 THEN 'stopped'
                WHEN g % 50 = 2 THEN 'blocked'
                WHEN g % 20 = 5 THEN 'archived'
                ELSE 'active' END,
           g % 50 = 1, true, 0,
           CASE WHEN g % 10 = 3 THEN timestamptz '2023-01-01' + (g % 360) * interval '1 day'
                WHEN g % 5 = 4 THEN NULL
                ELSE timestamptz '2024-01-01' + (g % 1000) * interval '1 day' END,
           now(), now()
    FROM generate_series(1, :n) AS g
    """
)


def load(url: str) -> float:
    engine = make_engine(url)
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(LOAD, {"n": CONTACTS})
    seconds = time.perf_counter() - start
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE contacts"))
    engine.dispose()
    return seconds


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            requests.get(url, timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise SystemExit(f"the server at {url} did not answer")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def timed(http: requests.Session, url: str) -> tuple[float, float, str]:
    """Median server time and median wall time (ms) of ``REPEAT`` GETs, and the last page."""
    server, wall = [], []
    body = ""
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = http.get(url, timeout=30)
        wall.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        server.append(float(response.headers["Server-Timing"].split("dur=")[1]))
        body = response.text
    return statistics.median(server), statistics.median(wall), body


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        raise SystemExit("set BENCH_DATABASE_URL to a PostgreSQL database this may wipe")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    Redis.from_url(redis_url).flushdb()
    reset_database(url)
    load_s = load(url)
    print(f"loaded {CONTACTS:,} contacts in {load_s:.1f} s (ceiling {LOAD_CEILING_S:.0f} s)")

    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    env.update(DATABASE_URL=url, REDIS_URL=redis_url, SECRET_KEY="bench", LOG_LEVEL="WARNING")
    os.environ.update(DATABASE_URL=url, REDIS_URL=redis_url)
    app = create_app({"DATABASE_URL": url, "REDIS_URL": redis_url})
    with app.app_context():
        session = app.extensions["adapter.write_sessionmaker"]()
        create_staff(session, "bench", PASSWORD, "admin")
        session.commit()
        session.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    web = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for(base + "/admin/login")
        http = requests.Session()
        token = csrf(http.get(base + "/admin/login").text)
        http.post(
            base + "/admin/login", data={"name": "bench", "password": PASSWORD, "csrf_token": token}
        ).raise_for_status()
        # A page that reads nothing from the database: the floor every page stands on.
        floor, _, _ = timed(http, base + "/admin/login")
        rows = []
        for folder in ("active", "stopped", "blocked", "archived"):
            server, wall, body = timed(http, f"{base}/admin/?folder={folder}")
            rows.append((f"folder {folder}, first page", server, wall))
            cursor = re.search(r'rel="next" href="([^"]+)"', body)
            if cursor:
                deep = base + cursor.group(1).replace("&amp;", "&")
                server, wall, _ = timed(http, deep)
                rows.append((f"folder {folder}, next page", server, wall))
        for label, query in (
            ("number search '(415) 212-3456'", "q=%28415%29+212-3456"),
            ("name search 'person 12345'", "q=person+12345"),
            ("dormant search (active, seen before 2024-01-01)", "seen_before=2024-01-01"),
            ("never seen (active)", "never_seen=y"),
        ):
            server, wall, body = timed(http, f"{base}/admin/?folder=active&{query}")
            rows.append((label, server, wall))
            cursor = re.search(r'rel="next" href="([^"]+)"', body)
            if cursor:
                server, wall, _ = timed(http, base + cursor.group(1).replace("&amp;", "&"))
                rows.append((f"{label}, next page", server, wall))
        print(
            f"\n{'page':<60} {'server ms':>10} {'wall ms':>8}  (ceiling {PAGE_CEILING_MS:.0f} ms;"
            f" empty page {floor:.1f} ms)"
        )
        for label, server, wall in rows:
            verdict = "ok" if server < PAGE_CEILING_MS else "OVER"
            print(f"{label:<60} {server:>10.1f} {wall:>8.1f}  {verdict}")

        confirm = http.get(f"{base}/admin/bulk?folder=active&seen_before=2024-01-01").text
        matching = re.search(r"<b>([\d,]+)</b> contact", confirm).group(1)  # type: ignore[union-attr]
        # The worker runs before the job is queued, as in production: its start-up is not
        # part of the figure.
        worker = subprocess.Popen(
            [str(bin_dir / "flask"), "--app", "wsgi", "worker"], cwd=ROOT, env=env
        )
        time.sleep(5)
        start = time.perf_counter()
        response = http.post(
            base + "/admin/bulk",
            data={
                "scope": "search",
                "folder": "active",
                "seen_before": "2024-01-01",
                "action": "archive",
                "reason": "bench",
                "csrf_token": csrf(confirm),
            },
            allow_redirects=False,
        )
        job_url = base + response.headers["Location"] + "/progress"
        while True:
            progress = http.get(job_url).json()
            if progress["status"] in ("finished", "failed"):
                break
            time.sleep(0.05)
        bulk_s = time.perf_counter() - start
        worker.terminate()
        worker.wait(timeout=30)
        verdict = "ok" if bulk_s < BULK_CEILING_S else "OVER"
        print(
            f"\nbulk archive of {matching} dormant contacts: {progress['status']}, "
            f"{progress['changed']:,} changed in {bulk_s:.1f} s "
            f"(ceiling {BULK_CEILING_S:.0f} s, form POST to job end)  {verdict}"
        )
        counts = http.get(f"{base}/admin/?folder=archived").text
        archived = re.search(
            r'data-folder="archived">Archived\s*<span class="count">([\d,]+)', counts
        )
        print(f"archived folder count after the job: {archived.group(1) if archived else '?'}")
        engine = make_engine(url)
        with engine.connect() as connection:
            exact = dict(
                connection.execute(
                    text("SELECT status, count(*) FROM contacts GROUP BY status")
                ).all()
            )
            kept = dict(
                connection.execute(
                    text("SELECT status, sum(n) FROM contact_counts GROUP BY status")
                ).all()
            )
        engine.dispose()
        same = {k: int(v) for k, v in kept.items() if v} == exact
        print(f"trigger-kept counts {'equal' if same else 'DIFFER FROM'} count(*): {exact}")
    finally:
        web.terminate()
        web.wait(timeout=10)


if __name__ == "__main__":
    main()
