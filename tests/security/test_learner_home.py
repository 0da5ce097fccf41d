"""What a learner writes in her home does not change what her server runs or serves.

ada, at her own terminal, plants every file Jupyter would read from a home: a
``~/.jupyter/jupyter_server_config.py`` (Python the server would execute, adding a static path
with a page of hers and putting her user site on the import path), a
``~/.jupyter/jupyter_server_config.d/*.json`` enabling a server extension she wrote in her
Python user site, a ``.pth`` file in that user site, a lab extension in
``~/.local/share/jupyter/labextensions/``, kernelspecs (with a ``kernel.js`` and a logo) in
``~/.local/share/jupyter/kernels/`` and ``~/.ipython/kernels/``, and a lab page config in
``~/.jupyter/labconfig/``. Every planted piece of code appends its process's pid and command
line to a marker file when it runs; each is first shown to work where nothing stops it (the
system Python, which reads her user site; Jupyter's own tools, which read her configuration).
Then she restarts her server through the hub, as she can.

Her server must serve and run none of it: learners' servers start with
``c.Spawner.disable_user_config`` (JupyterHub leaves every path inside the home out of the
configuration, extension and kernelspec search paths) and ``PYTHONNOUSERSITE`` (the server
reads no user site; this venv has none anyway). Her kernels may run her ``.pth``: they are
hers (the server extension gives them the user site back). Why it matters: her server is the
hub-managed process that holds her token and answers on her origin; if her home could add to
what it runs or serves, her files would decide its code, and every guarantee of
test_origins.py would rest on what she keeps at home.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.hub import VENV, Hub
from tests.helpers.kernel import run_in_kernel
from tests.security.learner import (
    USER_SITE,
    LearnerHome,
    learner_home,
    mark_code,
    marks,
    restart_server,
    run_as,
    server_restored,
)

ADA = "ada"
# A 1x1 PNG, the kernelspec's logo.
KERNEL_FOLDERS = {"local": ".local/share/jupyter/kernels", "ipython": ".ipython/kernels"}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@dataclass
class Planted:
    tag: str
    home: LearnerHome
    marks_dir: Path
    server_pid: int
    static_page: str
    module: str

    @property
    def name(self) -> str:
        return f"cl-sec-{self.tag}"

    def marks(self, what: str) -> list[dict[str, Any]]:
        return marks(self.marks_dir / f"{what}.jsonl")

    def server_ran(self, what: str) -> list[dict[str, Any]]:
        """The marks ``what`` left from inside her server's process."""
        return [
            m
            for m in self.marks(what)
            if m["pid"] == self.server_pid
            or any("jupyterhub-singleuser" in arg for arg in m["cmdline"])
        ]


def _plant(home: LearnerHome, tag: str) -> tuple[Path, str, str]:
    """Everything of item 1-3 in ada's home; (marks folder, static page name, module)."""
    name = f"cl-sec-{tag}"
    module = f"cl_sec_{tag}"
    marks_dir = home.temp_dir()
    run_as(ADA, 'chmod 755 "$1"', str(marks_dir))
    site = home.path / USER_SITE

    static_page = f"{name}.html"
    home.plant(f"{name}-static/{static_page}", "<script>document.title = 'planted'</script>")
    home.plant(
        ".jupyter/jupyter_server_config.py",
        f"{mark_code(marks_dir / 'config.jsonl', 'config')}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        f"c.ServerApp.extra_static_paths = [{str(home.path / (name + '-static'))!r}]\n",
    )
    home.plant(
        f".jupyter/jupyter_server_config.d/{name}.json",
        json.dumps({"ServerApp": {"jpserver_extensions": {module: True}}}),
    )
    home.plant(
        f"{USER_SITE}/{module}.py",
        f"""{mark_code(marks_dir / "extension.jsonl", "import")}


def _jupyter_server_extension_points():
    return [{{"module": __name__}}]


def _load_jupyter_server_extension(serverapp):
    {mark_code(marks_dir / "extension.jsonl", "load")}
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.utils import url_path_join

    class Planted(JupyterHandler):
        def get(self):
            self.finish("planted extension")

    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(".*$", [(url_path_join(base, {name!r}), Planted)])
""",
    )
    home.plant(f"{USER_SITE}/{name}.pth", mark_code(marks_dir / "pth.jsonl", "pth") + "\n")

    labext = f".local/share/jupyter/labextensions/{name}"
    home.plant(
        f"{labext}/package.json",
        json.dumps(
            {
                "name": name,
                "version": "0.0.1",
                "jupyterlab": {
                    "_build": {"load": "static/remoteEntry.cl.js", "extension": "./extension"}
                },
            }
        ),
    )
    home.plant(f"{labext}/static/remoteEntry.cl.js", "document.title = 'planted extension'")
    for where, folder in KERNEL_FOLDERS.items():
        spec = f"{folder}/{name}-{where}"
        home.plant(
            f"{spec}/kernel.json",
            json.dumps(
                {
                    "argv": ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": f"Planted {name}",
                    "language": "python",
                }
            ),
        )
        home.plant(f"{spec}/kernel.js", "document.title = 'planted kernel.js'")
        home.plant(f"{spec}/logo-64x64.png", PNG)
    home.plant(
        ".jupyter/labconfig/page_config.json",
        # harmless for any other lab that opens meanwhile: a key nobody reads, and a
        # plugin that does not exist switched off
        json.dumps({"clSecPlanted": tag, "disabledExtensions": {f"{name}:nothing": True}}),
    )
    return marks_dir, static_page, module


def _show_the_plants_work(home: LearnerHome, marks_dir: Path, module: str) -> None:
    """Where nothing stops them, ada's files do what they are meant to do."""
    # The system Python reads her user site: the .pth runs, the module imports.
    run_as(ADA, f"python3 -c 'import {module}'")
    assert ["python3", "-c"] in [m["cmdline"][:2] for m in marks(marks_dir / "pth.jsonl")]
    assert "import" in [m["what"] for m in marks(marks_dir / "extension.jsonl")]
    # Jupyter's own tools read her configuration: the extension is enabled there ...
    jupyter = VENV / "bin" / "jupyter"
    listed = run_as(ADA, f"{jupyter} server extension list 2>&1")
    assert module in listed, listed
    # ... and loading her config file runs it.
    load = (
        "from traitlets.config.loader import PyFileConfigLoader\n"
        f"PyFileConfigLoader('jupyter_server_config.py', path={str(home.path / '.jupyter')!r})"
        ".load_config()\n"
    )
    run_as(ADA, f"{VENV / 'bin' / 'python'} -", stdin=load.encode())
    assert [m["cmdline"][1:2] for m in marks(marks_dir / "config.jsonl")] == [["-"]]


@pytest.fixture(scope="module")
def planted(cl_hub: Hub) -> Iterator[Planted]:
    """ada's home with everything planted and her server restarted on it; all removed and
    her server started afresh (if it ran before) at the end."""
    tag = secrets.token_hex(4)
    with server_restored(cl_hub, ADA), learner_home(ADA) as home:
        marks_dir, static_page, module = _plant(home, tag)
        _show_the_plants_work(home, marks_dir, module)
        pid = restart_server(cl_hub, ADA)
        yield Planted(tag, home, marks_dir, pid, static_page, module)


def _get(hub: Hub, path: str) -> Any:
    return hub.api("GET", f"/user/{ADA}/{path}", hub.token_for(ADA))


def _page_config(hub: Hub) -> dict[str, Any]:
    resp = _get(hub, "lab")
    assert resp.status_code == 200, resp.text[:500]
    found = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', resp.text, re.S
    )
    assert found, resp.text[:500]
    return json.loads(found.group(1))


def test_her_jupyter_server_config_file_does_not_run_in_her_server(
    cl_hub: Hub, planted: Planted
) -> None:
    assert planted.server_ran("config") == []
    resp = _get(cl_hub, f"static/{planted.static_page}")
    assert resp.status_code == 404, resp.text[:300]


def test_a_server_extension_she_enables_is_not_loaded_by_her_server(
    cl_hub: Hub, planted: Planted
) -> None:
    assert planted.server_ran("extension") == []
    assert _get(cl_hub, planted.name).status_code == 404
    # A server that read her config.d would at least have tried to import it, and said so.
    assert planted.module not in cl_hub.log_path.read_text(errors="replace")


async def test_a_pth_file_in_her_user_site_does_not_run_in_her_server(
    cl_hub: Hub, planted: Planted
) -> None:
    # She uses her server as usual: a kernel starts (kernels are hers and may read her site).
    out, errors = await run_in_kernel(
        cl_hub.url, ADA, cl_hub.token_for(ADA), "import os; print(os.getpid())"
    )
    assert not errors, errors
    kernel_pid = int(out.strip())
    assert kernel_pid != planted.server_pid
    assert planted.server_ran("pth") == []


def test_lab_extensions_and_kernelspecs_in_her_jupyter_data_folder_are_not_served(
    cl_hub: Hub, planted: Planted
) -> None:
    name = planted.name
    extensions = {e["name"] for e in _page_config(cl_hub)["federated_extensions"]}
    assert "cohortlab" in extensions and name not in extensions, extensions
    assert _get(cl_hub, f"lab/extensions/{name}/static/remoteEntry.cl.js").status_code == 404
    specs = _get(cl_hub, "api/kernelspecs").json()["kernelspecs"]
    spec = f"{name}-local"
    assert spec not in specs, sorted(specs)
    for resource in ("kernel.js", "logo-64x64.png"):
        assert _get(cl_hub, f"kernelspecs/{spec}/{resource}").status_code == 404, resource


def test_a_kernelspec_in_her_ipython_folder_is_not_offered_by_her_server(
    cl_hub: Hub, planted: Planted
) -> None:
    """jupyter_client also looks in ``~/.ipython/kernels``, a folder JupyterHub's
    disable_user_config does not know about."""
    spec = f"{planted.name}-ipython"
    specs = _get(cl_hub, "api/kernelspecs").json()["kernelspecs"]
    assert spec not in specs, sorted(specs)
    assert _get(cl_hub, f"kernelspecs/{spec}/kernel.js").status_code == 404


def test_her_lab_page_config_file_does_not_change_her_lab_page(
    cl_hub: Hub, planted: Planted
) -> None:
    """JupyterLab reads ``labconfig/page_config.json`` from ``jupyter_config_dir()``, which
    disable_user_config leaves in her home: it may set any key of the page's config (where the
    page loads extensions from, which extensions are off)."""
    page = _page_config(cl_hub)
    assert "clSecPlanted" not in page
    assert f"{planted.name}:nothing" not in page["disabledExtensions"]


def test_a_learner_cannot_share_her_server_with_the_instructor(cl_hub: Hub) -> None:
    """Sharing would let her put her server's pages in front of the instructor: learners have
    no ``shares`` scope, for a named person or by a share code."""
    token = cl_hub.token_for(ADA)
    share = cl_hub.api("POST", f"/hub/api/shares/{ADA}/", token, json={"user": "instructor"})
    assert share.status_code == 403, share.text
    code = cl_hub.api("POST", f"/hub/api/share-codes/{ADA}/", token, json={})
    assert code.status_code == 403, code.text
    resp = cl_hub.api("GET", f"/user/{ADA}/api/contents", cl_hub.token_for("instructor"))
    assert resp.status_code == 403
