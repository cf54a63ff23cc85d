"""Helpers for the admin page's tests: staff accounts, logging in through the real form, CSRF
tokens read from the page as a browser would, and contacts arranged through the rules module."""

from __future__ import annotations

import re
from datetime import datetime
from itertools import count
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from support import TWILIO, post_signed

from adapter import rules
from adapter.admin.accounts import create_staff
from adapter.models import Contact

PASSWORD = "correct horse battery"
_sids = count(1)


def make_staff(app: Flask, name: str = "alice", role: str = "admin") -> str:
    with app.app_context():
        session = app.extensions["adapter.write_sessionmaker"]()
        create_staff(session, name, PASSWORD, role)
        session.commit()
        session.close()
    return name


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def attempt_login(client: FlaskClient, name: str, password: str, **fields: str):  # type: ignore[no-untyped-def]
    """Fill in and send the login form as a person would."""
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    return client.post(
        "/admin/login",
        data={"name": name, "password": password, "csrf_token": token, **fields},
    )


def logged_in(app: Flask, name: str = "alice", role: str = "admin") -> FlaskClient:
    make_staff(app, name, role)
    client = app.test_client()
    response = attempt_login(client, name, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post_page_form(client: FlaskClient, page_path: str, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    """Submit a form at ``path`` with the CSRF token of the page at ``page_path``."""
    token = csrf_token(client.get(page_path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def add_contact(
    app: Flask,
    phone: str,
    name: str | None = None,
    status: str = "active",
    last_seen_on: datetime | None = None,
) -> int:
    with app.app_context():
        session = app.extensions["adapter.write_sessionmaker"]()
        contact = rules.get_or_create_contact(session, phone, name)
        if status != "active":
            rules.set_status(session, contact, status, rules.Cause(source="system"))
        contact.last_seen_on = last_seen_on
        session.commit()
        contact_id = contact.id
        session.close()
    return contact_id


def text_in(app: Flask, phone: str, body: str) -> None:
    """An inbound text from ``phone`` through the real, signed Twilio webhook."""
    form = {
        "MessageSid": f"SM{next(_sids):032d}",
        "AccountSid": TWILIO["TWILIO_ACCOUNT_SID"],
        "From": phone,
        "To": TWILIO["TWILIO_FROM"],
        "Body": body,
        "NumMedia": "0",
    }
    response = post_signed(app, "/twilio/inbound", form)
    assert response.status_code == 200, response.get_data(as_text=True)


def contact_status(app: Flask, phone: str) -> str | None:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        contact = session.query(Contact).filter_by(phone=phone).one_or_none()
        status = contact.status if contact else None
        session.close()
    return status


def query(**args: str) -> str:
    return "/admin/?" + urlencode(args)
