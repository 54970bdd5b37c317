"""A loopback stand-in for the DeFiLlama yields API: a real HTTP server on 127.0.0.1 in
a thread of the test process, serving scripted (and faulty) answers.

>>> with StandIn() as api:
...     api.serve(Reply(body))                           # every GET /pools answers this
...     api.serve(Reply(body, trickle=(64, 0.05)))       # 64 bytes every 50 ms
...     api.serve(Reply(body, hold=event))               # headers + a little, then wait for the event
...     api.url                                          # "http://127.0.0.1:<port>"

``payload()`` builds ``/pools`` bodies from the real recorded records, with the faults
the issue lists (NaN, negative, 1e12, 50x values, nulls, -1 components) written into the
JSON text itself.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.pools.conftest import FULLFIELDS, fixture_items

NAN = object()  # a bare NaN token in the JSON text (what Python's json writes for float("nan"))


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    trickle: tuple[int, float] | None = None  # (bytes per write, seconds between writes)
    hold: threading.Event | None = None  # send the headers and the first 100 bytes, then wait
    hold_seconds: float = 30.0


class StandIn:
    def __init__(self) -> None:
        self.replies: list[Reply] = [Reply(b"{}", 503)]
        self.requests: list[str] = []
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with stand_in.lock:
                    stand_in.requests.append(self.path)
                    n = len(stand_in.requests)
                    reply = stand_in.replies[min(n, len(stand_in.replies)) - 1]
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                try:
                    if reply.hold is not None:
                        self.wfile.write(reply.body[:100])
                        self.wfile.flush()
                        reply.hold.wait(reply.hold_seconds)
                        self.wfile.write(reply.body[100:])
                    elif reply.trickle is not None:
                        size, pause = reply.trickle
                        for start in range(0, len(reply.body), size):
                            self.wfile.write(reply.body[start : start + size])
                            self.wfile.flush()
                            time.sleep(pause)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its deadline): expected

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, *replies: Reply) -> StandIn:
        """Answer the next requests with ``replies`` in order (the last one repeats)."""
        with self.lock:
            self.replies = list(replies)
            self.requests = []
        return self

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _number(value: Any) -> str:
    if value is NAN:
        return "NaN"
    if value is None:
        return "null"
    return str(value)


def payload(
    *,
    at: datetime | None = None,
    changes: Mapping[int, Mapping[str, Any]] | None = None,
    scale: Mapping[int, Mapping[str, Decimal | int]] | None = None,
    items: list[dict] | None = None,
) -> bytes:
    """A ``/pools`` body from the 50 real full-field records.

    ``at``: every record's timestamp; ``changes``: {record index: {field: new value}}
    (``NAN`` writes a bare NaN); ``scale``: {record index: {field: factor}}.
    """
    items = [dict(item) for item in (items or fixture_items(FULLFIELDS))]
    for index, fields in (scale or {}).items():
        for name, factor in fields.items():
            items[index][name] = Decimal(str(items[index][name])) * Decimal(factor)
    if at is not None:
        for item in items:
            item["timestamp"] = at.isoformat().replace("+00:00", "Z")
    rows = []
    for index, item in enumerate(items):
        raw = {**item, **(changes or {}).get(index, {})}
        parts = []
        for key, value in raw.items():
            if value is NAN or isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
                parts.append(f"{json.dumps(key)}:{_number(value)}")
            else:
                parts.append(f"{json.dumps(key)}:{json.dumps(value, default=str)}")
        rows.append("{" + ",".join(parts) + "}")
    return ('{"status":"success","data":[' + ",".join(rows) + "]}").encode()


def pool_ids() -> list[str]:
    return [item["pool"] for item in fixture_items(FULLFIELDS)]


def wait_for(predicate: Callable[[], bool], timeout: float = 60, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
