"""Build the spaCy pipeline Rasa's SpacyNLP loads: blank English, the lookup lemmatizer (tables
from spacy-lookups-data, saved with the pipeline) and an entity ruler whose patterns are every
knowledge-base item name, alias and plural, labelled with the item's kind (degree, role, ...).

    python -m scripts.build_spacy_pipeline build/spacy_kb

Nothing is downloaded: `spacy download` cannot reach its host here, and it is not needed.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import spacy

from actions.kb_loader import names_of_items, read_knowledge
from actions.settings import load_settings


def build_pipeline(knowledge_dir: Path) -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    # The same names the knowledge base resolves (kb_item_aliases), plurals included.
    patterns = [
        {"label": item["kind"], "pattern": alias, "id": item["name"]}
        for item, alias in names_of_items(read_knowledge(knowledge_dir).items)
    ]
    nlp.initialize()  # loads the lemma tables; add_patterns below runs the lemmatizer
    ruler.add_patterns(patterns)
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
