"""The application API (SPEC §5): JSON in and out, authenticated with a bearer API key.

Each route checks its request against a model of :mod:`.schemas` (through :mod:`.openapi`),
which also makes the OpenAPI 3.1 document served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from ..apikeys import find_api_key
from ..db import get_session
from ..errors import AdapterError, InvalidRequest
from .openapi import spec

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


class JsonBodies:
    """WSGI middleware: the body of an API request is JSON whatever its Content-Type says.

    ``curl -d '{...}'`` without ``-H "Content-Type: application/json"`` labels JSON as a form;
    relabelled before Flask reads it, the request is checked as the JSON it is (and a form that
    really is one is refused as "not a JSON object").
    """

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(blueprint.url_prefix or "/api/"):
            mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
            if mimetype != "application/json" and not mimetype.endswith("+json"):
                environ["CONTENT_TYPE"] = "application/json"
        return self.wsgi_app(environ, start_response)


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
    """Every POST carries a JSON object; the parse is cached, so the route's model check reads
    the same object."""
    if request.method != "POST":
        return None
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise InvalidRequest("the request body is JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return None


# The routes, in modules of their own.
from . import contacts, groups, messages  # noqa: E402, F401
