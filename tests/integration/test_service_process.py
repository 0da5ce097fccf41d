"""The service as a process: refuses to start on a bad database, stops cleanly on signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers.hub import free_port
from tests.helpers.waiting import wait_until

COHORTLAB = str(Path(sys.prefix) / "bin" / "cohortlab")


def _service_env(tmp_path: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "COHORTLAB_DATA_DIR": str(tmp_path),
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/cohortlab/",
        "JUPYTERHUB_API_TOKEN": "unused",
        "JUPYTERHUB_API_URL": "http://127.0.0.1:1/hub/api",
        "JUPYTERHUB_CLIENT_ID": "service-cohortlab",
    }


def test_schema_older_than_the_code_stops_start_up_with_one_line(tmp_path: Path) -> None:
    env = _service_env(tmp_path, free_port())
    result = subprocess.run(
        [COHORTLAB, "service"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "run `cohortlab upgrade-db`" in lines[0]
    assert "Traceback" not in result.stderr


def test_unreachable_database_stops_start_up_with_one_line(tmp_path: Path) -> None:
    env = _service_env(tmp_path, free_port())
    result = subprocess.run(
        [COHORTLAB, "service", "--db-url=postgresql://cl:pw@127.0.0.1:1/none"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "cannot connect to database" in result.stderr
    assert "pw" not in result.stderr


def _ignore_sigint() -> None:
    # What a hub started in the background from a non-interactive shell leaves behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_service_stops_within_5_seconds_on_signal_even_with_sigint_ignored(
    tmp_path: Path, sig: signal.Signals
) -> None:
    subprocess.run(
        [COHORTLAB, "upgrade-db", f"--data-dir={tmp_path}"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    proc = subprocess.Popen(
        [COHORTLAB, "service"],
        env=_service_env(tmp_path, port),
        preexec_fn=_ignore_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/services/cohortlab/api/v1"
        status = wait_until(
            lambda: requests.get(url, timeout=1).status_code, timeout=30, what="the service"
        )
        assert status == 401
        started = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=10)
        assert time.monotonic() - started < 5
        assert proc.returncode == 0
        assert b"CohortLab service stopped" in proc.stdout.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
