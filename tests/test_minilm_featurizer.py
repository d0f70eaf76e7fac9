"""The MiniLM sentence vector: paraphrases land close together, and `scale` sets its weight."""

import numpy as np
import pytest
from rasa.shared.nlu.training_data.message import Message

from addons.minilm_featurizer import (
    MiniLMSentenceFeaturizer,
    OnnxSentenceEncoder,
    shared_encoder,
)


@pytest.fixture(scope="module")
def encoder():
    return shared_encoder(64)


def test_a_paraphrase_is_closer_than_another_topic(encoder):
    asked, paraphrase, other = encoder.encode(
        [
            "which certifications should I get?",
            "what credentials are worth earning?",
            "how much travel does the job involve?",
        ]
    )
    assert asked @ paraphrase > asked @ other + 0.1


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_each_message_gets_one_sentence_vector_of_the_configured_length(scale):
    config = {**MiniLMSentenceFeaturizer.get_default_config(), "scale": scale}
    featurizer = MiniLMSentenceFeaturizer(config, "minilm")
    message = Message(data={"text": "how do I network with other program managers?"})
    featurizer.process([message])
    sequence, sentence = message.get_dense_features("text")
    assert sequence is None
    assert sentence.features.shape == (1, 384)
    assert np.linalg.norm(sentence.features) == pytest.approx(scale, rel=1e-3)


# Fine-tuning: three intents the general-purpose model mixes up ("should I lead a team first?"
# reads as much like experience as leadership), a few examples each.
TUNING_DATA = {
    "ask_experience": [
        "how much experience do I need",
        "what jobs should I do before becoming a manager",
        "how many years in a clinical role first",
        "is working as a research coordinator good experience",
    ],
    "ask_leadership": [
        "how do I become a better leader",
        "how do managers motivate their team",
        "how do I handle conflict in my team",
        "what leadership style works best",
    ],
    "ask_job_search": [
        "where can I find job openings",
        "how do I write a good CV",
        "tips for the interview",
        "which job boards should I use",
    ],
}


def train_then_load(
    config: dict, folder, examples: list[Message]
) -> tuple[MiniLMSentenceFeaturizer, MiniLMSentenceFeaturizer]:
    """Train the featurizer through Rasa's graph API, then load it back from model storage as
    `rasa run` would: (the trained, the loaded)."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    storage, resource = LocalModelStorage(folder), Resource("minilm")
    context = ExecutionContext(GraphSchema({}), node_name="minilm")
    trained = MiniLMSentenceFeaturizer.create(config, storage, resource, context)
    tuned_in_tensorflow = trained.encoder
    trained.train(TrainingData(training_examples=examples))
    loaded = MiniLMSentenceFeaturizer.load(config, storage, resource, context)
    return tuned_in_tensorflow, loaded


@pytest.fixture(scope="module")
def tuned_and_served(tmp_path_factory):
    """Fine-tuned for 20 epochs on TUNING_DATA: the TensorFlow encoder it tuned, and the
    featurizer loaded from the model."""
    config = {
        **MiniLMSentenceFeaturizer.get_default_config(),
        "fine_tune_epochs": 20,
        "fine_tune_learning_rate": 1e-4,
    }
    examples = [
        Message(data={"text": text, "intent": intent})
        for intent, texts in TUNING_DATA.items()
        for text in texts
    ]
    return train_then_load(config, tmp_path_factory.mktemp("model"), examples)


@pytest.fixture(scope="module")
def tuned(tuned_and_served):
    return tuned_and_served[1]


def _separation(encoder) -> float:
    """Mean cosine within an intent minus mean cosine across intents."""
    texts = [text for texts in TUNING_DATA.values() for text in texts]
    intents = np.array([intent for intent, texts in TUNING_DATA.items() for _ in texts])
    vectors = encoder.encode(texts)
    similarity = vectors @ vectors.T
    same = intents[:, None] == intents[None, :]
    np.fill_diagonal(same, False)
    different = intents[:, None] != intents[None, :]
    return float(similarity[same].mean() - similarity[different].mean())


def test_fine_tuning_draws_each_intents_examples_together(encoder, tuned):
    assert _separation(tuned.encoder) > _separation(encoder) + 0.1


def test_the_tuned_weights_are_loaded_from_the_model_and_the_package_stays_as_shipped(
    encoder, tuned
):
    assert tuned.encoder is not encoder
    text = ["how do I write a good CV"]
    assert not np.allclose(tuned.encoder.encode(text), encoder.encode(text))
    assert np.allclose(shared_encoder(64).encode(text), encoder.encode(text))


def test_the_model_serves_the_tuned_encoder_through_onnx_runtime_with_the_same_vectors(
    tuned_and_served,
):
    tuned_in_tensorflow, served = tuned_and_served
    assert isinstance(served.encoder, OnnxSentenceEncoder)
    texts = [text for texts in TUNING_DATA.values() for text in texts] + [
        "a much longer question than any of the examples, about what a clinical operations "
        "manager does in the first month and how to prepare for it",
        "",
        "certifcations?? 🙂",
    ]
    one_at_a_time = np.concatenate([served.encoder.encode([text]) for text in texts])
    assert np.allclose(one_at_a_time, tuned_in_tensorflow.encode(texts), atol=1e-5)


def test_without_fine_tuning_nothing_is_stored_and_the_shared_encoder_is_used(tmp_path, encoder):
    config = MiniLMSentenceFeaturizer.get_default_config()
    examples = [Message(data={"text": "hi", "intent": "greet"})]
    assert train_then_load(config, tmp_path, examples)[1].encoder is encoder


def test_loading_the_model_builds_the_encoders_graph_before_any_message(tmp_path):
    """Rasa loads every component before it handles a message, whichever command loads the
    model, so the first learner after a start does not wait while TensorFlow builds it."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    # An encoder of its own (the shared one is cached per max_length), so no other test used it.
    config = {**MiniLMSentenceFeaturizer.get_default_config(), "max_length": 48}
    context = ExecutionContext(GraphSchema({}), node_name="minilm")
    featurizer = MiniLMSentenceFeaturizer.load(
        config, LocalModelStorage(tmp_path), Resource("minilm"), context
    )
    assert featurizer.encoder._encode.experimental_get_tracing_count() == 1
