"""The Python package, the lab extension and its version constant ship as one release."""

import json
import re
from pathlib import Path

from cohortlab import __version__

LABEXT = Path(__file__).resolve().parents[2] / "extensions" / "labextension"


def test_lab_extension_package_and_constant_match_the_python_version() -> None:
    package = json.loads((LABEXT / "package.json").read_text())
    constant = re.search(r"VERSION = '([^']+)'", (LABEXT / "src" / "version.ts").read_text())
    assert constant is not None
    assert package["version"] == constant.group(1) == __version__
