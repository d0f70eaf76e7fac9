"""Does the assistant answer the question asked, and say plainly what its sources don't cover?

Asks the answer-level held-out questions (tests/heldout/answers.yml: written before the answering
code was tuned, never trained on) through the REST channel of the real running assistant:

- an answerable question is answered when the text of one of the knowledge-base entries it lists
  appears within the first ANSWER_WITHIN characters of the reply (for a question that asks two
  things, each part's entry within that many characters more than the part before);
- an unanswerable one is answered when the reply says that the two guides don't cover it;
- an answerable one told that the guides don't cover it counts as wrongly refused.

    .venv/bin/python -m scripts.evaluate_answers          # starts both servers itself
    .venv/bin/python -m scripts.evaluate_answers --verbose  # every miss with the reply
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from actions.kb_loader import read_knowledge
from common.settings import PROJECT_ROOT
from scripts.local_servers import DEFAULT_MODEL, RunningAssistant, running_assistant
from scripts.measurements_page import publish

HELDOUT = PROJECT_ROOT / "tests" / "heldout" / "answers.yml"
KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
ANSWER_WITHIN = 400  # characters: the answer must come first, not after an overview
NOT_COVERED = "The two guides I draw on don't"  # how every not-covered response starts
# The targets of issue 18. Answered is not reached yet (90.6% on 2026-11-30): `make test` holds
# the level reached instead (FLOORS), so that a change that loses answers fails there.
BARS = {"answered": 0.95, "not_covered_said": 0.95, "wrongly_refused": 0.02}
FLOORS = {"answered": 0.88, "not_covered_said": 0.95, "wrongly_refused": 0.02}


def entry_texts(directory: Path = KNOWLEDGE_DIR) -> dict[str, str]:
    """The text each answers.yml entry stands for: facts by id, summary:<topic>,
    item:<name> (its description) and step:<key> (its text)."""
    content = read_knowledge(directory)
    texts = {}
    for topic in content.topics:
        texts[f"summary:{topic['key']}"] = topic["summary"]
        for fact in (topic.get("facts") or []) + (topic.get("more") or []):
            texts[fact["id"]] = fact["text"]
    texts.update({f"item:{item['name']}": item["description"] for item in content.items})
    texts.update({f"step:{step['key']}": step["text"] for step in content.steps})
    return texts


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip().lower()


def found_within(reply: str, entries: list[str], texts: dict[str, str], limit: int) -> int | None:
    """Where in the reply the earliest of `entries` starts, if within `limit` characters."""
    reply = normalised(reply)
    places = [reply.find(normalised(texts[entry])) for entry in entries]
    places = [place for place in places if 0 <= place < limit]
    return min(places) if places else None


def answered(reply: str, question: dict, texts: dict[str, str]) -> bool:
    parts = question.get("parts") or [question["answers"]]
    for number, entries in enumerate(parts, start=1):
        if found_within(reply, entries, texts, ANSWER_WITHIN * number) is None:
            return False
    return True


@dataclass
class AnswerReport:
    answerable: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    refused: list[bool] = field(default_factory=list)  # per answerable question
    unanswerable: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    misses: list[str] = field(default_factory=list)

    @staticmethod
    def _share(results: list[bool]) -> float:
        return sum(results) / len(results) if results else 0.0

    @property
    def figures(self) -> dict[str, float]:
        answerable = [ok for oks in self.answerable.values() for ok in oks]
        unanswerable = [ok for oks in self.unanswerable.values() for ok in oks]
        return {
            "answered": self._share(answerable),
            "not_covered_said": self._share(unanswerable),
            "wrongly_refused": self._share(self.refused),
        }

    def failures(self, bars: dict[str, float] = BARS) -> list[str]:
        figures = self.figures
        failed = []
        if figures["answered"] < bars["answered"]:
            failed.append(f"answered {figures['answered']:.1%} < {bars['answered']:.0%}")
        if figures["not_covered_said"] < bars["not_covered_said"]:
            failed.append(
                f"not covered said {figures['not_covered_said']:.1%} "
                f"< {bars['not_covered_said']:.0%}"
            )
        if figures["wrongly_refused"] > bars["wrongly_refused"]:
            failed.append(
                f"wrongly refused {figures['wrongly_refused']:.1%} > {bars['wrongly_refused']:.0%}"
            )
        return failed

    def table(self) -> str:
        lines = ["| questions | category | right | share |", "|---|---|---|---|"]

        def row(title: str, name: str, oks: list[bool]) -> str:
            return f"| {title} | {name} | {sum(oks)}/{len(oks)} | {self._share(oks):.1%} |"

        for name, oks in sorted(self.answerable.items()):
            lines.append(row("answerable", name, oks))
        for name, oks in sorted(self.unanswerable.items()):
            lines.append(row("not covered", name, oks))
        every_answerable = [ok for oks in self.answerable.values() for ok in oks]
        every_unanswerable = [ok for oks in self.unanswerable.values() for ok in oks]
        lines += [
            row("answerable", f"all: the answering fact in the first {ANSWER_WITHIN} characters",
                every_answerable),
            row("answerable", "all: wrongly told the guides don't cover it", self.refused),
            row("not covered", "all: said plainly", every_unanswerable),
        ]  # fmt: skip
        return "\n".join(lines)


def load_heldout(path: Path = HELDOUT) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def evaluate(assistant: RunningAssistant, heldout: dict) -> AnswerReport:
    texts = entry_texts()
    report = AnswerReport()
    run = uuid.uuid4().hex[:8]

    def ask(number: int, question: dict) -> str:
        sender = f"answers-{run}-{number}"  # a fresh conversation per question
        for said_before in question.get("before") or []:
            assistant.say(sender, said_before)
        messages = assistant.say(sender, question["question"])
        return "\n".join(message.get("text") or "" for message in messages)

    for number, question in enumerate(heldout["answerable"]):
        reply = ask(number, question)
        ok = answered(reply, question, texts)
        refused = NOT_COVERED.lower() in normalised(reply)
        report.answerable[question["category"]].append(ok)
        report.refused.append(refused)
        if not ok or refused:
            why = "told not covered" if refused else "answering fact missing or late"
            report.misses.append(
                f"[{question['category']}] {question['question']!r}: {why}\n{reply}"
            )
    for number, question in enumerate(heldout["unanswerable"], start=len(heldout["answerable"])):
        reply = ask(number, question)
        ok = NOT_COVERED.lower() in normalised(reply)[:ANSWER_WITHIN]
        report.unanswerable[question["kind"]].append(ok)
        if not ok:
            report.misses.append(
                f"[not covered: {question['kind']}] {question['question']!r}\n{reply}"
            )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--verbose", action="store_true", help="print every miss with its reply")
    parser.add_argument(
        "--questions", type=Path, default=HELDOUT, help="e.g. evaluation/answers_dev.yml"
    )
    args = parser.parse_args()
    with running_assistant(args.model) as assistant:
        report = evaluate(assistant, load_heldout(args.questions))
    print(report.table())
    if args.questions == HELDOUT:
        command = " ".join(["python -m scripts.evaluate_answers", *sys.argv[1:]])
        publish("answers", command, report.table())
    for miss in report.misses:
        print("- miss:", miss if args.verbose else miss.splitlines()[0])
    failures = report.failures()
    print("Bars missed: " + ("; ".join(failures) if failures else "none"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
