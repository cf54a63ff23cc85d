"""`flask --app wsgi ...` commands for operators (SPEC §5)."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import schema
from .db import transaction
from .errors import AdapterError, SchemaOutOfDate
from .queue import redis_problem


def register(app: Flask) -> None:
    app.cli.add_command(db)
    app.cli.add_command(create_api_key)
    app.cli.add_command(list_api_keys)
    app.cli.add_command(revoke_api_key)
    app.cli.add_command(import_contacts)
    app.cli.add_command(worker)
    app.cli.add_command(requeue)
    app.cli.add_command(dev)


def _require_schema() -> None:
    try:
        schema.check_schema(current_app.extensions["adapter.engine"])
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from None


@click.group(help="Database schema commands.")
def db() -> None:
    pass


@db.command("upgrade", help="Bring the database to the newest schema.")
@with_appcontext
def db_upgrade() -> None:
    url = current_app.config["DATABASE_URL"]
    schema.upgrade(url)
    click.echo(f"Database is at revision {schema.head_revision()}.")


@db.command("current", help="Print the database's schema revision.")
@with_appcontext
def db_current() -> None:
    revision = schema.current_revision(current_app.extensions["adapter.engine"])
    click.echo(revision or "none (run `flask --app wsgi db upgrade`)")


@click.command("create-api-key", help="Create an application API key NAME and print it once.")
@click.argument("name")
@with_appcontext
def create_api_key(name: str) -> None:
    from .apikeys import create_api_key as create

    _require_schema()
    try:
        with transaction() as session:
            key = create(session, name)
    except AdapterError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(key)
    click.echo(f"Store this key now: it is not shown again. ({name})", err=True)


@click.command("list-api-keys", help="List the application API keys (names, never the keys).")
@with_appcontext
def list_api_keys() -> None:
    from .apikeys import list_api_keys as keys

    _require_schema()
    with transaction() as session:
        for api_key in keys(session):
            state = f"revoked {api_key.revoked_on:%Y-%m-%d %H:%M}" if api_key.revoked_on else "live"
            click.echo(f"{api_key.name}\tcreated {api_key.created_on:%Y-%m-%d %H:%M}\t{state}")


@click.command("revoke-api-key", help="Revoke the API key NAME; it is refused from now on.")
@click.argument("name")
@with_appcontext
def revoke_api_key(name: str) -> None:
    from .apikeys import revoke_api_key as revoke

    _require_schema()
    try:
        with transaction() as session:
            revoke(session, name)
    except AdapterError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Revoked {name}: requests with it get 401 from now on.")


@click.command(
    "import-contacts", help="Import contacts from a CSV file (phone, name, groups, status)."
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--batch-size", default=5000, show_default=True, help="Rows per transaction.")
@with_appcontext
def import_contacts(file: str, batch_size: int) -> None:
    from .contact_import import import_contacts as run

    _require_schema()
    path = Path(file)
    try:
        # Excel writes a byte-order mark; utf-8-sig reads files with and without one.
        with path.open(encoding="utf-8-sig", newline="") as counting:
            total = max(0, sum(1 for _ in counting) - 1)
        with (
            path.open(encoding="utf-8-sig", newline="") as source,
            click.progressbar(length=total, label=f"Importing {path.name}", file=sys.stderr) as bar,
        ):
            report = run(
                source,
                default_region=current_app.config["DEFAULT_REGION"],
                source_name=path.name,
                batch_size=batch_size,
                progress=bar.update,
            )
    except AdapterError as exc:
        raise click.ClickException(exc.message) from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{path.name} is not UTF-8 text: save it as CSV UTF-8") from None
    click.echo(
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.refused)} refused."
    )
    if report.created_stopped:
        click.echo(
            f"{report.created_stopped} created stopped: the number opted out before an earlier "
            "contact was deleted."
        )
    if report.groups_skipped:
        click.echo(f"{report.groups_skipped} row(s) joined no group: the contact is not active.")
    for refusal in report.refused:
        click.echo(f"line {refusal.line}: {refusal.reason}")


@click.command("worker", help="Run the RQ worker that sends messages.")
@click.option("--burst", is_flag=True, help="Drain the queue, then exit.")
@click.option(
    "--restart",
    is_flag=True,
    help="Restart the worker whenever it exits.",
)
@with_appcontext
def worker(burst: bool, restart: bool) -> None:
    from .worker import run_worker

    _require_schema()
    problem = redis_problem()
    if problem:
        raise click.ClickException(problem)
    if restart and not burst:
        from .supervise import supervise, worker_command

        sys.exit(supervise(worker_command(sys.orig_argv[1:])))
    run_worker(current_app._get_current_object(), burst=burst)  # type: ignore[attr-defined]


@click.command(
    "requeue", help="Wake every channel with queued messages that are due (the worker's sweep)."
)
@with_appcontext
def requeue() -> None:
    from .sweep import sweep

    _require_schema()
    problem = redis_problem()
    if problem:
        raise click.ClickException(problem)
    click.echo(f"Woke {sweep(settle=False)} channel(s) with due messages.")


@click.command("dev", help="Upgrade the database, then run the Procfile's web and worker.")
@click.option(
    "--port",
    type=int,
    default=None,
    help="Port of the web server on 127.0.0.1 [default: PORT, else BIND, else 8000].",
)
@with_appcontext
def dev(port: int | None) -> None:
    from honcho.environ import parse_procfile
    from honcho.manager import Manager

    bind = dev_bind(port, os.environ)
    problem = bind_problem(bind)
    if problem:
        raise click.ClickException(problem)
    schema.upgrade(current_app.config["DATABASE_URL"])
    problem = redis_problem()
    if problem:
        raise click.ClickException(problem)
    procfile = parse_procfile((Path(current_app.root_path).parent / "Procfile").read_text())
    env = dict(os.environ)
    # The Procfile names gunicorn and flask; find them beside this interpreter even when the
    # virtual environment is not activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["BIND"] = bind
    manager = Manager()
    for name, process in procfile.processes.items():
        if name == "worker":
            # honcho stops everything when one process exits; a crashed worker is restarted.
            process += " --restart"
        manager.add_process(name, process, env=env)
    click.echo(f"Serving on http://{bind} (Ctrl-C stops web and worker).")
    manager.loop()
    sys.exit(manager.returncode)


def dev_bind(port: int | None, env: Mapping[str, str]) -> str:
    """Where ``dev`` serves: ``--port``, else PORT, else BIND as given, else 127.0.0.1:8000."""
    if port is not None:
        return f"127.0.0.1:{port}"
    if env.get("PORT"):
        return f"127.0.0.1:{env['PORT']}"
    return env.get("BIND") or "127.0.0.1:8000"


def bind_problem(bind: str) -> str | None:
    """Why gunicorn could not listen on ``bind`` (one line saying what to do), or None.

    Checked before starting, because gunicorn alone retries a busy port for a while and ends
    with a message that does not say which setting to change.
    """
    host, _, port = bind.rpartition(":")
    if not port.isdigit():
        return f"cannot serve on {bind!r}: give --port N, PORT=N or BIND=host:port"
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host.strip("[]") or "0.0.0.0", int(port)))
    except OSError as exc:
        return (
            f"cannot serve on {bind}: {exc.strerror or exc} (another server is there?); "
            "stop it, or pick another port with --port N or PORT=N"
        )
    return None
