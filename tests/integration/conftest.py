import os
import secrets
import shutil
import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.local_servers import PROJECT_ROOT, free_port, running_assistant
from tests.integration.slack_stand_in import SlackWebApi

SLACK_BOT_TOKEN = "xoxb-stand-in-token"

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = PROJECT_ROOT / "results" / "screenshots"
# What works on these machines: no sandbox as root, and no calls home.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class SlackApp:
    webhook: str  # where Slack would send events and clicks
    signing_secret: str
    api: SlackWebApi  # where the bot's replies arrive


@dataclass
class SiteOwnerPage:
    url: str  # a page on another origin, embedding the widget with its one script tag
    directory: Path


class QuietFileHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def slack_web_api():
    api = SlackWebApi(SLACK_BOT_TOKEN)
    yield api
    api.close()


@pytest.fixture(scope="session")
def slack_signing_secret() -> str:
    return secrets.token_hex(16)


def slack_settings(slack_web_api: SlackWebApi, signing_secret: str) -> dict[str, str]:
    """A Rasa server's environment for Slack through the local stand-in of its Web API."""
    return {
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": signing_secret,
        "SLACK_API_URL": slack_web_api.url,
        "GOAL_REMINDER_SECONDS": "1",  # due goals' direct messages, looked for every second
    }


@pytest.fixture(scope="session")
def site_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def servers_dir(tmp_path_factory) -> Path:
    """Where the `assistant` fixture's servers keep their databases and logs."""
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def report_token() -> str:
    return secrets.token_hex(16)


@pytest.fixture(scope="session")
def assistant(servers_dir, slack_web_api, slack_signing_secret, site_port, report_token):
    """The real action server and Rasa server, started once for these tests: REST, the website
    widget (allowing the site owner's origin), Slack (replies go to the local stand-in) and the
    operators' report (REPORT_TOKEN)."""
    slack_env = {
        **slack_settings(slack_web_api, slack_signing_secret),
        # Sanic waits this long on stop for open connections; a socket.io client leaves one
        # (15 s by default, on every run of the widget tests).
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "2",
        "REPORT_TOKEN": report_token,
    }
    with running_assistant(
        work_dir=servers_dir,
        env=slack_env,
        cors=f"http://127.0.0.1:{site_port}",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    """A real headless Chromium (Debian's package), driven by Playwright."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        # .ci/run installs it: in CI a missing browser is a failure, not a skip.
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            "needs Chromium: apt-get install chromium"
        )
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def slack_app(assistant, slack_web_api, slack_signing_secret) -> SlackApp:
    return SlackApp(
        webhook=f"{assistant.url}/webhooks/slack/webhook",
        signing_secret=slack_signing_secret,
        api=slack_web_api,
    )


@pytest.fixture(scope="session")
def site_owner_page(assistant, site_port, tmp_path_factory) -> SiteOwnerPage:
    """The snippet from the README, pasted into a page served from its own origin."""
    directory = tmp_path_factory.mktemp("site")
    (directory / "index.html").write_text(
        "<!doctype html><html><head><title>St. Example Hospital careers</title></head><body>"
        "<h1>Careers in clinical operations</h1>"
        f'<script src="{assistant.url}/webhooks/widget/coach-widget.js"'
        ' data-title="Career coach" data-color="#0b6e4f"></script>'
        "</body></html>"
    )
    handler = partial(QuietFileHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SiteOwnerPage(url=f"http://127.0.0.1:{site_port}/", directory=directory)
    server.shutdown()
