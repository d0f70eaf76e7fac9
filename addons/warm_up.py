"""Each Rasa worker answers its first learner about as fast as its hundredth.

TensorFlow builds its graphs on a model's first calls: the first message a freshly started worker
handled took about 4 s here, later ones under 0.1 s. With two workers that is two learners after
every start, and the action-server guard's 3-second promise broken for them. So right after a
worker loads the model it parses one message and predicts one next action on a throwaway
tracker, which is never stored. Rasa loads the model in `rasa.core.run.load_agent_on_start`
(once per worker); `install()` wraps it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import rasa.core.run
from rasa.core.agent import Agent
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

_load_agent = rasa.core.run.load_agent_on_start


async def warm_up(agent: Agent) -> float:
    """Run the model once; returns the seconds it took."""
    started = time.perf_counter()
    parse_data = await agent.parse_message("hello")
    tracker = DialogueStateTracker.from_events(
        "warm-up",
        [ActionExecuted(ACTION_LISTEN_NAME), UserUttered("hello", parse_data["intent"])],
        slots=agent.domain.slots,
    )
    agent.predict_next_with_tracker(tracker)
    return time.perf_counter() - started


async def load_agent_and_warm_up(*args: Any) -> Agent:
    agent = await _load_agent(*args)
    if agent.is_ready():
        logger.info("Model warmed up in %.1f s.", await warm_up(agent))
    return agent


def install() -> None:
    rasa.core.run.load_agent_on_start = load_agent_and_warm_up
