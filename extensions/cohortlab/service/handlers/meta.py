"""The API root (version) and the OpenAPI document."""

from __future__ import annotations

from ..._version import __version__
from ..base import BaseHandler
from ..openapi import openapi_document
from ..permissions import allow, any_identity


class RootHandler(BaseHandler):
    @allow(any_identity)
    async def get(self) -> None:
        self.write_json({"version": __version__, "api": "v1"})


class OpenAPIHandler(BaseHandler):
    @allow(any_identity)
    async def get(self) -> None:
        self.write_json(openapi_document(self.settings["base_url"]))


default_handlers = [
    (r"api/v1/?", RootHandler),
    (r"api/v1/openapi.json", OpenAPIHandler),
]
