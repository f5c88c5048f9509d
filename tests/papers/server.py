"""A tiny local HTTP server that replays recorded responses, so the importers' real HTTP code
(timeouts, retries, rate limits, keep-alive) runs in tests without the network."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0


def fixture(name: str, status: int = 200, content_type: str = "application/json") -> Reply:
    return Reply((FIXTURES / name).read_bytes(), status, {"Content-Type": content_type})


def atom(name: str, status: int = 200) -> Reply:
    return fixture(name, status, "application/atom+xml; charset=utf-8")


def recorded(name: str) -> Reply:
    """A response recorded with its status and headers ({"status", "headers", "body"})."""
    data = json.loads((FIXTURES / name).read_text())
    return Reply(data["body"].encode(), data["status"], data["headers"])


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    client_port: int
    at: float


class FixtureServer:
    """Routes are (path, query subset) -> replies, served in order; the last one repeats."""

    def __init__(self):
        self.routes: list[tuple[str, dict, list[Reply]]] = []
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so tests can see connection reuse

            def do_GET(self):
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                server.seen.append(
                    Seen(parts.path, query, dict(self.headers), self.client_address[1], time.monotonic())
                )
                reply = server.next_reply(parts.path, query)
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def add(self, path: str, *replies: Reply, **query: str) -> None:
        self.routes.append((path, query, list(replies)))

    def next_reply(self, path: str, query: dict) -> Reply:
        for route_path, subset, replies in self.routes:
            if route_path == path and all(query.get(k) == v for k, v in subset.items()):
                return replies.pop(0) if len(replies) > 1 else replies[0]
        return Reply(b'{"error":"no such fixture route"}', 404)

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def start(self) -> "FixtureServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
