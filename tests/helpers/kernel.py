"""Run code in a person's real kernel, over the Jupyter server's kernel WebSocket."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from tests.helpers.hub import on_origin


async def run_in_kernel(
    hub_url: str,
    user: str,
    token: str,
    code: str,
    timeout: float = 60,
    *,
    kernel_name: str = "python3",
    path: str | None = None,
) -> tuple[str, list[str]]:
    """Start a kernel (``kernel_name``, working in folder ``path`` of the server) in ``user``'s
    server, run ``code``; returns (stdout, error lines)."""
    import requests

    base = on_origin(f"{hub_url}/user/{user}/api/kernels")
    headers = {"Authorization": f"token {token}"}
    spec = {"name": kernel_name, **({"path": path} if path else {})}
    kernel = requests.post(base, headers=headers, json=spec, timeout=30)
    kernel.raise_for_status()
    kernel_id = kernel.json()["id"]
    session = uuid.uuid4().hex
    ws_url = f"{base}/{kernel_id}/channels?session_id={session}".replace("http", "ws", 1)
    conn = await websocket_connect(HTTPRequest(ws_url, headers=headers, request_timeout=timeout))
    msg_id = uuid.uuid4().hex
    conn.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "username": user,
                    "session": session,
                    "msg_type": "execute_request",
                    "version": "5.3",
                    "date": datetime.now(UTC).isoformat(),
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    out: list[str] = []
    errors: list[str] = []
    try:
        while True:
            raw = await conn.read_message()
            if raw is None:
                raise RuntimeError("kernel WebSocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                errors.extend(msg["content"]["traceback"])
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        conn.close()
        requests.delete(f"{base}/{kernel_id}", headers=headers, timeout=30)
    return "".join(out), errors
