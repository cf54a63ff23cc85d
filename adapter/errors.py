"""Typed errors of the core. Each carries a message meant for the person who caused it."""

from __future__ import annotations


class AdapterError(Exception):
    """Base of every error the core raises on purpose; ``http_status`` is what an API answers."""

    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidPhone(AdapterError):
    """A number that does not parse into a valid E.164 number."""


class InvalidStatus(AdapterError):
    """A status name that is not one of active, stopped, blocked, archived."""


class ContactNotFound(AdapterError):
    http_status = 404


class MessageNotFound(AdapterError):
    http_status = 404


class DeletionRefused(AdapterError):
    """Only archived contacts may be deleted."""

    http_status = 409


class TooLarge(AdapterError):
    """A request or a field bigger than the adapter stores."""

    http_status = 413


class InvalidRequest(AdapterError):
    """Input that is malformed or out of bounds (missing field, body too long, ...)."""


class SchemaOutOfDate(RuntimeError):
    """The database is not at the newest migration; the message says which command fixes it."""


class ConfigurationError(RuntimeError):
    """Settings the service cannot run with; the message names them, on one line."""


class GroupNotFound(AdapterError):
    http_status = 404


class Conflict(AdapterError):
    """A request at odds with the current state (a group or contact that exists, a stopped
    contact added to a group, an idempotency key reused for another message)."""

    http_status = 409
