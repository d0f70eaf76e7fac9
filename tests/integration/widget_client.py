"""A client of the website widget's socket.io channel, for tests that talk to it as any client
could: python-socketio over WebSocket, as the widget connects, or long-polling."""

import asyncio
import queue
import threading

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
