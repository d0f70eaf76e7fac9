"""Clients of the website widget's socket.io channel, for tests that talk to it as any client
could: python-socketio over WebSocket, as the widget connects, or long-polling; and engine.io's
long-polling by hand, for several messages in one HTTP request."""

import asyncio
import json
import queue
import threading
import time

import requests
import socketio


class WidgetClient:
    """python-socketio's asyncio client (its WebSocket transport needs no extra package), driven
    from these synchronous tests through an event loop of its own."""

    def __init__(self, url: str, transports: tuple[str, ...] = ("websocket",)) -> None:
        self.events: queue.Queue = queue.Queue()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("session_confirm", self._received("session_confirm"))
        self.sio.on("bot_uttered", self._received("bot_uttered"))
        # WebSocket, as the widget does: with several Sanic workers, long-polling requests could
        # reach a worker that does not hold the session (the cluster test uses them on purpose).
        self._run(self.sio.connect(url, transports=list(transports), socketio_path="/socket.io"))

    def _received(self, kind: str):
        async def handler(data=None) -> None:
            self.events.put((kind, data))

        return handler

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def emit(self, event: str, data: dict) -> None:
        self._run(self.sio.emit(event, data))

    def next_event(self, timeout: float = 30) -> tuple[str, object]:
        return self.events.get(timeout=timeout)

    def request_session(self, session_id) -> str:
        self.emit("session_request", {"session_id": session_id})
        kind, issued = self.next_event()
        assert kind == "session_confirm"
        return issued

    def close(self) -> None:
        self._run(self.sio.disconnect())
        self._loop.call_soon_threadsafe(self._loop.stop)


class PollingRequests:
    """engine.io's long-polling transport by hand (plain HTTP requests), so a test can put many
    socket.io messages into one request, as a polling client does with the messages it queued
    (while a request was in flight, or offline)."""

    def __init__(self, url: str) -> None:
        self.endpoint = f"{url}/socket.io/"
        self.http = requests.Session()
        opened = self._get({"EIO": "4", "transport": "polling"})
        [(kind, handshake)] = opened
        assert kind == "0", opened
        self.query = {"EIO": "4", "transport": "polling", "sid": json.loads(handshake)["sid"]}
        self.post(["40"])  # join the default namespace
        self.pending: list[tuple[str, object]] = []  # events polled, not yet taken

    def post(self, packets: list[str]) -> requests.Response:
        """One HTTP request carrying all these engine.io packets."""
        response = self.http.post(
            self.endpoint, params=self.query, data=RECORD_SEPARATOR.join(packets), timeout=30
        )
        response.raise_for_status()
        return response

    def emit_at_once(self, event: str, data: list[object]) -> requests.Response:
        """Each of `data` as one socket.io event, all in one request."""
        return self.post(["42" + json.dumps([event, item]) for item in data])

    def request_session(self, session_id) -> str:
        self.emit_at_once("session_request", [{"session_id": session_id}])
        kind, issued = self.next_event()
        assert kind == "session_confirm"
        return issued

    def next_event(self, timeout: float = 30) -> tuple[str, object]:
        """The next socket.io event from the server; queue.Empty if none came within timeout."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            if time.monotonic() > deadline:
                raise queue.Empty
            self.pending += self._poll()
        return self.pending.pop(0)

    def _poll(self) -> list[tuple[str, object]]:
        """The socket.io events of one poll, which returns when the server has something to
        send, at the latest with its next ping (answered here)."""
        events = []
        for kind, payload in self._get(self.query):
            if kind == "2":  # ping
                self.post(["3"])
            elif kind == "4" and payload.startswith("2"):  # socket.io EVENT
                name, *arguments = json.loads(payload[1:])
                events.append((name, arguments[0] if arguments else None))
        return events

    def _get(self, query: dict) -> list[tuple[str, str]]:
        response = self.http.get(self.endpoint, params=query, timeout=60)
        response.raise_for_status()
        return [(packet[:1], packet[1:]) for packet in response.text.split(RECORD_SEPARATOR)]

    def close(self) -> None:
        self.post(["1"])  # engine.io CLOSE
        self.http.close()


RECORD_SEPARATOR = "\x1e"  # between packets in one long-polling request or response
