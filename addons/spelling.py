"""Read "certifcations" as "certifications": typo correction against the training vocabulary.

Learners misspell ("educaton requirments", "managment", "progresion"). Character n-grams soften
that, but a misspelt key word still loses most of its weight. This component learns the words of
the training data and, for each token it has never seen, puts the closest known word (one edit
for short words, two for long ones; the most frequent on ties) in the token's lemma. The token's
text and offsets stay as typed, so entities and replies quote the learner exactly; only the
featurizers that read lemmas (CountVectorsFeaturizer, by default) see the correction.

config.yml, after the tokenizer and before the featurizers:
    - name: addons.spelling.VocabularySpellingCorrector
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

VOCABULARY_FILE = "vocabulary.json"


def deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment): a swap of neighbours is one edit."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, start=1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


class Speller:
    """Symmetric-delete lookup (as in SymSpell): candidates share a deletion with the word."""

    def __init__(self, counts: dict[str, int], min_length: int = 4) -> None:
        self.counts = counts
        self.min_length = min_length
        self.by_delete: dict[str, set[str]] = {}
        for word in counts:
            for key in {word} | deletes(word) | {d2 for d in deletes(word) for d2 in deletes(d)}:
                self.by_delete.setdefault(key, set()).add(word)

    def correct(self, word: str) -> str | None:
        """The known word closest to an unknown one, or None if it is known or nothing is near."""
        if word in self.counts or len(word) < self.min_length or not word.isalpha():
            return None
        allowed = 1 if len(word) < 8 else 2
        keys = {word} | deletes(word)
        if allowed == 2:
            keys |= {d2 for d in deletes(word) for d2 in deletes(d)}
        candidates = {c for key in keys for c in self.by_delete.get(key, ())}
        scored = [(edit_distance(word, c), -self.counts[c], c) for c in candidates]
        scored = [s for s in scored if s[0] <= allowed]
        return min(scored)[2] if scored else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class VocabularySpellingCorrector(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_length": 4}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.model_storage = model_storage
        self.resource = resource
        self._use(vocabulary or {"counts": {}, "lemmas": {}})

    def _use(self, vocabulary: dict[str, Any]) -> None:
        self.lemmas: dict[str, str] = vocabulary["lemmas"]  # known word -> its lemma
        self.speller = Speller(vocabulary["counts"], self.config["min_length"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VocabularySpellingCorrector:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> VocabularySpellingCorrector:
        with model_storage.read_from(resource) as path:
            vocabulary = json.loads((path / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        counts: Counter[str] = Counter()
        lemmas: dict[str, Counter[str]] = {}
        for example in training_data.training_examples:
            for token in example.get(TOKENS_NAMES[TEXT]) or []:
                word = token.text.lower()
                counts[word] += 1
                lemmas.setdefault(word, Counter())[token.lemma or word] += 1
        vocabulary = {
            "counts": dict(counts),
            "lemmas": {word: seen.most_common(1)[0][0] for word, seen in lemmas.items()},
        }
        with self.model_storage.write_to(self.resource) as path:
            (path / VOCABULARY_FILE).write_text(json.dumps(vocabulary), encoding="utf-8")
        self._use(vocabulary)
        return self.resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # every training word is in the vocabulary by definition

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            for token in message.get(TOKENS_NAMES[TEXT]) or []:
                corrected = self.speller.correct(token.text.lower())
                if corrected is not None:
                    token.lemma = self.lemmas.get(corrected, corrected)
        return messages
