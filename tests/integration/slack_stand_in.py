"""A local stand-in for Slack, the only part of these tests that is not the real thing.

- `SlackWebApi`: Slack's Web API on a local port. The Rasa server posts its replies here
  (SLACK_API_URL), and each chat.postMessage call is captured. Like Slack, it refuses calls
  without the bot token, and `as_user` from a bot token (apps created since 2020 have only those).
  It can also fail as Slack's API does in an outage: `down()` refuses every connection,
  `hanging(channel)` leaves the posts to one channel unanswered.
- `signed_request()`: a request to the bot signed exactly as Slack signs them (v0 HMAC-SHA256 of
  "v0:<timestamp>:<body>" with the app's signing secret); `signed_post()` signs any body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import requests


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A server stopped while its post was answered (a test's or a benchmark's restart)
        # leaves a broken pipe here: as Slack would, carry on without a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SlackWebApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.posts: list[dict] = []  # the JSON body of every accepted chat.postMessage
        self.refused: list[str] = []  # calls Slack would refuse
        self.hung: list[dict] = []  # posts left unanswered while their channel was hanging
        self._hanging: dict[str, threading.Event] = {}  # channel -> set when it answers again
        self._changed = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Authorization") != f"Bearer {api.token}":
                    api._record(api.refused, self.path)
                    return self._reply({"ok": False, "error": "invalid_auth"})
                if self.path.rstrip("/").endswith("/chat.postMessage"):
                    message = json.loads(body)
                    if "as_user" in message:
                        # What Slack answers a bot token (xoxb-) that passes as_user at all.
                        api._record(api.refused, f"as_user in {self.path}")
                        return self._reply({"ok": False, "error": "invalid_arguments"})
                    if released := api._hanging.get(message["channel"]):
                        api._record(api.hung, message)
                        released.wait()
                        # Closed unanswered, as a request that timed out: nothing was posted.
                        self.close_connection = True
                        return None
                    api._record(api.posts, message)
                    return self._reply({"ok": True, "channel": message["channel"], "ts": "1.0"})
                self._reply({"ok": False, "error": "unknown_method"})

            def _reply(self, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self._handler = Handler
        self._listen(port=0)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def _listen(self, port: int) -> None:
        self._server = QuietServer(("127.0.0.1", port), self._handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _record(self, where: list, what) -> None:
        with self._changed:
            where.append(what)
            self._changed.notify_all()

    def posts_to(self, channel: str) -> list[dict]:
        return [post for post in self.posts if post["channel"] == channel]

    def hung_posts_to(self, channel: str) -> list[dict]:
        return [post for post in self.hung if post["channel"] == channel]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        with self._changed:
            if not self._changed.wait_for(condition, timeout):
                raise AssertionError(f"Slack stand-in: condition not met within {timeout}s")

    @contextmanager
    def down(self) -> Iterator[None]:
        """Slack unreachable: every connection is refused until the block ends."""
        port = self._server.server_address[1]
        self.close()
        try:
            yield
        finally:
            self._listen(port)

    @contextmanager
    def hanging(self, channel: str) -> Iterator[None]:
        """Posts to `channel` get no answer until the block ends; then their connections close
        unanswered (nothing posted), and the next posts are accepted again."""
        released = threading.Event()
        self._hanging[channel] = released
        try:
            yield
        finally:
            del self._hanging[channel]
            released.set()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_post(
    url: str,
    secret: str,
    body: bytes,
    content_type: str,
    *,
    timestamp: int | None = None,
    headers: dict | None = None,
) -> requests.Response:
    """POST any body, signed with the app's signing secret as Slack signs what it sends."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return requests.post(
        url,
        data=body,
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature(secret, stamp, body),
            **(headers or {}),
        },
        timeout=10,
    )


def signed_request(
    url: str,
    secret: str,
    *,
    event: dict | None = None,
    interaction: dict | None = None,
    timestamp: int | None = None,
    headers: dict | None = None,
) -> requests.Response:
    """POST an Events API body (event) or an interactivity payload (interaction), as Slack does."""
    if event is not None:
        body, content_type = json.dumps(event).encode(), "application/json"
    else:
        body = urlencode({"payload": json.dumps(interaction)}).encode()
        content_type = "application/x-www-form-urlencoded"
    return signed_post(url, secret, body, content_type, timestamp=timestamp, headers=headers)
