"""Which knowledge-base entries a message asks about, by meaning: its sentence vector against the
example questions of every entry (knowledge/questions.yml), the entry scored by its closest one.

The MiniLM featurizer (addons/minilm_featurizer.py) computes each message's vector anyway; with
`rank_knowledge: true` it also ranks the entries with it and adds the best ones to the parse data
as `knowledge_ranking`, which the action server reads with the learner's message and combines
with its lexical search (actions/answers.py). The questions are encoded when the model loads
(kept in a cache file for the next start with the same questions and encoder); a change to
questions.yml reaches the Rasa server on its next start.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml


class ExampleQuestionIndex:
    """Unit vectors of every example question, grouped by entry."""

    def __init__(self, entries: list[str], starts: np.ndarray, vectors: np.ndarray) -> None:
        self.entries = entries
        self.starts = starts  # where each entry's questions start in `vectors`
        self.vectors = vectors

    @classmethod
    def from_file(
        cls,
        path: Path,
        encode: Callable[[list[str]], np.ndarray],
        cache_dir: Path | None = None,
        encoder_id: str = "",
    ) -> ExampleQuestionIndex:
        questions: dict[str, list[str]] = yaml.safe_load(path.read_text(encoding="utf-8"))[
            "questions"
        ]
        entries = [entry for entry, asked in questions.items() if asked]
        texts = [question for entry in entries for question in questions[entry]]
        sizes = [len(questions[entry]) for entry in entries]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
        return cls(entries, starts, cached_vectors(texts, encode, cache_dir, encoder_id))

    def rank(self, vector: np.ndarray, limit: int) -> list[dict[str, float | str]]:
        """The `limit` entries whose example questions come closest to `vector` (unit length),
        with the cosine of their closest question."""
        similarity = np.maximum.reduceat(self.vectors @ vector, self.starts)
        best = np.argsort(-similarity)[:limit]
        return [{"entry": self.entries[i], "score": round(float(similarity[i]), 4)} for i in best]


def cached_vectors(
    texts: list[str],
    encode: Callable[[list[str]], np.ndarray],
    cache_dir: Path | None,
    encoder_id: str,
) -> np.ndarray:
    """The vectors of `texts`, read from the file an earlier start wrote for the same texts and
    encoder (`encoder_id`) when there is one: encoding 1,300 questions takes 9 s on 2 cores, on
    every start of every Rasa process otherwise. Where the cache cannot be written (a read-only
    image), each start encodes them."""
    if cache_dir is None:
        return encode(texts)
    key = hashlib.sha256("\n".join([encoder_id, *texts]).encode("utf-8")).hexdigest()[:32]
    cached = cache_dir / f"questions-{key}.npy"
    try:
        vectors = np.load(cached)
        if vectors.shape[0] == len(texts):
            return vectors
    except (OSError, ValueError):
        pass
    vectors = encode(texts)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cache_dir / f"questions-{key}.{os.getpid()}.partial.npy"
        np.save(partial, vectors)
        partial.replace(cached)  # whole or not at all, whichever process writes it
    except OSError:
        pass
    return vectors
