"""Request validation and the OpenAPI 3.1 document, both from :mod:`.schemas` through spectree.

``@spec.validate`` checks a request against its model before the view runs and hands the view
the parsed model; the same models make ``GET /api/v1/openapi.json``. A request that fails the
check gets the API's usual ``{"error": "..."}`` 400 naming the field, not a list of pydantic
errors.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree

from ..errors import InvalidRequest
from ..inputs import storable
from .schemas import REQUESTS, Error

DESCRIPTION = """\
Send text messages to people who have not opted out, manage contacts and groups, and poll for
inbound messages. Every request carries `Authorization: Bearer <key>` (make a key with
`flask --app wsgi create-api-key NAME`). Errors are `{"error": "..."}` in words meant for the
developer. Inbound messages and consent changes are also POSTed to `APP_WEBHOOK_URL`, signed by
the Standard Webhooks scheme.
"""


def _refuse(
    request: Any, response: Any, error: Exception | None, instance: Any, adapter: Any
) -> None:
    """spectree's hook after it checked a request: a failed check becomes our 400 (and, unlike
    spectree's own hook, logs nothing: the values could be a phone number or a message)."""
    if isinstance(error, ValidationError):
        raise InvalidRequest(explain(error))


class AnswerMismatch(RuntimeError):
    """An answer of ours that the document does not describe: a bug, answered with a 500."""


def _check_answer(
    request: Any, response: Any, error: Exception | None, instance: Any, adapter: Any
) -> None:
    """spectree's hook after it checked an answer. Its own hook logs the offending values (a
    phone number, a message's text); this names only where the answer is wrong."""
    if isinstance(error, ValidationError):
        where = ", ".join(
            f"{'.'.join(map(str, problem['loc'])) or '(root)'}: {problem['type']}"
            for problem in error.errors(include_url=False)[:5]
        )
        raise AnswerMismatch(f"the answer does not match the OpenAPI document ({where})")


spec = SpecTree(
    "flask",
    title="SMS channel adapter",
    description=DESCRIPTION,
    version="1",
    # The document is served by the API blueprint itself (``openapi_document`` in __init__):
    # spectree's own route would hide every route under its path, /api/v1 included.
    path="-",
    mode="strict",
    validation_error_status=400,
    validation_error_model=Error,
    security_schemes=[
        SecurityScheme(
            name="apiKey",
            data=SecuritySchemeData(type="http", scheme="bearer", description="an API key"),
        )
    ],
    security={"apiKey": []},
    before=_refuse,
    after=_check_answer,
    # The document's schema names are the models' own (spectree adds a hash of the module).
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda parent, child: child,
)


def answers(ok: int | str, model: type[BaseModel] | None = None, *errors: int) -> Response:
    """The documented answers of a route: ``ok`` with ``model``, 401 for a bad key, and each
    error status in ``errors`` with the API's error body."""
    codes: dict[str, Any] = {f"HTTP_{ok}": model}
    for code in (401, *errors):
        codes[f"HTTP_{code}"] = Error
    return Response(**codes)


_KINDS = {
    "string_type": "a string",
    "list_type": "a list",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "dict_type": "an object",
    "model_type": "an object",
}


def explain(error: ValidationError) -> str:
    """The first thing wrong with a request, in the API's words, naming the field."""
    problem = error.errors(include_url=False)[0]
    kind, loc = problem["type"], problem["loc"]
    if not loc:
        return "the request body must be a JSON object"
    field = str(loc[0]) + "".join(f"[{part}]" for part in loc[1:])
    ctx = problem.get("ctx", {})
    if kind == "missing":
        description = _description(error.title, str(loc[0]))
        return f"'{field}' is required" + (f": {description}" if description else "")
    if kind in _KINDS and isinstance(problem["input"], list) and _is_query(error.title):
        return f"give '{field}' once"
    if kind in _KINDS:
        wrong = f"'{field}' must be {_KINDS[kind]}, not {json_type(problem['input'])}"
        description = _description(error.title, str(loc[0])) if len(loc) == 1 else None
        return wrong + (f": {description}" if description else "")
    if kind == "string_unicode":
        # A lone surrogate (JSON's "\ud800"): said the way every other field says it.
        try:
            storable(problem["input"], str(loc[0]))
        except InvalidRequest as exc:
            return exc.message
    if kind == "string_too_short":
        return f"'{field}' is empty: leave it out or give some text"
    if kind == "string_too_long":
        return f"'{field}' is longer than {ctx['max_length']} characters"
    if kind == "too_long":
        return f"'{field}' has more than {ctx['max_length']} items"
    if kind in ("literal_error", "enum"):
        return f"'{field}' must be one of {ctx['expected']}"
    if kind == "greater_than_equal":
        return f"'{field}' must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"'{field}' must be at most {ctx['le']}"
    return f"'{field}' is not valid: {problem['msg']}"


def _is_query(model_name: str) -> bool:
    # A query string's repeated parameter reaches its model as a list.
    return model_name.endswith("Query")


def _description(model_name: str, field: str) -> str | None:
    model = REQUESTS.get(model_name)
    info = model.model_fields.get(field) if model is not None else None
    return info.description if info is not None else None


def json_type(value: object) -> str:
    """What a JSON value is, in JSON's words, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return {dict: "an object", list: "an array"}.get(type(value), type(value).__name__)
