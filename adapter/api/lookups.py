"""What a request's phone number or a URL's name refers to: a contact, a group."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from .. import rules
from ..db import get_session
from ..errors import ContactNotFound, GroupNotFound
from ..inputs import storable
from ..models import Contact, Group
from ..phone import to_e164


def phone(value: object) -> str:
    """``value`` in E.164 form, a national number read in ``DEFAULT_REGION``."""
    return to_e164(value, current_app.config["DEFAULT_REGION"])


def find_contact(number: str, lock: bool = False) -> Contact:
    """The contact a URL's phone number names, locked for change when ``lock``; else a 404."""
    e164 = phone(number)
    session = get_session()
    if lock:
        contact = rules.lock_contact(session, e164)
    else:
        contact = session.scalar(select(Contact).where(Contact.phone == e164))
    if contact is None:
        raise ContactNotFound(f"no contact with phone {e164}")
    return contact


def find_group(name: str) -> Group:
    """The group a URL names; else a 404."""
    storable(name, "name")
    group = get_session().scalar(select(Group).where(Group.name == name))
    if group is None:
        raise GroupNotFound(f"no group named {name!r}")
    return group
