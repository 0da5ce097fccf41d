"""Send the demo hub's old address to its name: ``http://127.0.0.1:8000/x`` -> ``http://hub.localhost:8000/x``.

The hub serves every person's server and the service on its own origin
(``c.JupyterHub.subdomain_host``), which needs a name with subdomains; an IP address has
none. Bookmarks and notes from before still point at ``127.0.0.1``, so the proxy routes that
host (and ``localhost``) here (``c.Proxy.extra_routes``) and this answers every request with a
redirect to the same path and query on the hub's name. It is started by the hub as a managed
service, with nothing but its port and the target (no token is used).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from tornado import web


class RedirectHandler(web.RequestHandler):
    def initialize(self, target: str) -> None:
        self.target = target

    def _go(self) -> None:
        # 307/308 keep the method and body; a temporary one, since the name may change again.
        self.redirect(self.target + self.request.uri, status=307)

    get = head = post = put = patch = delete = options = _go  # type: ignore[assignment]


async def serve(port: int, target: str) -> None:
    app = web.Application([(r".*", RedirectHandler, {"target": target.rstrip("/")})])
    app.listen(port, address="127.0.0.1", xheaders=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--to", required=True, help="the hub's public origin")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.to))


if __name__ == "__main__":
    main()
