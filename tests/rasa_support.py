"""Helpers for the tests that compare addons/ replacements with Rasa's own methods."""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from aiohttp import web

from addons import rasa_patches
from scripts.local_servers import free_port


@contextmanager
def rasa_without_addons() -> Iterator[None]:
    """Rasa's own methods back in place of every replacement addons/ installed, for the block:
    Rasa as released, to compare the replacements with."""
    patches = rasa_patches.installed()
    for patch in patches:
        setattr(patch.owner, patch.name, rasa_patches.original(patch.owner, patch.name))
    try:
        yield
    finally:
        for patch in patches:
            setattr(patch.owner, patch.name, patch.replacement)


@asynccontextmanager
async def action_server_stand_in(
    answer: Callable[[dict], dict], status: int = 200, client_ports: list[int] | None = None
) -> AsyncIterator[tuple[str, list[dict]]]:
    """A local HTTP server in place of the action server, answering each call (Rasa's request
    body) with `status` and answer(call). Yields its webhook URL and the calls it received;
    `client_ports`, if given, gets the port each call came from (one port per connection: it
    keeps connections open, as the action server's Sanic does)."""
    calls = []

    async def webhook(request: web.Request) -> web.Response:
        call = await request.json()
        calls.append(call)
        if client_ports is not None:
            client_ports.append(request.transport.get_extra_info("peername")[1])
        return web.json_response(answer(call), status=status)

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/webhook", calls
    finally:
        await runner.cleanup()
