"""The shapes of the application API's requests and answers (SPEC §5), as pydantic models.

These models are both the check every request passes before a view sees it and the source of
the OpenAPI document at ``/api/v1/openapi.json``, so the document cannot drift from what the API
takes. A field's ``description`` is what a 400 for a missing field tells the client.

What depends on the running service rather than on the request's shape stays in the views: a
phone number is read in ``DEFAULT_REGION``, a channel must be configured, and a body's length
limit is its channel's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    RootModel,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from .. import rules
from ..errors import InvalidRequest
from ..inputs import MAX_ID, storable
from ..models import ContactStatus, EventKind, EventSource, MessageStatus

MAX_NAME_LENGTH = 200
MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_REASON_LENGTH = 1000
MAX_GROUPS = 100
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

# Validators below raise the core's own errors (InvalidRequest, InvalidStatus): pydantic lets
# anything but ValueError pass through untouched, so they reach the API's error handler with
# the message and HTTP status the core gave them.


def _storable(value: str, info: ValidationInfo) -> str:
    return storable(value, info.field_name or "value")


def _not_blank(value: str, info: ValidationInfo) -> str:
    if not value.strip():
        raise InvalidRequest(f"'{info.field_name}' is empty: give the text of the message")
    return value


def _cursor(value: object) -> int | None:
    if value == "":
        return None  # ?cursor= as a client's first request sends it
    digits = isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10
    if not digits or int(value) > MAX_ID:
        raise InvalidRequest("'cursor' must be a next_cursor this API returned")
    return int(value)


def _time(value: object, info: ValidationInfo) -> datetime:
    """An ISO 8601 time or date; a time without a zone is UTC, a date is its midnight UTC."""
    wrong = InvalidRequest(
        f"'{info.field_name}' must be an ISO 8601 time or date, e.g. 2025-01-31T09:00:00Z"
    )
    if isinstance(value, list):
        raise InvalidRequest(f"give '{info.field_name}' once")
    if not isinstance(value, str):
        raise wrong
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            raise wrong from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _trimmed(value: str, info: ValidationInfo) -> str:
    if not value.strip():
        raise InvalidRequest(f"'{info.field_name}' is empty: leave it out or give some text")
    return value.strip()


def Text(max_length: int) -> Any:
    """A short free text: at most ``max_length`` as sent, kept trimmed, not blank, storable."""
    # Lengths are checked before trimming, as the document says, not after.
    return Annotated[
        str,
        StringConstraints(min_length=1, max_length=max_length),
        AfterValidator(_trimmed),
        AfterValidator(_storable),
    ]


PHONE = "a phone number in E.164 form, e.g. +14155550100 (a national number is read in "
PHONE += "DEFAULT_REGION)"
Phone = Annotated[str, Field(description=PHONE, examples=["+14155550100"])]
GroupName = Text(MAX_NAME_LENGTH)
Name = Text(MAX_NAME_LENGTH)
Reason = Text(MAX_REASON_LENGTH)
IdempotencyKey = Text(MAX_IDEMPOTENCY_KEY_LENGTH)
# Parsed by the rules module (any case, trimmed), so the document can only say "a string".
Status = Annotated[
    ContactStatus,
    PlainValidator(rules.parse_status, json_schema_input_type=str),
    Field(
        description="one of active, stopped, blocked, archived (any case)",
        examples=["active"],
    ),
]
Cursor = Annotated[
    int,
    PlainValidator(_cursor),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9]{0,10}$",
            "description": "the next_cursor of the page before; leave out for the first page",
        }
    ),
]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"page size, 1 to {MAX_LIMIT}")]
Time = Annotated[
    datetime,
    PlainValidator(_time, json_schema_input_type=str),
    Field(description="ISO 8601 time or date; without a zone it is UTC", examples=["2025-01-31"]),
]


class _Body(BaseModel):
    """A JSON request body: values are taken as JSON typed them ("5" is not 5), unknown fields
    are ignored so that an older adapter accepts a newer client."""

    model_config = ConfigDict(strict=True, extra="ignore")


class _Query(BaseModel):
    # Query strings are text: "100" is the number 100.
    model_config = ConfigDict(extra="ignore")


# --- requests ---------------------------------------------------------------------------------


class MessageRequest(_Body):
    """One message to one number (``to``), or one to every active member of a group
    (``group``); exactly one of the two."""

    to: str | None = Field(None, description=PHONE, examples=["+14155550100"])
    group: GroupName | None = Field(None, description="the name of a group to send to")
    body: Annotated[
        str,
        AfterValidator(_not_blank),
        AfterValidator(_storable),
        Field(description="the text of the message; its channel sets the longest it may be"),
    ]
    channel: str | None = Field(
        None, description="a configured channel (provider) to send through; default CHANNEL"
    )
    idempotency_key: IdempotencyKey | None = Field(
        None, description="the same key again returns the first message instead of a second one"
    )

    @model_validator(mode="after")
    def _one_recipient(self) -> MessageRequest:
        if self.group is None and self.to is None:
            raise InvalidRequest(
                "'to' is required: a phone number in E.164 form (or 'group' to send to a group)"
            )
        if self.group is not None and self.to is not None:
            raise InvalidRequest("give either 'to' or 'group', not both")
        if self.group is not None and self.idempotency_key is not None:
            raise InvalidRequest("'idempotency_key' is for single sends; a group send takes none")
        return self


class ContactRequest(_Body):
    phone: Phone
    name: Name | None = Field(None, description="the contact's name")
    groups: Annotated[
        list[GroupName] | None,
        Field(max_length=MAX_GROUPS, description="groups to join (made if new); active only"),
    ] = None
    status: Status | None = None


class StatusRequest(_Body):
    status: Status
    reason: Reason | None = Field(None, description="why, kept in the contact's history")


class GroupRequest(_Body):
    name: GroupName = Field(description="the group's name")


class MessagesQuery(_Query):
    direction: Literal["inbound", "outbound"] | None = None
    status: MessageStatus | None = None
    since: Time | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class ContactsQuery(_Query):
    status: ContactStatus | None = None
    last_seen_before: Time | None = None
    never_seen: bool = Field(False, description="also list contacts never heard from")
    q: Annotated[
        str,
        StringConstraints(max_length=MAX_NAME_LENGTH),
        AfterValidator(str.strip),
        AfterValidator(_storable),
        Field(description="part of the phone number or the name"),
    ] = ""
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


# --- answers ----------------------------------------------------------------------------------


class Error(BaseModel):
    error: str = Field(description="what is wrong, in words meant for the developer")


class MessageAnswer(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    direction: Literal["in", "out"]
    to: str | None = Field(None, description="outbound messages only")
    from_: str | None = Field(None, alias="from", description="inbound messages only")
    body: str
    status: MessageStatus
    channel: str
    created_on: datetime
    modified_on: datetime
    reason: str | None = Field(None, description="why it was suppressed or failed")
    error_code: str | None = None
    idempotency_key: str | None = None
    opt_out_intent: bool | None = Field(
        None, description="inbound only: the text reads as an opt-out request in words"
    )


class QueuedMessage(BaseModel):
    id: int
    to: str
    status: MessageStatus


class GroupSendAnswer(BaseModel):
    messages: list[QueuedMessage]
    count: int


class Queued(RootModel[MessageAnswer | GroupSendAnswer]):
    """A queued message, or for a group send the list of messages queued."""


class MessagesPage(BaseModel):
    messages: list[MessageAnswer]
    next_cursor: str | None = Field(description="poll again with this; kept when the page is empty")


class ContactAnswer(BaseModel):
    phone: str
    name: str | None
    status: ContactStatus
    phone_valid: bool
    last_seen_on: datetime | None
    groups: list[str]
    note: str | None = Field(None, description="why the status is not the one asked for")


class ContactsPage(BaseModel):
    contacts: list[ContactAnswer]
    next_cursor: str | None = Field(description="null on the last page")


class ContactEventAnswer(BaseModel):
    id: int
    kind: EventKind
    old_value: str | None
    new_value: str | None
    source: EventSource
    actor: str | None
    reason: str | None
    channel: str | None
    message_id: int | None
    groups_left: list[str]
    created_on: datetime


class ContactEvents(BaseModel):
    events: list[ContactEventAnswer]


class GroupAnswer(BaseModel):
    name: str
    members: int


class Groups(BaseModel):
    groups: list[GroupAnswer]


class Membership(BaseModel):
    phone: str
    groups: list[str]


REQUESTS: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        MessageRequest,
        ContactRequest,
        StatusRequest,
        GroupRequest,
        MessagesQuery,
        ContactsQuery,
    )
}
