"""A learner logs in, opens JupyterLab and sees the CohortLab panel with their course and role."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from tests.helpers.browser import LAB_TIMEOUT_MS, open_lab
from tests.helpers.hub import Hub

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "cohortlab-panel.png"


def _open_panel(page: Any) -> Any:
    page.click('.jp-SideBar [title="CohortLab"], .jp-SideBar [data-id="cohortlab-panel"]')
    panel = page.locator("#cohortlab-panel")
    panel.wait_for(state="visible", timeout=30_000)
    return panel


def test_learner_sees_name_course_role_and_cohort_in_the_panel(
    cl_browser: Any, cl_hub: Hub, cl_artifacts: Path
) -> None:
    page = open_lab(cl_browser, cl_hub, "ada")
    panel = _open_panel(page)
    page.wait_for_selector('[data-testid="cl-service-status"][data-state="ok"]', timeout=30_000)
    assert panel.get_by_test_id("cl-user-name").inner_text().strip() == "ada"
    course = panel.get_by_test_id("cl-course")
    assert course.count() == 1
    assert course.get_attribute("data-course") == "demo101"
    assert course.get_attribute("data-role") == "learner"
    cohort = panel.get_by_test_id("cl-cohort")
    assert cohort.count() == 1
    assert cohort.get_attribute("data-cohort") == "red"
    page.wait_for_selector(
        '[data-testid="cl-events-status"][data-state="connected"]', timeout=30_000
    )
    assert panel.get_by_test_id("cl-version-warning").count() == 0
    shot = cl_artifacts / "cohortlab-panel.png"
    page.screenshot(path=str(shot))
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, DOCS_SCREENSHOT)
    assert not page.cl_errors, page.cl_errors
    page.context.close()


def test_panel_shows_the_error_and_lab_keeps_working_when_the_service_is_down(
    cl_browser: Any, cl_hub: Hub
) -> None:
    page = open_lab(cl_browser, cl_hub, "ben")
    # The service is what fails here, so the browser answers for it as a dead relay would.
    down = {
        "error": {
            "code": "service_unreachable",
            "message": "The CohortLab service could not be reached (test).",
        }
    }
    page.route(
        re.compile(r".*/cohortlab/api/v1([/?].*)?$"),
        lambda route: route.fulfill(
            status=502, content_type="application/json", body=json.dumps(down)
        ),
    )
    page.reload()
    page.wait_for_selector(".jp-Launcher", timeout=LAB_TIMEOUT_MS)
    panel = _open_panel(page)
    page.wait_for_selector('[data-testid="cl-service-status"][data-state="error"]', timeout=30_000)
    assert "could not be reached" in panel.inner_text()
    # JupyterLab itself still works: open a new notebook from the launcher.
    page.click('.jp-LauncherCard[title*="Python 3"]')
    page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
    page.context.close()


def test_panel_says_plainly_when_lab_extension_and_service_versions_differ(
    cl_browser: Any, cl_hub: Hub
) -> None:
    page = open_lab(cl_browser, cl_hub, "cy")
    page.route(
        re.compile(r".*/cohortlab/api/v1(\?.*)?$"),
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps({"version": "9.9.9", "api": "v1"}),
        ),
    )
    page.reload()
    page.wait_for_selector(".jp-Launcher", timeout=LAB_TIMEOUT_MS)
    panel = _open_panel(page)
    warning = panel.get_by_test_id("cl-version-warning")
    warning.wait_for(timeout=30_000)
    assert "9.9.9" in warning.inner_text()
    page.context.close()


def test_direct_mode_from_a_learners_own_origin_is_refused(cl_browser: Any, cl_hub: Hub) -> None:
    """Direct mode (the person's own OAuth session, as in a cohort workspace, where it works:
    tests/browser/test_cohort_workspace.py) is for workspace origins only. Made to try it
    from her own server's origin, dee's lab gets a clear error and nothing: the service is on
    another origin and lets no learner's origin frame its sign-in page or read its answers."""
    page = open_lab(cl_browser, cl_hub, "dee")
    page.route(
        re.compile(r".*/cohortlab/config(\?.*)?$"),
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(
                {
                    "version": _lab_version(),
                    "mode": "direct",
                    "service_url": cl_hub.service_url,
                    "hub_user": "cohort-x",
                }
            ),
        ),
    )
    relayed: list[str] = []
    page.on(
        "request",
        lambda r: (
            relayed.append(r.url) if "/cohortlab/api/" in r.url and "/user/" in r.url else None
        ),
    )
    page.reload()
    page.wait_for_selector(".jp-Launcher", timeout=LAB_TIMEOUT_MS)
    panel = _open_panel(page)
    status = panel.locator('[data-testid="cl-service-status"][data-state="error"]')
    status.wait_for(timeout=30_000)
    assert status.inner_text().strip(), "the error says what went wrong"
    assert panel.get_by_test_id("cl-user-name").count() == 0
    assert relayed == [], "direct mode must not go through the server's relay"
    page.context.close()


def _lab_version() -> str:
    from cohortlab import __version__

    return __version__
