"""Staff accounts: creation (the `create-staff` command), password checks, login throttling."""

from __future__ import annotations

import contextlib
import logging
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from limits import parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import transaction, utcnow
from ..queue import redis_key
from .models import Role, Staff

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
# Failed logins allowed per account name and per client address before further tries wait.
LOGIN_FAILURES = parse("5 per 15 minutes")
# Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone")


class StaffError(click.ClickException):
    pass


def create_staff(session: Session, name: str, password: str, role: str = Role.AGENT) -> Staff:
    name = name.strip()
    if not name or len(name) > 100:
        raise StaffError("the staff name must be 1 to 100 characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(Staff.id).where(Staff.name == name)) is not None:
        raise StaffError(f"a staff account named {name!r} exists already")
    staff = Staff(name=name, password_hash=generate_password_hash(password), role=Role(role).value)
    session.add(staff)
    session.flush()
    return staff


def authenticate(session: Session, name: str, password: str) -> Staff | None:
    staff = session.scalar(select(Staff).where(Staff.name == name.strip()))
    if staff is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(staff.password_hash, password):
        return None
    staff.last_login_on = utcnow()
    return staff


# --- throttling -------------------------------------------------------------------------------


def _limiter(app: Flask) -> MovingWindowRateLimiter:
    limiter = app.extensions.get("admin.login_limiter")
    if limiter is None:
        storage = RedisStorage(
            app.config["REDIS_URL"],
            key_prefix=redis_key("login-failures", app=app),
            socket_connect_timeout=2,
            socket_timeout=5,
        )
        limiter = MovingWindowRateLimiter(storage)
        app.extensions["admin.login_limiter"] = limiter
    return limiter


def _identities(name: str, address: str) -> list[tuple[str, str]]:
    return [("name", name.strip().lower()), ("address", address)]


def login_wait(name: str, address: str) -> int:
    """Seconds before another login may be tried for ``name`` from ``address`` (0: go ahead).

    When Redis does not answer, logins are let through (logged): staff must still be able to
    stop someone's texts while Redis is being repaired.
    """
    limiter = _limiter(current_app)
    wait = 0
    try:
        for identity in _identities(name, address):
            if not limiter.test(LOGIN_FAILURES, *identity):
                reset_at, _remaining = limiter.get_window_stats(LOGIN_FAILURES, *identity)
                wait = max(wait, int(reset_at - time.time()) + 1)
    except RedisError:
        log.warning("login throttling is off: Redis does not answer")
    return wait


def record_failure(name: str, address: str) -> None:
    limiter = _limiter(current_app)
    try:
        for identity in _identities(name, address):
            limiter.hit(LOGIN_FAILURES, *identity)
    except RedisError:
        log.warning("login throttling is off: Redis does not answer")


def clear_failures(name: str) -> None:
    with contextlib.suppress(RedisError):
        _limiter(current_app).clear(LOGIN_FAILURES, *_identities(name, "")[0])


# --- CLI --------------------------------------------------------------------------------------


@click.command("create-staff", help="Create a staff account NAME for the admin page.")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.AGENT.value,
    show_default=True,
    help="admin staff may also delete contacts.",
)
@with_appcontext
def create_staff_command(name: str, role: str) -> None:
    from ..cli import _require_schema

    _require_schema()
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with transaction() as session:
        create_staff(session, name, password, role)
    click.echo(f"Created {role} {name!r}; log in at /admin/login.")
    current_app.logger.info("staff account created (%s)", role)
