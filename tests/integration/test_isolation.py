"""One machine, many people: a learner's kernel reads nothing that is not theirs."""

from __future__ import annotations

import json

from tests.helpers.hub import Hub
from tests.helpers.kernel import run_in_kernel

PROBE = """
import json, os
paths = json.loads({paths!r})
result = {{}}
for label, path in paths.items():
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        result[label] = "read"
    except PermissionError:
        result[label] = "denied"
    except FileNotFoundError:
        result[label] = "missing"
print(json.dumps(result))
"""


async def test_learners_kernel_cannot_read_the_service_data_or_another_home(cl_hub: Hub) -> None:
    cl_hub.start_server("ada")
    secret_files = {
        "service database": cl_hub.service_data_dir / "cohortlab.sqlite",
        "service cookie secret": cl_hub.service_data_dir / "cookie_secret",
        "service folder": cl_hub.service_data_dir,
        "hub database": cl_hub.state / "hub" / "jupyterhub.sqlite",
        "hub cookie secret": cl_hub.state / "hub" / "jupyterhub_cookie_secret",
        "ben's home": "/home/ben",
        "ben's notebook": "/home/ben/welcome.ipynb",
    }
    for path in secret_files.values():
        assert __import__("os").path.exists(path), f"{path} should exist for this test"
    paths = json.dumps({k: str(v) for k, v in secret_files.items()})
    out, errors = await run_in_kernel(
        cl_hub.url, "ada", cl_hub.token_for("ada"), PROBE.format(paths=paths)
    )
    assert not errors, errors
    assert json.loads(out) == dict.fromkeys(secret_files, "denied")


async def test_learners_kernel_runs_as_the_learner_and_reads_their_own_home(cl_hub: Hub) -> None:
    cl_hub.start_server("ada")
    code = (
        "import getpass, os; print(getpass.getuser(), len(os.listdir(os.path.expanduser('~'))) > 0)"
    )
    out, errors = await run_in_kernel(cl_hub.url, "ada", cl_hub.token_for("ada"), code)
    assert not errors, errors
    assert out.split() == ["ada", "True"]


async def test_kernels_hub_token_reaches_the_service_only_as_its_owner(cl_hub: Hub) -> None:
    cl_hub.start_server("ada")
    code = f"""
import json, os, urllib.request, urllib.error
token = os.environ["JUPYTERHUB_API_TOKEN"]
def get(url):
    req = urllib.request.Request(url, headers={{"Authorization": "token " + token}})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None
me = get("{cl_hub.service_url}api/v1/me")
ben = get("{cl_hub.url}/hub/api/users/ben")
ben_relay = get("{cl_hub.at("/user/ben/cohortlab/api/v1/me")}")
print(json.dumps({{"me": me[1]["name"], "ben": ben[0], "ben_relay": ben_relay[0]}}))
"""
    out, errors = await run_in_kernel(cl_hub.url, "ada", cl_hub.token_for("ada"), code)
    assert not errors, errors
    result = json.loads(out)
    assert result["me"] == "ada"
    assert result["ben"] in (403, 404)
    assert result["ben_relay"] in (403, 404)
