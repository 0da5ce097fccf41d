"""An open-loop load generator: requests sent on a fixed schedule, whatever the answers.

wrk is closed-loop: each of its connections waits for an answer before sending again, so
at 64 connections a server answering in 100 ms can never be offered more than 640
requests a second, and a slow answer delays the requests behind it instead of counting
against the server ("coordinated omission"). A target such as "300 replies a second with
p99 <= 100 ms" is a question about a given arrival rate, so this sends request i at
``start + i / rate`` on whichever keep-alive connection is free (opening another when none
is), and measures each latency from the moment the request was due.

Run as a separate process (it must not share the service's interpreter):
``python open_loop.py SPEC.json`` where the spec holds ``host``, ``port``, ``rate``,
``seconds``, ``requests`` (a list of ``[method, path, token]``) and ``body``; the last
line of output is a JSON object with the figures. At 300 requests a second it uses a few
per cent of a core.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

MAX_CONNECTIONS = 512


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def request(self, raw: bytes) -> int:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length:
            await self.reader.readexactly(length)
        return status


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], int(spec["port"])
    rate, seconds = float(spec["rate"]), float(spec["seconds"])
    body = spec.get("body", "").encode()
    raws = []
    for method, path, token in spec["requests"]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: token {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body) if method in ('POST', 'PUT', 'PATCH') else 0}\r\n\r\n"
        )
        raws.append(head.encode() + (body if method in ("POST", "PUT", "PATCH") else b""))
    idle: list[Connection] = []
    opened = 0
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    stale = 0

    async def connect() -> Connection:
        nonlocal opened
        if opened >= MAX_CONNECTIONS:
            raise RuntimeError("too many connections open")
        opened += 1
        return Connection(*await asyncio.open_connection(host, port))

    async def one(raw: bytes, due: float) -> None:
        nonlocal errors, stale
        conn = idle.pop() if idle else None
        try:
            if conn is None:
                conn = await connect()
                status = await conn.request(raw)
            else:
                try:
                    status = await conn.request(raw)
                except (asyncio.IncompleteReadError, ConnectionError) as e:
                    # A server may close a keep-alive connection that sat idle (the
                    # proxy's node server does after 5 s); like any HTTP client, send
                    # again on a new one when it closed before answering anything.
                    if isinstance(e, asyncio.IncompleteReadError) and e.partial:
                        raise
                    stale += 1
                    conn.writer.close()
                    conn = await connect()
                    status = await conn.request(raw)
        except Exception:
            errors += 1
            return
        latencies.append(time.perf_counter() - due)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if status >= 400:
            errors += 1
        idle.append(conn)

    total = int(rate * seconds)
    tasks = []
    start = time.perf_counter() + 0.2
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(raws[i % len(raws)], due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(q: float) -> float:
        if not latencies:
            return float("nan")
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

    return {
        "offered_rps": rate,
        "requests": total,
        "completed": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "seconds": round(elapsed, 3),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "connections": opened,
        "stale_connections_replaced": stale,
        "statuses": statuses,
        "errors": errors,
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(json.dumps(asyncio.run(run(json.load(f)))))
