"""Finding the widgets' JavaScript and CSS, and joining the ES modules into one.

The front-end sources are plain ES modules in the repository's ``widgets/`` folder, with
no build step. anywidget loads a widget's ``_esm`` from a blob URL, where relative
imports cannot resolve, so each widget module is joined here with the modules it
imports into one module text. The join is deliberately strict rather than a bundler:
only ``import { a, b } from "./other.js";`` lines between our own files are understood,
and anything else fails loudly when ``cohortlab.widgets`` is imported (and in the unit
tests), never silently in a learner's browser.

Where the files are:

* a wheel ships them inside the package, as ``cohortlab/widgets/static/`` (hatch
  ``force-include`` in ``pyproject.toml``);
* an editable install (``pip install -e .``) has no ``static/`` next to this file, so
  they are read from the source checkout's ``widgets/`` folder — edits show up on the
  next kernel restart without reinstalling.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# Packaged (wheel) first, then the source checkout (editable install).
SEARCH_PATH = (_HERE / "static", _HERE.parents[2] / "widgets")

_IMPORT = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"\./([\w.-]+\.js)";[ \t]*\r?\n?', re.M)
_EXPORT_DECL = re.compile(r"^export\s+(?=(?:async\s+)?function\b|const\b|let\b|class\b)", re.M)
_ANY_IMPORT = re.compile(r"^\s*import\b(?!\s*\()", re.M)
_ANY_EXPORT = re.compile(r"^\s*export\b", re.M)


class WidgetAssetError(RuntimeError):
    """The widget sources are missing or use a form the join does not understand."""


def asset_dir() -> Path:
    """The first folder of :data:`SEARCH_PATH` that holds the widget sources."""
    for folder in SEARCH_PATH:
        if (folder / "quiz.js").is_file():
            return folder
    searched = ", ".join(str(p) for p in SEARCH_PATH)
    raise WidgetAssetError(
        f"CohortLab's widget files were not found (looked in {searched}); reinstall cohortlab."
    )


def read_asset(name: str) -> str:
    return (asset_dir() / name).read_text(encoding="utf-8")


@cache
def bundle(entry: str) -> str:
    """``entry`` (e.g. ``"quiz.js"``) with every module it imports inlined before it.

    Imported modules come first, each once, in dependency order; their top-level
    ``export`` keywords are dropped so they become plain declarations of one module
    scope, and the entry keeps its ``export default``. Name clashes between files are
    therefore syntax errors, which the unit tests catch with ``node --check``.
    """
    done: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise WidgetAssetError(f"widgets/{name}: import cycle")
        visiting.add(name)
        for _names, dep in _IMPORT.findall(read_asset(name)):
            visit(dep)
        visiting.discard(name)
        done.append(name)

    visit(entry)
    parts = []
    for name in done:
        text = _IMPORT.sub("", read_asset(name))
        if _ANY_IMPORT.search(text):
            raise WidgetAssetError(
                f'widgets/{name}: only `import {{ a, b }} from "./other.js";` is supported'
            )
        if name != entry:
            text = _EXPORT_DECL.sub("", text)
            if _ANY_EXPORT.search(text):
                raise WidgetAssetError(
                    f"widgets/{name}: a shared module may only export function, const, let "
                    "or class declarations"
                )
        parts.append(f"// ---- widgets/{name}\n{text.rstrip()}\n")
    return "\n".join(parts)
