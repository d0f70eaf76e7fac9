"""The lexical passage search behind the fallback: every knowledge-base sentence is findable and
names its source, a word finds the passages its other forms find, and words that are not in the
knowledge base find nothing."""

import gc
import re
import weakref

import pytest

from actions import passage_search
from actions.passage_search import LexicalPassageSearch, Passage, lemmas, passages_of, words
from scripts.evaluate_heldout import load_questions


@pytest.fixture
def search(kb) -> LexicalPassageSearch:
    return LexicalPassageSearch(passages_of(kb))


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
        ("where can I practise leading projects?", "leadership"),
    ],
)
def test_a_question_names_a_passage_of_its_topic_first(search, question, topic):
    [hit] = search.search(question, limit=1)
    assert hit.passage.topic == topic


def test_certifications_finds_the_certification_passages(search):
    hits = search.search("certifications")
    assert hits and all(hit.passage.topic == "certifications" for hit in hits)


@pytest.mark.parametrize(
    ("inflected", "base"),
    [
        ("certifications", "certification"),
        ("studies", "study"),
        ("managing", "manage"),
        ("led teams", "lead team"),
        ("organisations", "organisation"),
    ],
)
def test_a_word_finds_what_its_base_form_finds(search, inflected, base):
    found = search.search(inflected)
    assert found and found == search.search(base)


def test_stop_words_and_unknown_words_find_nothing():
    search = LexicalPassageSearch([Passage("Earn a degree in nursing", "degrees", "Degrees", "s")])
    assert search.search("what do I need?") == []
    assert search.search("zzz blorp") == []
    assert search.search("nursing degrees")[0].passage.topic == "degrees"


def test_words_drop_stop_words_and_punctuation():
    assert words("What do I need for the CCRP?") == ["ccrp"]


def test_the_lemmas_are_those_of_spacys_lookup_lemmatizer(kb):
    """Read straight from spacy-lookups-data, they must be what spaCy itself would give, for
    every word of the knowledge base and of the held-out questions."""
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    texts = [p.text for p in passages_of(kb)] + [q["text"] for q in load_questions()]
    vocabulary = sorted({w for text in texts for w in re.findall(r"[a-z0-9]+", text.lower())})
    spacys = lemmatizer(spacy.tokens.Doc(nlp.vocab, words=vocabulary))  # one token a word
    assert [lemmas().get(w, w) for w in vocabulary] == [token.lemma_ for token in spacys]


def test_an_index_of_an_earlier_build_is_let_go(kb_url, monkeypatch):
    """The build's version is a stat of the database and its log, which also changes when SQLite
    folds the log in: each such change may build a new index, but none is kept beside it."""
    versions = iter(range(1_000))
    monkeypatch.setattr(passage_search, "build_version", lambda url: next(versions))
    earlier = [weakref.ref(passage_search.default_passage_search()) for _ in range(5)]
    current = passage_search.default_passage_search()
    gc.collect()
    assert [index() for index in earlier] == [None] * 5
    assert current.passages  # the one in use answers
