"""DIET for the entities no list can name: job titles, years, milestones in the learner's words.

Knowledge-base names (certifications, degrees, organisations, laws, roles, settings) come from
the spaCy entity ruler that `scripts/build_spacy_pipeline.py` generates from the knowledge base:
it finds every name and alias, and never one that is not there. When DIET was also trained on
those types, it added spans of its own around the ruler's ("the CCRP exam" beside "CCRP"), which
cost entity F1 on every KB type (make evaluate). This component trains DIET on the free-text
types only, and where one of its spans contains a ruler match the learner's own phrase wins:
"I work as a lab tech" is a job title, not a preference for testing laboratories.

config.yml (after SpacyEntityExtractor and the featurizers):
    - name: addons.free_text_entities.FreeTextEntityExtractor
      entity_types: [job_title, years, milestone]
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
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

ENTITY_TYPES = "entity_types"


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
        return {**DIETClassifier.get_default_config(), ENTITY_TYPES: []}

    def train(self, training_data: TrainingData) -> Resource:
        return super().train(only_entity_types(training_data, self.component_config[ENTITY_TYPES]))

    def process(self, messages: list[Message]) -> list[Message]:
        messages = super().process(messages)
        for message in messages:
            entities = message.get(ENTITIES, [])
            message.set(ENTITIES, drop_names_inside(entities, self.name), add_to_output=True)
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


def drop_names_inside(entities: list[dict], extractor: str) -> list[dict]:
    """Where `extractor`'s span contains another extractor's name, keep the longer phrase ("lab
    tech", not the setting "lab"); where both found the very same span ("assistant manager"),
    keep the knowledge-base name."""

    def span(entity: dict) -> tuple[int, int]:
        return entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END]

    own = [e for e in entities if e.get(EXTRACTOR) == extractor]
    others = [e for e in entities if e.get(EXTRACTOR) != extractor]
    kept_own = [e for e in own if span(e) not in {span(o) for o in others}]
    kept_others = [
        e
        for e in others
        if not any(
            o[ENTITY_ATTRIBUTE_START] <= e[ENTITY_ATTRIBUTE_START]
            and e[ENTITY_ATTRIBUTE_END] <= o[ENTITY_ATTRIBUTE_END]
            for o in kept_own
        )
    ]
    return [e for e in entities if any(e is k for k in kept_own + kept_others)]
