"""The changes staff make to one contact, each through the rules module, and what each asks of
staff before it runs (SPEC §1: renewed consent, opting out while blocked, final deletion)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from .. import rules
from ..models import Contact, ContactEvent, ContactStatus


@dataclass(frozen=True)
class ContactAction:
    name: str
    label: str
    allowed: Callable[[Contact], bool]
    # Why the action does not apply, said to staff who try it anyway.
    refusal: str
    run: Callable[[Session, Contact, rules.Cause], ContactEvent | None] | None
    reason_required: bool = False
    admin_only: bool = False
    danger: bool = False


ACTIONS: dict[str, ContactAction] = {
    action.name: action
    for action in (
        ContactAction(
            "reactivate",
            "Reactivate",
            lambda c: c.status == ContactStatus.STOPPED,
            "only a stopped contact can be reactivated",
            rules.reactivate,
            reason_required=True,
        ),
        ContactAction(
            "block",
            "Block",
            lambda c: c.status != ContactStatus.BLOCKED,
            "the contact is blocked already",
            rules.block,
        ),
        ContactAction(
            "unblock",
            "Unblock",
            lambda c: c.status == ContactStatus.BLOCKED,
            "only a blocked contact can be unblocked",
            rules.unblock,
        ),
        ContactAction(
            "archive",
            "Archive",
            lambda c: c.status != ContactStatus.ARCHIVED,
            "the contact is archived already",
            rules.archive,
        ),
        ContactAction(
            "unarchive",
            "Unarchive",
            lambda c: c.status == ContactStatus.ARCHIVED,
            "only an archived contact can be unarchived",
            rules.unarchive,
        ),
        ContactAction(
            "phone-valid",
            "Mark phone valid",
            lambda c: not c.phone_valid,
            "the phone is valid already",
            rules.mark_phone_valid,
        ),
        ContactAction(
            "delete",
            "Delete",
            lambda c: c.status == ContactStatus.ARCHIVED,
            "only archived contacts can be deleted: archive it first",
            None,
            admin_only=True,
            danger=True,
        ),
    )
}


def available(contact: Contact, may_delete: bool) -> list[ContactAction]:
    return [
        action
        for action in ACTIONS.values()
        if action.allowed(contact) and (may_delete or not action.admin_only)
    ]
