"""What answering the exact question costs per message, beside what the assistant did before
(the topic's overview), measured in one run on this machine.

- Rasa server side: each question of the answer-level held-out set parsed by the trained model
  with the example-question ranking (addons/knowledge_ranking.py), and with it switched off,
  alternately, so that both see the same machine load.
- Action server side: the answer to the question asked (ranking by meaning and words, gaps,
  comparisons, two questions in one) beside the predicted topic's overview, both built from the
  knowledge base for the same parsed message.

    python -m scripts.bench_answering            # about 2 minutes; prints the figures
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from rasa.core.agent import Agent
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import answer_question, overview
from actions.knowledge_base import default_knowledge_base
from actions.topic_answers import topic_of_intent
from addons.minilm_featurizer import MiniLMSentenceFeaturizer
from scripts.evaluate_answers import load_heldout
from scripts.local_servers import DEFAULT_MODEL
from scripts.measurements_page import publish


def featurizer_of(agent: Agent) -> MiniLMSentenceFeaturizer:
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    [node] = [n for n in nodes if isinstance(n._component, MiniLMSentenceFeaturizer)]
    return node._component


def tracker_for(parsed: dict) -> Tracker:
    return Tracker(
        sender_id="bench-answering",
        slots={},
        latest_message=parsed,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def p50_ms(seconds: list[float]) -> float:
    return 1000 * statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    heldout = load_heldout()
    questions = [q["question"] for part in heldout.values() for q in part]
    agent = Agent.load(str(args.model))
    featurizer = featurizer_of(agent)
    index = featurizer.knowledge
    loop = asyncio.new_event_loop()

    def parse(text: str, ranking: bool) -> tuple[float, dict]:
        featurizer.knowledge = index if ranking else None
        started = time.perf_counter()
        parsed = loop.run_until_complete(agent.parse_message(text))
        return time.perf_counter() - started, parsed

    nlu = {True: [], False: []}
    parsed_messages = []
    for _ in range(args.passes):
        for text in questions:
            for ranking in (True, False):
                seconds, parsed = parse(text, ranking)
                nlu[ranking].append(seconds)
                if ranking and len(parsed_messages) < len(questions):
                    parsed_messages.append(parsed)
    featurizer.knowledge = index

    kb = default_knowledge_base()
    action = {"answer": [], "overview": []}
    for _ in range(args.passes):
        for parsed in parsed_messages:
            topic = topic_of_intent(parsed["intent"]["name"])
            started = time.perf_counter()
            answer_question(CollectingDispatcher(), tracker_for(parsed), topic)
            action["answer"].append(time.perf_counter() - started)
            started = time.perf_counter()
            overview(CollectingDispatcher(), kb, topic)
            action["overview"].append(time.perf_counter() - started)

    lines = [
        f"{len(questions)} held-out questions x {args.passes} passes, p50 per message (ms):",
        "",
        "| where | the topic's overview | the answer to the question | added |",
        "|---|---|---|---|",
    ]
    for where, before, after in (
        ("Rasa server: parse", p50_ms(nlu[False]), p50_ms(nlu[True])),
        ("action server: reply", p50_ms(action["overview"]), p50_ms(action["answer"])),
    ):
        lines.append(f"| {where} | {before:.2f} | {after:.2f} | {after - before:+.2f} |")
    figures = "\n".join(lines)
    print(figures)
    publish("answer-cost", "python -m scripts.bench_answering", figures)


if __name__ == "__main__":
    main()
