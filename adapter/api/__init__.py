"""The application API (SPEC §5): JSON in and out, authenticated with a bearer API key.

Each route checks its request against a model of :mod:`.schemas` (through :mod:`.openapi`),
which also makes the OpenAPI 3.1 document served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from ..apikeys import find_api_key
from ..db import get_session
from ..errors import AdapterError, InvalidRequest
from .openapi import spec

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


@blueprint.get("/openapi.json")
def openapi_document():  # type: ignore[no-untyped-def]
    """The OpenAPI 3.1 document of this API, made from the models every request is checked
    against; public, so that tools can read it without a key."""
    return jsonify(spec.spec)


@blueprint.errorhandler(AdapterError)
def _adapter_error(exc: AdapterError):  # type: ignore[no-untyped-def]
    get_session().rollback()
    return jsonify(error=exc.message), exc.http_status


@blueprint.before_request
def _authenticate():  # type: ignore[no-untyped-def]
    if request.endpoint == "api.openapi_document":
        return None
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    api_key = find_api_key(get_session(), key.strip()) if scheme.lower() == "bearer" else None
    if api_key is None:
        response = jsonify(error="a valid API key is required: Authorization: Bearer <key>")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response, 401
    g.api_key = api_key
    return None


@blueprint.before_request
def _json_object():  # type: ignore[no-untyped-def]
    """Every POST carries a JSON object. Parsed here whatever the Content-Type says (a client
    that forgot the header still gets through); the parse is cached, so the route's model
    check reads the same object."""
    if request.method != "POST":
        return None
    if request.mimetype in _FORMS:
        raise InvalidRequest("send the request body as JSON (Content-Type: application/json)")
    try:
        data = request.get_json(force=True, silent=True)
    except RecursionError:
        raise InvalidRequest("the request body is JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return None


# The routes, in modules of their own.
from . import contacts, groups, messages  # noqa: E402, F401
