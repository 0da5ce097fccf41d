"""A Tornado app served from a background thread with its own event loop: for unit tests of
code that calls a (fake) service synchronously, such as the ``cohortlab`` commands."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.testing import bind_unused_port


@contextmanager
def serve_in_thread(make_app: Callable[[], web.Application]) -> Iterator[int]:
    """Serve ``make_app()`` on 127.0.0.1 until the block ends; yields the port."""
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        sock, holder["port"] = bind_unused_port()
        server = HTTPServer(make_app())
        server.add_sockets([sock])
        holder["loop"] = IOLoop.current()
        ready.set()
        IOLoop.current().start()
        server.stop()
        IOLoop.current().close(all_fds=True)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield holder["port"]
    finally:
        holder["loop"].add_callback(holder["loop"].stop)
        thread.join(10)
