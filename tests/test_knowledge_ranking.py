"""The example questions' index (addons/knowledge_ranking.py): entries ranked by their closest
question, and the vectors kept for the next start with the same questions and encoder."""

import numpy as np
import pytest
import yaml

from addons.knowledge_ranking import ExampleQuestionIndex

QUESTIONS = {
    "questions": {
        "certifications.ccrp": ["which certification?", "is the CCRP worth it?"],
        "degrees.bachelor": ["do I need a degree?"],
    }
}


class CountingEncoder:
    """A stand-in for the sentence encoder: one-hot vectors, and how many texts it encoded."""

    def __init__(self) -> None:
        self.encoded = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        return np.eye(len(texts), 4)


@pytest.fixture
def questions_file(tmp_path):
    path = tmp_path / "questions.yml"
    path.write_text(yaml.safe_dump(QUESTIONS))
    return path


def test_an_entry_scores_by_its_closest_question(questions_file):
    index = ExampleQuestionIndex.from_file(questions_file, CountingEncoder())
    ranked = index.rank(np.array([0.0, 1.0, 0.0, 0.0]), limit=2)  # the CCRP question
    assert ranked == [
        {"entry": "certifications.ccrp", "score": 1.0},
        {"entry": "degrees.bachelor", "score": 0.0},
    ]


def test_the_next_start_with_the_same_questions_and_encoder_reads_the_vectors(
    questions_file, tmp_path
):
    cache = tmp_path / "cache"
    first, second, other_encoder = CountingEncoder(), CountingEncoder(), CountingEncoder()
    built = ExampleQuestionIndex.from_file(questions_file, first, cache, "weights A")
    again = ExampleQuestionIndex.from_file(questions_file, second, cache, "weights A")
    assert (first.encoded, second.encoded) == (3, 0)
    assert np.array_equal(built.vectors, again.vectors)

    ExampleQuestionIndex.from_file(questions_file, other_encoder, cache, "weights B")
    assert other_encoder.encoded == 3  # another model: encoded again


def test_an_edited_questions_file_is_encoded_again(questions_file, tmp_path):
    cache = tmp_path / "cache"
    ExampleQuestionIndex.from_file(questions_file, CountingEncoder(), cache, "weights A")
    edited = {"questions": {**QUESTIONS["questions"], "degrees.master": ["an MHA?"]}}
    questions_file.write_text(yaml.safe_dump(edited))
    encoder = CountingEncoder()
    index = ExampleQuestionIndex.from_file(questions_file, encoder, cache, "weights A")
    assert encoder.encoded == 4 and "degrees.master" in index.entries


def test_a_cache_that_cannot_be_written_only_costs_the_encoding(questions_file, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    encoder = CountingEncoder()
    index = ExampleQuestionIndex.from_file(questions_file, encoder, not_a_folder, "weights A")
    assert encoder.encoded == 3 and len(index.entries) == 2
