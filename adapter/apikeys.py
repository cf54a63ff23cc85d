"""Application API keys: created once, shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import utcnow
from .errors import InvalidRequest
from .models import ApiKey

# A prefix makes a leaked key recognisable to secret scanners and in support requests.
KEY_PREFIX = "sk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(session: Session, name: str) -> str:
    """Store a new key named ``name`` and return it; this is the only time it is seen."""
    name = name.strip()
    if not name:
        raise InvalidRequest("an API key needs a name")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise InvalidRequest(f"an API key named {name!r} exists already")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, key_hash=hash_key(key)))
    session.flush()
    return key


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.name)))


def revoke_api_key(session: Session, name: str) -> ApiKey:
    """Revoke the key named ``name``: every request with it is refused from the commit on."""
    api_key = session.scalar(select(ApiKey).where(ApiKey.name == name.strip()).with_for_update())
    if api_key is None:
        raise InvalidRequest(f"no API key named {name!r}")
    if api_key.revoked_on is None:
        api_key.revoked_on = utcnow()
    return api_key


def find_api_key(session: Session, key: str) -> ApiKey | None:
    """The live key matching ``key``, or None."""
    if not key:
        return None
    return session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_on.is_(None))
    )
