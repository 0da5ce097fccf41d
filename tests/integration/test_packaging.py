"""`pip install .` ships the prebuilt lab extension and enables the server extension."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
JUPYTER = str(Path(sys.prefix) / "bin" / "jupyter")


def test_installed_lab_and_server_extensions_are_listed_ok() -> None:
    server = subprocess.run(
        [JUPYTER, "server", "extension", "list"], capture_output=True, text=True, timeout=120
    )
    lab = subprocess.run(
        [JUPYTER, "labextension", "list"], capture_output=True, text=True, timeout=120
    )
    server_lines = [
        line for line in (server.stdout + server.stderr).splitlines() if "cohortlab" in line
    ]
    lab_lines = [line for line in (lab.stdout + lab.stderr).splitlines() if "cohortlab" in line]
    assert any("enabled" in line for line in server_lines), server.stdout + server.stderr
    assert any("OK" in line for line in server_lines), server.stdout + server.stderr
    assert any("enabled" in line and "OK" in line for line in lab_lines), lab.stdout + lab.stderr


@pytest.mark.slow
def test_wheel_carries_the_prebuilt_lab_extension_and_server_config(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("cohortlab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = next(n.split("/")[0] for n in names if ".data/" in n)
    assert f"{data}/data/share/jupyter/labextensions/cohortlab/package.json" in names
    assert any(
        n.startswith(f"{data}/data/share/jupyter/labextensions/cohortlab/static/") for n in names
    )
    assert f"{data}/data/etc/jupyter/jupyter_server_config.d/cohortlab.json" in names
    assert "cohortlab/store/alembic/versions/0001_users.py" in names
    assert "cohortlab/store/alembic/script.py.mako" in names
    # The widgets' front end, where cohortlab.widgets._assets looks for it in a wheel.
    for asset in ("quiz.js", "leaderboard.js", "dom.js", "live.js", "cohortlab.css"):
        assert f"cohortlab/widgets/static/{asset}" in names, asset
    # ...and the installed classes load them from there, not from a source checkout.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from cohortlab.widgets import Quiz, _assets; "
            "assert 'export default' in Quiz._esm; print(_assets.asset_dir())",
            str(site),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert Path(found.stdout.strip()) == site / "cohortlab" / "widgets" / "static"
