"""Browser pages: the OAuth callback and the session page the lab client uses.

In direct mode (cohort workspaces) the JupyterLab client needs the person's own
OAuth cookie for the service; it loads ``auth/session`` in a hidden iframe,
which bounces through the hub's OAuth and ends on a page that tells the parent
window the session is ready.
"""

from __future__ import annotations

from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado import web

from ..base import BaseHandler
from ..permissions import allow, person

SESSION_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CohortLab session</title></head>
<body><p>Signed in to CohortLab.</p>
<script nonce="{nonce}">
if (window.parent !== window) {{
  window.parent.postMessage({{cohortlab: "session-ready"}}, window.location.origin);
}}
</script></body></html>
"""


class SessionHandler(BaseHandler):
    redirect_to_login = True

    @allow(person)
    async def get(self) -> None:
        import secrets

        nonce = secrets.token_urlsafe(16)
        self.set_header(
            "Content-Security-Policy",
            f"default-src 'none'; script-src 'nonce-{nonce}'; frame-ancestors 'self'",
        )
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(SESSION_PAGE.format(nonce=nonce))


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
