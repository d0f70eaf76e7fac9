"""The website widget in a real headless Chromium (Debian's package, driven by Playwright),
embedded with its one script tag in a page on another origin, talking to the real servers."""

import re

import pytest

from common.learner_ids import learner_id
from tests.integration.conftest import SCREENSHOTS
from tests.support import CERTIFICATIONS_ANSWER, PATH_STEPS, progress_summary, step_title

pytestmark = pytest.mark.integration

REPLY_TIMEOUT_MS = 30_000


@pytest.fixture
def page(browser, site_owner_page):
    context = browser.new_context()  # a first-time visitor: empty storage
    page = context.new_page()
    page.goto(site_owner_page.url)
    yield page
    context.close()


def bot_messages(page):
    return page.locator("#coach-widget .message.bot:not(.typing)")


def ask(page, text: str):
    """Type a message and wait for the first reply to it; returns the reply's locator."""
    count = bot_messages(page).count()
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")
    reply = bot_messages(page).nth(count)
    reply.wait_for(timeout=REPLY_TIMEOUT_MS)
    page.wait_for_timeout(500)  # the rest of a multi-part reply
    return reply


def test_ask_click_reload_and_be_remembered(page, assistant):
    page.get_by_role("button", name="Open the career coach chat").click()
    assert "I coach people heading for Clinical Operations" in bot_messages(page).first.inner_text()

    # A question, answered from the knowledge base: the fact that answers it first, then what
    # else bears on it as a list.
    answer = ask(page, "what certifications should I get?")
    assert answer.locator(".heading").inner_text() == CERTIFICATIONS_ANSWER
    assert answer.locator("li").count() >= 1
    assert "Source:" in answer.locator(".source").inner_text()

    # Buttons are quick replies: "help" offers topics, clicking one asks about it.
    ask(page, "help")
    count = bot_messages(page).count()
    page.locator("#coach-widget .quick-replies").get_by_role("button", name="Networking").click()
    bot_messages(page).nth(count).wait_for(timeout=REPLY_TIMEOUT_MS)
    assert "Networking" in bot_messages(page).nth(count).inner_text()
    assert page.locator("#coach-widget .message.user").last.inner_text() == (
        "Networking and professional organisations"
    )

    ask(page, "I passed the CCRP")
    goal = ask(page, "I want to join ACRP by the end of next year")
    assert goal.inner_text().startswith("Goal set: join ACRP, by "), goal.inner_text()
    before_reload = page.locator("#coach-widget .message").count()

    page.reload()
    page.get_by_role("button", name="Open the career coach chat").click()
    # The transcript is still there, and the conversation (and so the progress) is the same.
    assert page.locator("#coach-widget .message").count() == before_reload
    progress = ask(page, "show my progress")
    assert progress_summary(1) in progress.inner_text()
    done = progress.locator("li.done")
    assert done.count() == 1 and done.first.inner_text() == step_title("certification")
    bar = progress.locator("progress.path-progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("1", str(len(PATH_STEPS)))
    # The goal, beside the checklist, as a dated list.
    goals = bot_messages(page).last
    assert goals.locator("p").first.inner_text() == "Your goals:"
    assert goals.locator("ol li").first.inner_text().startswith("join ACRP, by ")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "widget-after-reload.png")

    session_id = page.evaluate(
        "() => Object.entries(localStorage)"
        ".filter(([key]) => key.startsWith('coach-widget:'))"
        ".map(([, value]) => JSON.parse(value).sessionId)[0]"
    )
    assert re.fullmatch(r"[0-9a-f]{32}", session_id)
    assert assistant.tracker(learner_id("web", session_id))["latest_input_channel"] == "socketio"


def test_the_widget_recovers_when_the_server_restarts(page, assistant):
    page.get_by_role("button", name="Open the career coach chat").click()
    ask(page, "I passed the CCRP")

    assistant.restart_server()  # the page stays open meanwhile

    reply = ask(page, "what should I do next?")
    text = reply.inner_text()
    assert text.startswith("Your next steps"), text
    assert step_title("certification") not in text  # same conversation: it knows the CCRP
    assert page.locator("#coach-widget .status").inner_text() == ""
