"""While every action answers, the guard's wrappers of MessageProcessor change nothing: Rasa's
own handle_message and _predict_next_with_tracker and the guarded ones, side by side on the
trained model (loaded once, as `rasa run` loads it) with a stand-in action server."""

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

import addons  # noqa: F401  (installs the guard, as the Rasa server's first addon import does)
from addons.action_server_guard import one_message
from scripts.local_servers import DEFAULT_MODEL
from tests.rasa_support import action_server_stand_in, rasa_without_addons

pytestmark = pytest.mark.model  # skipped without a trained model (tests/conftest.py)

# A new session, two questions, a report, and something the model does not understand.
CONVERSATION = [
    "hi",
    "which certifications should I get?",
    "I passed the CCRP",
    "show my progress",
    "purple elephants dance",
]


def answer(call: dict) -> dict:
    """The stand-in action server: a session start as the real one's, one message per other
    action naming it."""
    action = call["next_action"]
    if action == "action_session_start":
        listen = {"event": "action", "name": "action_listen"}
        return {"events": [{"event": "session_started"}, listen]}
    return {"events": [], "responses": [{"text": f"({action} ran)"}]}


@pytest.fixture(scope="module")
def processor() -> MessageProcessor:
    return Agent.load(DEFAULT_MODEL, tracker_store=InMemoryTrackerStore(Domain.empty())).processor


def without_time_and_ids(value):
    """An event or a bot message as Rasa serialises it, less what differs between two runs of
    the same conversation: when it happened, and message and recipient ids."""
    if isinstance(value, dict):
        return {
            key: without_time_and_ids(item)
            for key, item in value.items()
            if key not in ("timestamp", "message_id", "recipient_id")
        }
    if isinstance(value, list):
        return [without_time_and_ids(item) for item in value]
    return value


async def converse(processor: MessageProcessor, sender: str) -> tuple[list, list]:
    """CONVERSATION through processor.handle_message; returns the bot's replies to each message
    and the stored conversation."""
    replies = []
    for text in CONVERSATION:
        channel = CollectingOutputChannel()
        await processor.handle_message(UserMessage(text, channel, sender))
        replies.append(without_time_and_ids(channel.messages))
    tracker = await processor.tracker_store.retrieve(sender)
    return replies, without_time_and_ids([event.as_dict() for event in tracker.events])


async def test_a_conversation_goes_exactly_as_in_rasa(processor):
    async with action_server_stand_in(answer) as (url, calls):
        processor.action_endpoint = EndpointConfig(url)
        with rasa_without_addons():
            by_rasa = await converse(processor, "learner-rasa")
        guarded = await converse(processor, "learner-guarded")
    replies, _ = by_rasa
    assert all(replies), "every message got a reply"
    assert len(calls) > len(CONVERSATION)  # the session start and an action per message
    assert guarded == by_rasa


async def test_every_prediction_in_a_conversation_is_rasas(processor):
    async with action_server_stand_in(answer) as (url, _):
        processor.action_endpoint = EndpointConfig(url)
        await converse(processor, "learner")
    events = list((await processor.tracker_store.retrieve("learner")).events)
    # The conversation as it stood each time Rasa decided on an action.
    before_each_action = [
        DialogueStateTracker.from_events("learner", events[:end], slots=processor.domain.slots)
        for end, event in enumerate(events)
        if isinstance(event, ActionExecuted) and end > 0
    ]
    assert len(before_each_action) > 2 * len(CONVERSATION)
    for tracker in before_each_action:
        with rasa_without_addons():
            by_rasa = processor._predict_next_with_tracker(tracker.copy())
        assert processor._predict_next_with_tracker(tracker.copy()) == by_rasa
        with one_message():  # inside a message where no action has failed
            assert processor._predict_next_with_tracker(tracker.copy()) == by_rasa
