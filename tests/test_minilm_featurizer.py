"""The MiniLM sentence vector: paraphrases land close together, and `scale` sets its weight."""

import numpy as np
import pytest
from rasa.shared.nlu.training_data.message import Message

from addons.minilm_featurizer import MiniLMSentenceFeaturizer, shared_encoder


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
