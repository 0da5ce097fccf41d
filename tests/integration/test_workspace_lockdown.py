"""What a member's code leaves in the workspace account's home does not reach the next
workspace server, against the real hub: code run in the shared kernel writes a Jupyter
configuration that turns untrusted outputs off and CohortLab's lab extension off, a lab
extension in the account's data folder and a ``.pth`` file in its Python user site; the
workspace is stopped (as the idle cull does) and opened again, and its lab page still keeps
outputs untrusted, loads CohortLab and not the planted extension, and nothing ran in the
server (in this test's virtual environment the user site is off anyway; ``PYTHONNOUSERSITE``
covers servers on a system or conda Python). Lab settings are saved per person in the server's
state folder, outside the home.
"""

from __future__ import annotations

import json
import pwd
import re
import secrets
from pathlib import Path

from cohortlab.cohorts.hubhooks import WORKSPACE_STATE_ROOT

from tests.integration.test_cohort_workspace import NOTEBOOK, Course
from tests.integration.test_workspace_identity import run_cell

MARKER = Path(f"/tmp/cl-pth-{secrets.token_hex(4)}")
PLANT = f"""
import json, pathlib, site
home = pathlib.Path.home()
config = home / ".jupyter"
(config / "labconfig").mkdir(parents=True, exist_ok=True)
(config / "jupyter_server_config.json").write_text(json.dumps(
    {{"WorkspaceExtension": {{"untrusted_outputs": False}}}}))
(config / "labconfig" / "page_config.json").write_text(json.dumps(
    {{"disabledExtensions": {{"cohortlab": True}}}}))
ext = home / ".local/share/jupyter/labextensions/cl-planted"
(ext / "static").mkdir(parents=True, exist_ok=True)
(ext / "package.json").write_text(json.dumps({{"name": "cl-planted", "version": "0.0.1",
    "jupyterlab": {{"_build": {{"load": "static/remoteEntry.js", "extension": "./extension"}}}}}}))
(ext / "static" / "remoteEntry.js").write_text("document.body.dataset.clPlanted = 1")
user_site = pathlib.Path(site.getusersitepackages())
user_site.mkdir(parents=True, exist_ok=True)
(user_site / "cl_planted.pth").write_text(
    "import os; open({str(MARKER)!r}, 'w').write(str(os.getpid()))\\n")
print("planted")
"""


def page_config(course: Course, account: str, who: str) -> dict:
    token = course.hub.token_for(f"{course.prefix}-{who}")
    resp = course.hub.api("GET", f"/user/{account}/lab", token)
    assert resp.status_code == 200, resp.text[:500]
    found = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', resp.text, re.S
    )
    assert found, resp.text[:500]
    return json.loads(found.group(1))


async def test_what_members_leave_in_the_home_does_not_reach_the_next_server(
    course: Course,
) -> None:
    cohort = course.create(["ann", "bob"])
    status, body = course.open("ann", cohort)
    assert status == 200, body
    account = cohort["account"]
    before = page_config(course, account, "ann")
    assert before["cohortlabUntrustedOutputs"] == "true"
    assert "anywidget" in before["disabledExtensions"]
    path = f"lockdown-{secrets.token_hex(2)}.ipynb"
    assert (
        course.at_workspace(
            "ann",
            "PUT",
            account,
            f"api/contents/{path}",
            data=json.dumps({"type": "notebook", "format": "json", "content": NOTEBOOK}),
        )
        == 201
    )
    assert "planted" in await run_cell(course, cohort, "bob", path, "c1", PLANT)

    course.restart(cohort, "bob")

    page = page_config(course, account, "ann")
    assert page["cohortlabUntrustedOutputs"] == "true"
    assert "anywidget" in page["disabledExtensions"]
    assert not [d for d in page["disabledExtensions"] if str(d).startswith("cohortlab")]
    assert "cohortlab" in page["lockedExtensions"]
    names = {e["name"] for e in page["federated_extensions"]}
    assert "cohortlab" in names and "cl-planted" not in names, names
    planted = f"/user/{account}/lab/extensions/cl-planted/static/remoteEntry.js"
    token = course.hub.token_for(f"{course.prefix}-ann")
    assert course.hub.api("GET", planted, token).status_code == 404
    ran = MARKER.exists()
    MARKER.unlink(missing_ok=True)
    assert not ran, "a .pth file in the account's user site ran in the server"

    # JupyterLab keeps each person's settings in the server's state folder, not in the home
    theme = "@jupyterlab/apputils-extension:themes"
    resp = course.hub.api(
        "PUT",
        f"/user/{account}/lab/api/settings/{theme}",
        token,
        data=json.dumps({"raw": json.dumps({"theme": "JupyterLab Dark"})}),
    )
    assert resp.status_code == 204, resp.text
    state = WORKSPACE_STATE_ROOT / account
    saved = (
        state
        / f"lab/user-settings/people/{course.prefix}-ann"
        / "@jupyterlab/apputils-extension/themes.jupyterlab-settings"
    )
    assert "JupyterLab Dark" in saved.read_text()
    home = Path(pwd.getpwnam(account).pw_dir)
    assert not (home / ".jupyter/lab/user-settings/@jupyterlab/apputils-extension").exists()

    # kernels start without the Python user site, as the server does
    code = "import os; print(repr(os.environ.get('PYTHONNOUSERSITE')))"
    out = await run_cell(course, cohort, "ann", path, "c1", code)
    assert "'1'" in out, out
