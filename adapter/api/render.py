"""The API's JSON for messages, contacts and their events (the shapes :mod:`.schemas` names)."""

from __future__ import annotations

from typing import Any

from ..models import Contact, ContactEvent, Message


def message_json(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message.id,
        "direction": message.direction,
        "to" if message.direction == "out" else "from": message.contact.phone,
        "body": message.body,
        "status": message.status,
        "channel": message.channel,
        "created_on": message.created_on.isoformat(),
        "modified_on": message.modified_on.isoformat(),
    }
    if message.reason:
        data["reason"] = message.reason
    if message.error_code:
        data["error_code"] = message.error_code
    if message.idempotency_key:
        data["idempotency_key"] = message.idempotency_key
    if message.direction == "in":
        # As in the forwarded message.received: an opt-out request written as a sentence.
        data["opt_out_intent"] = message.opt_out_intent
    return data


def contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "phone": contact.phone,
        "name": contact.name,
        "status": contact.status,
        "phone_valid": contact.phone_valid,
        "last_seen_on": contact.last_seen_on.isoformat() if contact.last_seen_on else None,
        "groups": contact.group_names,
    }


def event_json(event: ContactEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "old_value": event.old_value,
        "new_value": event.new_value,
        "source": event.source,
        "actor": event.actor,
        "reason": event.reason,
        "channel": event.channel,
        "message_id": event.message_id,
        "groups_left": event.groups_left or [],
        "created_on": event.created_on.isoformat(),
    }
