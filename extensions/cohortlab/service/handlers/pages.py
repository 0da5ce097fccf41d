"""Browser pages: the OAuth callback and the session page the lab client uses.

In direct mode (cohort workspaces) the JupyterLab client needs the person's own
OAuth cookie for the service; it loads ``auth/session`` in a hidden iframe,
which bounces through the hub's OAuth and ends on a page that tells the parent
window the session is ready.

With per-user origins the parent (the workspace's JupyterLab) is on another origin: it
names itself in ``?origin=`` (kept through the OAuth round trip, which returns to the
request's whole URI), and the page is framed only by that origin when it is a cohort
workspace's (``cors.py``), posts only to it, and hands it the XSRF token it can no longer
read from the service's cookie.
"""

from __future__ import annotations

import json
import secrets

from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado import web

from ...errors import APIError
from ..base import BaseHandler
from ..cors import allowed_origin
from ..permissions import allow, person

SESSION_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CohortLab session</title></head>
<body><p>Signed in to CohortLab.</p>
<script nonce="{nonce}">
if (window.parent !== window) {{
  window.parent.postMessage({{cohortlab: "session-ready", xsrf: {xsrf}}}, {target});
}}
</script></body></html>
"""


def _js_string(value: str) -> str:
    """``value`` as a JavaScript string literal that cannot end the script element."""
    return json.dumps(value).replace("<", "\\u003c")


class SessionHandler(BaseHandler):
    redirect_to_login = True

    async def parent_origin(self) -> str | None:
        """The origin that may frame this page and receive its message (None: the service's
        own, as on one origin); a 403 for any origin but a cohort workspace's."""
        origin = self.get_query_argument("origin", None)
        if origin is None or self.is_own_origin(origin):
            return None
        if allowed_origin(origin, await self.allowed_origins()) is None:
            raise APIError(
                403,
                "origin_not_allowed",
                f"Pages on {origin} may not sign in to CohortLab; only cohort workspaces may.",
            )
        return origin

    @allow(person)
    async def get(self) -> None:
        parent = await self.parent_origin()
        nonce = secrets.token_urlsafe(16)
        ancestors = parent or "'self'"
        self.set_header(
            "Content-Security-Policy",
            f"default-src 'none'; script-src 'nonce-{nonce}'; frame-ancestors {ancestors}",
        )
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        # HubOAuth's token is signed and bound to this session's cookie; the service checks
        # it against the `_xsrf` cookie set here, which the browser sends with every fetch.
        xsrf = self.xsrf_token.decode("ascii")
        target = _js_string(parent) if parent else "window.location.origin"
        self.finish(SESSION_PAGE.format(nonce=nonce, xsrf=_js_string(xsrf), target=target))


class OAuthCallbackHandler(HubOAuthCallbackHandler):
    @property
    def hub_auth(self):  # type: ignore[override]
        return self.settings["hub_auth"]

    @hub_auth.setter
    def hub_auth(self, value: object) -> None:  # pragma: no cover
        raise AttributeError("hub_auth comes from the application settings")

    def write_error(self, status_code: int, **kwargs: object) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(f"Signing in to CohortLab failed ({status_code}); go back and try again.")


OAuthCallbackHandler._cl_rule = "oauth"  # type: ignore[attr-defined]

default_handlers: list[tuple[str, type[web.RequestHandler]]] = [
    (r"oauth_callback", OAuthCallbackHandler),
    (r"auth/session", SessionHandler),
]
