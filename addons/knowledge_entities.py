"""Entities from the project's spaCy pipeline, and which entity stays where two overlap.

`scripts/build_spacy_pipeline.py` generates the pipeline from the knowledge base:
- an entity ruler finds every knowledge-base name, alias and plural (certifications, degrees,
  organisations, laws, roles, settings), and never a name that is not there;
- a span ruler finds the phrases learners report path steps with (`phrases` in
  knowledge/path.yml: "leading a small team", "updated my CV"), each with its step's key.

KnowledgeBaseEntityExtractor turns both into Rasa entities. A milestone phrase is valued by its
step's key (what progress records), and it gives way to a knowledge-base name it overlaps
("passed the CCRP exam" is the CCRP, which records the certification milestone as an item).

EntityOverlapResolver runs after every extractor. Where a learner's own phrase (`phrase_types`,
from the RegexEntityExtractor's job-title list and years pattern) contains a knowledge-base name,
the phrase wins: "I work as a lab tech" is a job title, not a preference for testing
laboratories. Where both are the very same span ("assistant manager"), the name wins.

config.yml:
    - name: addons.knowledge_entities.KnowledgeBaseEntityExtractor  # after SpacyNLP
    - name: RegexEntityExtractor
    ...
    - name: addons.knowledge_entities.EntityOverlapResolver
      phrase_types: [job_title, years]
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_END, ENTITY_ATTRIBUTE_START
from rasa.shared.nlu.training_data.message import Message
from spacy.tokens import Doc
from spacy.util import filter_spans

MILESTONE = "milestone"  # the entity type, and the span ruler's spans_key


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False, model_from="SpacyNLP"
)
class KnowledgeBaseEntityExtractor(SpacyEntityExtractor):
    @staticmethod
    def _extract_entities(doc: Doc) -> list[dict[str, Any]]:
        names = SpacyEntityExtractor._extract_entities(doc)
        milestones = [
            span
            for span in filter_spans(doc.spans.get(MILESTONE, []))  # longest first
            if not any(span.start < ent.end and ent.start < span.end for ent in doc.ents)
        ]
        phrases = [
            {
                "entity": MILESTONE,
                "value": span.id_,
                "start": span.start_char,
                "end": span.end_char,
                "confidence": None,
            }
            for span in milestones
        ]
        return sorted(names + phrases, key=lambda entity: entity["start"])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityOverlapResolver(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"phrase_types": []}

    def __init__(self, config: dict[str, Any]) -> None:
        self.phrase_types = list(config["phrase_types"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EntityOverlapResolver:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = drop_names_inside(message.get(ENTITIES, []), self.phrase_types)
            message.set(ENTITIES, entities, add_to_output=True)
        return messages


def drop_names_inside(entities: list[dict], phrase_types: list[str]) -> list[dict]:
    """Where a learner's phrase (an entity of `phrase_types`) contains a knowledge-base name,
    keep the phrase ("lab tech", not the setting "lab"); where both are the very same span
    ("assistant manager"), keep the knowledge-base name."""

    def span(entity: dict) -> tuple[int, int]:
        return entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END]

    name_spans = {span(e) for e in entities if e["entity"] not in phrase_types}
    # Phrases that are not themselves a knowledge-base name's exact span.
    phrase_spans = [
        span(e) for e in entities if e["entity"] in phrase_types and span(e) not in name_spans
    ]

    def kept(entity: dict) -> bool:
        start, end = span(entity)
        if entity["entity"] in phrase_types:
            return (start, end) not in name_spans
        return not any(s <= start and end <= t for s, t in phrase_spans)

    return [e for e in entities if kept(e)]
