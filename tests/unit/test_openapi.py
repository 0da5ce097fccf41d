"""The OpenAPI document is valid 3.1 and matches the routes; every route says who may call it."""

from __future__ import annotations

import re

from cohortlab.service.handlers import default_handlers
from cohortlab.service.openapi import openapi_document
from openapi_spec_validator import validate

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _implemented(handler: type) -> dict[str, object]:
    """The HTTP methods a handler (or a base of ours) implements, not tornado's defaults."""
    from tornado import web, websocket

    defaults = (web.RequestHandler, websocket.WebSocketHandler)
    return {
        m: getattr(handler, m)
        for m in HTTP_METHODS
        if all(getattr(handler, m) is not getattr(d, m, None) for d in defaults)
    }


def _api_routes() -> dict[str, type]:
    """Route patterns as OpenAPI paths: ``(?P<course>[^/]+)`` becomes ``{course}``."""
    return {
        "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern.rstrip("/?")): handler
        for pattern, handler in default_handlers
        if pattern.startswith("api/")
    }


def test_document_is_valid_openapi_3_1() -> None:
    doc = openapi_document("/services/cohortlab/")
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_document_describes_every_api_route_and_method() -> None:
    paths = openapi_document("/services/cohortlab/")["paths"]
    routes = _api_routes()
    assert set(paths) == set(routes)
    for path, handler in routes.items():
        implemented = set(_implemented(handler))
        assert set(paths[path]) - {"parameters"} == implemented, path


def test_every_handler_method_declares_who_may_call_it() -> None:
    missing = []
    for pattern, handler in default_handlers:
        if getattr(handler, "_cl_rule", None):
            continue  # the OAuth callback: its own state check is the rule
        for method, fn in _implemented(handler).items():
            if not getattr(fn, "_cl_rule", None):
                missing.append(f"{handler.__name__}.{method} ({pattern})")
    assert not missing, f"handlers without an @allow rule: {missing}"


def test_every_operation_documents_the_error_shape() -> None:
    for path, ops in openapi_document("/")["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            assert "401" in op["responses"], f"{method} {path} lacks 401"
            assert re.search(r"\w", op["description"]), f"{method} {path} lacks who may call"
