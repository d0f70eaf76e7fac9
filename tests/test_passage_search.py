"""The lexical passage search behind the fallback: every knowledge-base sentence is findable,
names its source, and words that are not in the knowledge base find nothing."""

import pytest

from actions.passage_search import LexicalPassageSearch, Passage, passages_of, stem, words


def test_every_passage_carries_its_topic_and_source(kb):
    passages = passages_of(kb)
    assert len(passages) > 50
    topics = {ref.key for ref in kb.topics()}
    assert all(p.topic in topics and p.source and p.text for p in passages)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("which law protects patient health information privacy?", "compliance"),
        ("is the CHOM credential about healthcare operations?", "certifications"),
        ("should I join the Association of Clinical Research Professionals?", "networking"),
    ],
)
def test_a_question_finds_a_passage_of_its_topic(kb, question, topic):
    [hit] = LexicalPassageSearch(passages_of(kb)).search(question, limit=1)
    assert hit.passage.topic == topic


def test_stop_words_and_unknown_words_find_nothing():
    search = LexicalPassageSearch([Passage("Earn a degree in nursing", "degrees", "Degrees", "s")])
    assert search.search("what do I need?") == []
    assert search.search("zzz blorp") == []
    assert search.search("nursing degrees")[0].passage.topic == "degrees"


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("certifications", "certific"),
        ("certification", "certific"),
        ("degrees", "degree"),
        ("degree", "degree"),
        ("studies", "study"),
        ("managers", "manag"),
        ("managing", "manag"),
        ("process", "process"),
        ("led", "led"),
    ],
)
def test_stemming_joins_plural_and_inflected_forms(word, stemmed):
    assert stem(word) == stemmed


def test_words_drop_stop_words_and_punctuation():
    assert words("What do I need for the CCRP?") == ["ccrp"]
