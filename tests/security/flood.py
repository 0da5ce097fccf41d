"""A learner's flood, as she would run it from her own terminal: ``python flood.py URL TOKEN
THREAD_ID SECONDS``. Two threads alternate following and unfollowing a thread (a write each),
and now and then (first, then every 50th) send a 5 MB body; prints one JSON line with what
the service answered."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter

import requests


def main() -> None:
    base, token, thread, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    follow = f"{base}api/v1/courses/demo101/threads/{thread}/follow"
    huge = b'{"x": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    answers: Counter[str] = Counter()
    retry_after: set[str] = set()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def flood() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"token {token}"
        n = 0
        while time.monotonic() < stop:
            n += 1
            try:
                if n % 50 == 1:  # the first, then every 50th
                    resp = session.put(follow, data=huge, timeout=30)
                else:
                    resp = session.request("PUT" if n % 2 else "DELETE", follow, timeout=30)
                key = str(resp.status_code)
                if resp.status_code == 429:
                    retry_after.add(resp.headers.get("Retry-After", ""))
            except requests.RequestException as e:
                key = type(e).__name__
            with lock:
                answers[key] += 1

    threads = [threading.Thread(target=flood) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"answers": answers, "retry_after": sorted(retry_after)}), flush=True)


if __name__ == "__main__":
    main()
