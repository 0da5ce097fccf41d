"""pytest-jupyter's fixtures for unit tests that run a real jupyter_server with our server
extension (``from tests.helpers.jupyter_server import *`` in the test module).

Imported rather than loaded as a plugin: as a plugin its autouse event loop and coroutine
hooks would apply to every test in the session and fight pytest-asyncio's loop. Imported,
they stay in the modules that use them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403


@pytest.fixture
def jp_asyncio_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A loop of the test's own, so the Jupyter server never closes pytest-asyncio's."""
    policy = asyncio.get_event_loop_policy()
    try:
        previous: asyncio.AbstractEventLoop | None = policy.get_event_loop()
    except RuntimeError:
        previous = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(previous)
