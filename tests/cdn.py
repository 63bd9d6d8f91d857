"""A local attachment server for the cog tests: what Discord's CDN is to `/story add`.

Owns `serve(data, ...)`: registers bytes and returns the URL a test attachment points at. The
server (the standard library's, in a daemon thread, started on first use) sends them at once, or
`trickle`s them one byte per `trickle` seconds, or `endless`ly repeats them; it counts the bytes it
managed to send. It must not know about the bot: tests build their attachment mocks around the URL.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote


@dataclass
class Served:
    """One file on the server, and how many bytes of it went out."""

    data: bytes
    trickle: float = 0.0
    endless: bool = False
    status: int = 200
    requests: int = 0
    sent: int = 0


_FILES: dict[str, Served] = {}
_SERVER: list[ThreadingHTTPServer] = []
_LOCK = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        served = _FILES.get(self.path)
        if served is not None:
            served.requests += 1
        if served is None or served.status != 200:
            self.send_error(404 if served is None else served.status)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if not served.endless:
            self.send_header("Content-Length", str(len(served.data)))
        self.end_headers()
        try:
            if served.endless:
                for _ in itertools.count():
                    self.wfile.write(served.data)
                    served.sent += len(served.data)
            elif served.trickle:
                for byte in served.data:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    served.sent += 1
                    time.sleep(served.trickle)
            else:
                self.wfile.write(served.data)
                served.sent += len(served.data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what a bounded download does

    def log_message(self, format: str, *args: object) -> None:
        pass


def _base() -> str:
    with _LOCK:
        if not _SERVER:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, name="test-cdn", daemon=True).start()
            _SERVER.append(server)
        host, port = _SERVER[0].server_address[:2]
    return f"http://{host}:{port}"


def serve(
    data: bytes, name: str = "story.txt", *, trickle: float = 0.0, endless: bool = False, status: int = 200
) -> tuple[str, Served]:
    """Serve `data` under a new URL; the URL, and the record of what was sent."""
    path = f"/attachments/{len(_FILES) + 1}/{quote(name, safe='')}"
    served = _FILES[path] = Served(data, trickle, endless, status)
    return _base() + path, served
