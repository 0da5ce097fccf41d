"""Real JupyterLab in Debian's Chromium, driven by Playwright from PyPI (no downloaded browser).

One Chromium runs for the whole test run (``cl_chromium_process`` in tests/conftest.py);
each module connects to it (``cl_browser``), and each person logs in once
(``tests/helpers/browser.open_lab``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (re-exported)

ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def cl_artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
