"""Build the spaCy pipeline Rasa's SpacyNLP loads: blank English, the lookup lemmatizer (tables
from spacy-lookups-data, saved with the pipeline), an entity ruler whose patterns are every
knowledge-base item name, alias and plural, labelled with the item's kind (degree, role, ...),
and a span ruler for the phrases learners report path steps with (`phrases` in path.yml), kept
in doc.spans["milestone"] with the step's key as the span's id.

    python -m scripts.build_spacy_pipeline build/spacy_kb

Nothing is downloaded: `spacy download` cannot reach its host here, and it is not needed.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import spacy

from actions.kb_loader import names_of_items, read_knowledge
from common.settings import load_settings

MILESTONE_SPANS = "milestone"  # doc.spans key that addons/knowledge_entities.py reads
GAP = 3  # `*` in a phrase: up to this many words of anything


def phrase_pattern(phrase: str) -> list[dict]:
    """spaCy token pattern for a path.yml phrase: each word matches words starting with it, in
    any case; "a|b" either; "*" up to GAP words."""
    pattern: list[dict] = []
    for word in phrase.lower().split():
        if word == "*":
            pattern += [{"OP": "?"}] * GAP
        else:
            alternatives = "|".join(re.escape(a) for a in word.split("|"))
            pattern.append({"LOWER": {"REGEX": f"^(?:{alternatives})"}})
    return pattern


def build_pipeline(knowledge_dir: Path) -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    # The same names the knowledge base resolves (kb_item_aliases), plurals included.
    patterns = [
        {"label": item["kind"], "pattern": alias, "id": item["name"]}
        for item, alias in names_of_items(read_knowledge(knowledge_dir).items)
    ]
    milestones = nlp.add_pipe("span_ruler", config={"spans_key": MILESTONE_SPANS})
    nlp.initialize()  # loads the lemma tables; add_patterns below runs the lemmatizer
    ruler.add_patterns(patterns)
    milestones.add_patterns(
        [
            {"label": "milestone", "pattern": phrase_pattern(phrase), "id": step["key"]}
            for step in read_knowledge(knowledge_dir).steps
            for phrase in step.get("phrases") or []
        ]
    )
    return nlp


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the project's spaCy pipeline.")
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    nlp = build_pipeline(load_settings().knowledge_dir)
    if args.output.exists():
        shutil.rmtree(args.output)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.output)
    print(f"spaCy pipeline with {len(nlp.get_pipe('entity_ruler'))} patterns -> {args.output}")


if __name__ == "__main__":
    main()
