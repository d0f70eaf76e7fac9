"""DIET for the entities no list can name (milestones in the learner's words), and the rule
that decides between a learner's own phrase and a knowledge-base name found inside it.

Knowledge-base names (certifications, degrees, organisations, laws, roles, settings) come from
the spaCy entity ruler that `scripts/build_spacy_pipeline.py` generates from the knowledge base:
it finds every name and alias, and never one that is not there. When DIET was also trained on
those types, it added spans of its own around the ruler's ("the CCRP exam" beside "CCRP"), which
cost entity F1 on every KB type (make evaluate). This component trains DIET on `entity_types`
only. Where a phrase of `phrase_types` (the learner's own words, from DIET or from the
RegexEntityExtractor's job-title list and years pattern) contains a knowledge-base name, the
phrase wins: "I work as a lab tech" is a job title, not a preference for testing laboratories.

config.yml (after the other extractors and the featurizers):
    - name: addons.free_text_entities.FreeTextEntityExtractor
      entity_types: [milestone]
      phrase_types: [job_title, years, milestone]
      intent_classification: false
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

ENTITY_TYPES = "entity_types"
PHRASE_TYPES = "phrase_types"


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class FreeTextEntityExtractor(DIETClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DIETClassifier.get_default_config(), ENTITY_TYPES: [], PHRASE_TYPES: None}

    def train(self, training_data: TrainingData) -> Resource:
        return super().train(only_entity_types(training_data, self.component_config[ENTITY_TYPES]))

    def process(self, messages: list[Message]) -> list[Message]:
        messages = super().process(messages)
        phrase_types = self.component_config[PHRASE_TYPES] or self.component_config[ENTITY_TYPES]
        for message in messages:
            entities = drop_names_inside(message.get(ENTITIES, []), phrase_types)
            message.set(ENTITIES, entities, add_to_output=True)
        return messages


def only_entity_types(training_data: TrainingData, kept: list[str]) -> TrainingData:
    """The same examples (features included), annotated only with the `kept` entity types."""
    examples = [
        Message(
            text=message.get(TEXT),
            data={
                **message.data,
                ENTITIES: [e for e in message.get(ENTITIES, []) if e["entity"] in kept],
            },
            output_properties=message.output_properties,
            time=message.time,
            features=message.features,
        )
        for message in training_data.training_examples
    ]
    return TrainingData(
        training_examples=examples,
        entity_synonyms=training_data.entity_synonyms,
        regex_features=training_data.regex_features,
        lookup_tables=training_data.lookup_tables,
    )


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
