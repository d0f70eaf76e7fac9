"""The operators' report served by the real Rasa server (REPORT_TOKEN set by the `assistant`
fixture), opened in a real headless Chromium: refused without the token, shown with it, loading
nothing from any other host; its conversation browser finds a learner by their hash."""

from urllib.parse import urlsplit

import pytest
import requests

from common.learner_ids import learner_id
from common.report import learner_hash
from tests.integration.conftest import SCREENSHOTS
from tests.support import new_sender

pytestmark = pytest.mark.integration

REPORT = "/webhooks/report/"


@pytest.fixture(scope="module")
def learner(assistant) -> str:
    """A learner who asked a question, one the guides don't cover, and one NLU can't place."""
    sender = new_sender("report")
    for message in (
        "what certifications should I get?",
        "what's the salary of a clinical operations manager?",
        "zxqv blorp fnord",
    ):
        assistant.say(sender, message)
    return learner_id("rest", sender)


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context
    context.close()


def test_without_the_token_the_report_is_refused(context, assistant, learner):
    page = context.new_page()
    response = page.goto(f"{assistant.url}{REPORT}")
    assert response.status == 403
    assert "needs the report's token" in page.inner_text("body")
    assert page.goto(f"{assistant.url}{REPORT}?token=wrong").status == 403
    hashed = learner_hash(learner, "wrong")
    assert page.goto(f"{assistant.url}{REPORT}conversations/{hashed}").status == 403


def test_with_the_token_the_report_shows_what_learners_asked(
    context, assistant, learner, report_token
):
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(f"{assistant.url}{REPORT}?token={report_token}")
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"

    body = page.inner_text("body")
    assert "Messages and active learners per day" in body
    assert "ask_certifications" in body
    assert "what's the salary of a clinical operations manager?" in body  # not covered
    assert "zxqv blorp fnord" in body  # answered with a clarifying question
    assert page.locator("svg").count() == 4
    assert learner not in page.content()  # only hashed

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "operators-report.png", full_page=True)

    # The conversation browser: the learner's turns, from the link the report shows.
    hashed = learner_hash(learner, report_token)
    page.get_by_role("link", name=hashed).click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{assistant.url}{REPORT}conversations/{hashed}?token=")
    rows = page.locator("tr.user")
    assert rows.count() == 3
    first = rows.first.inner_text()
    assert "what certifications should I get?" in first
    assert "ask_certifications" in first and "action_answer_topic" in first
    page.screenshot(path=SCREENSHOTS / "operators-report-conversation.png", full_page=True)

    # Nothing was fetched from anywhere but this server.
    assert {urlsplit(url).netloc for url in requested} == {urlsplit(assistant.url).netloc}


def test_the_token_also_works_as_a_bearer_header(assistant, learner, report_token):
    hashed = learner_hash(learner, report_token)
    response = requests.get(
        f"{assistant.url}{REPORT}conversations/{hashed}",
        headers={"Authorization": f"Bearer {report_token}"},
        timeout=30,
    )
    assert response.status_code == 200
    assert "what certifications should I get?" in response.text
    assert response.headers["Cache-Control"] == "no-store"
