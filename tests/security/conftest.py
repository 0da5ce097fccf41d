"""Every test here is marked ``security``; those that drive Chromium (``cl_browser``, from
tests/conftest.py) also ``browser``."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/security/" not in str(item.path):
            continue
        item.add_marker(pytest.mark.security)
        if "cl_browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
