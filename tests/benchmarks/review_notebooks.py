"""Real-size submissions for the peer review benchmark: a data-science notebook per learner.

Each is the released ``hw1`` notebook answered (with the author's name and home path in the
answers, as learners write them), followed by an analysis section of the kind a course asks
for: data loading that prints the author's home path, a DataFrame shown as HTML and text,
a warning whose traceback walks the author's ``site-packages``, and five PNG figures (plots
and a heatmap) of 200-550 KB each, whose ``tEXt`` chunks name the software and the author
(as plotting tools write them). About 2.5 MB of JSON per notebook.

The PNGs are valid images built without numpy or matplotlib: rows of flat background with
stretches of noise, deflated, so their compressed data is as incompressible as a real
plot's, which is what the anonymiser and the service's check read.
"""

from __future__ import annotations

import base64
import copy
import random
import struct
import zlib
from typing import Any

from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

FIRST = ["Ada", "Benedikt", "Chiara", "Deirdre", "Elias", "Farah", "Goran", "Hana", "Ines", "Jonas"]
LAST = [
    "Lovelace", "Okafor", "Ramos", "Brandt", "Nakamura", "Haddad", "Kowalski", "Silva",
    "Lindqvist", "Mbeki", "Novak", "Castillo", "Ferreira", "Yilmaz", "Dubois", "Moreau",
    "Schmidt", "Tanaka", "Oduya", "Petrov", "Rossi", "Jansen", "Keller", "Horvat", "Larsen",
    "Quinn", "Varga", "Weber", "Zhou", "Abebe",
]  # fmt: skip
# (width, height, share of each row that is noise): compressed sizes ~200-550 KB
FIGURES = [
    (1000, 600, 0.14), (1000, 600, 0.22), (800, 800, 0.28), (1200, 500, 0.12), (900, 700, 0.2),
]  # fmt: skip


def learners(count: int) -> list[tuple[str, str, str]]:
    """``count`` (user name, first name, last name), all full names distinct."""
    out = []
    for i in range(count):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        out.append((f"pr{i:03d}", first, last if i < len(FIRST) * len(LAST) else f"{last}{i}"))
    return out


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, noise: float, rng: random.Random, texts: dict[str, str]) -> bytes:
    """An RGB PNG: white rows with a noisy stretch (a plot's ink), tEXt chunks from ``texts``."""
    white = b"\xff" * (width * 3)
    span = int(width * 3 * noise)
    rows = []
    for _ in range(height):
        start = rng.randrange(0, width * 3 - span + 1)
        rows.append(b"\0" + white[:start] + rng.randbytes(span) + white[start + span :])
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    meta = b"".join(_chunk(b"tEXt", f"{k}\0{v}".encode("latin-1")) for k, v in texts.items())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + meta
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + _chunk(b"IEND", b"")
    )


def figures(seed: int = 6) -> list[bytes]:
    """The pixel data shared by every notebook (made once: pure Python is slow at pixels)."""
    rng = random.Random(seed)
    return [png(w, h, share, rng, {}) for w, h, share in FIGURES]


def _with_texts(image: bytes, texts: dict[str, str]) -> bytes:
    """``image`` with tEXt chunks added after IHDR (33 bytes: signature + IHDR)."""
    meta = b"".join(_chunk(b"tEXt", f"{k}\0{v}".encode("latin-1")) for k, v in texts.items())
    return image[:33] + meta + image[33:]


def _table(rng: random.Random, rows: int = 60) -> tuple[str, str]:
    """A DataFrame's ``text/html`` and ``text/plain`` reprs."""
    head = "<tr><th></th><th>day</th><th>station</th><th>temp</th><th>rain_mm</th></tr>"
    body, plain = [], ["     day   station   temp  rain_mm"]
    for i in range(rows):
        temp, rain = round(rng.uniform(5, 32), 1), round(rng.uniform(0, 20), 1)
        body.append(
            f"<tr><th>{i}</th><td>2024-06-{i % 30 + 1:02d}</td><td>north-{i % 7}</td>"
            f"<td>{temp}</td><td>{rain}</td></tr>"
        )
        plain.append(f"{i:>4}  2024-06-{i % 30 + 1:02d}  north-{i % 7}  {temp:>5}  {rain:>6}")
    html = f'<div><table border="1" class="dataframe"><thead>{head}</thead><tbody>'
    return html + "".join(body) + "</tbody></table></div>", "\n".join(plain)


def submission(
    released: Any, user: str, first: str, last: str, images: list[bytes], seed: int
) -> Any:
    """One learner's answered ``hw1`` with an analysis section and its outputs."""
    rng = random.Random(seed)
    nb = copy.deepcopy(released)
    home = f"/home/{user}"
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "mean":
            cell.source = "def mean(values):\n    return sum(values) / len(values)"
        elif grade_id == "unusual_days":
            cell.source = (
                "def unusual_days(values, labels, threshold=1.5):\n"
                "    m = mean(values)\n"
                "    sd = (sum((v - m) ** 2 for v in values) / len(values)) ** 0.5\n"
                "    return [l for v, l in zip(values, labels) if abs(v - m) > threshold * sd]"
            )
        elif grade_id == "interpretation":
            cell.source = (
                f"{first} {last} ({user}): the median would not move much; my notes are in "
                f"{home}/notes/hw1.md."
            )
    html, plain = _table(rng)
    warning = [
        "\x1b[0;31m---------------------------------------------------------------------\x1b[0m",
        "\x1b[0;31mFutureWarning\x1b[0m                      Traceback (most recent call last)",
        f"File \x1b[0;32m{home}/.local/lib/python3.11/site-packages/pandas/core/frame.py:5034"
        "\x1b[0m",
        f"Cell \x1b[0;32mIn[12], line 3\x1b[0m\n  df = load('{home}/data/weather.csv')",
        "\x1b[0;31mFutureWarning\x1b[0m: the default of observed=False is deprecated",
    ]
    analysis = [
        new_markdown_cell(f"## My analysis\n\nBy {first} {last} ({user}@uni.example)."),
        new_code_cell(
            f"import pandas as pd\ndf = pd.read_csv('{home}/data/weather.csv')\ndf.head(60)",
            execution_count=11,
            outputs=[
                new_output(
                    "stream",
                    name="stdout",
                    text=f"Loaded 8,760 rows from {home}/data/weather.csv as {user}\n",
                ),
                new_output(
                    "execute_result",
                    data={"text/html": html, "text/plain": plain},
                    execution_count=11,
                ),
            ],
        ),
        new_code_cell(
            "df.groupby('station').temp.mean()",
            execution_count=12,
            outputs=[
                new_output(
                    "error", ename="FutureWarning", evalue="observed=False", traceback=warning
                )
            ],
        ),
    ]
    texts = {"Software": "matplotlib version3.8.2, https://matplotlib.org/", "Author": user}
    for i, image in enumerate(images):
        data = _with_texts(image, {**texts, "Title": f"Figure {i + 1} by {first} {last}"})
        analysis.append(
            new_code_cell(
                f"fig, ax = plt.subplots()\nax.plot(df.day, df.temp)  # figure {i + 1}",
                execution_count=13 + i,
                outputs=[
                    new_output(
                        "display_data",
                        data={
                            "image/png": base64.b64encode(data).decode() + "\n",
                            "text/plain": "<Figure size 1000x600 with 1 Axes>",
                        },
                        metadata={"image/png": {"width": 800}},
                    )
                ],
            )
        )
    nb.cells.extend(analysis)
    return nb
