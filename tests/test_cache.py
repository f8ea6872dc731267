"""What the bot keeps on disk between starts (the checked content, the matcher's index, the
semantic vectors decompressed) never serves an old or broken result."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.answers.faq import Matcher
from bot.content import load as content_module
from bot.content.model import Content
from bot.core.conversation import Conversation
from bot.core.messages import Input, User
from bot.core.text import Normalizer
from bot.storage import cache
from bot.storage.db import Store
from tests.support.content_edits import edit


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PTCE_CACHE_DIR", str(folder))
    return folder


def kept_files(folder: Path, kind: str) -> list[Path]:
    return sorted(folder.glob(f"{kind}-*.pickle"))


def first_answer(content: Content) -> str:
    return content.entries["def-ptce"].answer


def replies(content: Content, folder: Path) -> list[str]:
    """What a user reads for a few messages: questions, a place, the questionnaire."""
    conversation = Conversation(content, Store(folder / f"{len(list(folder.iterdir()))}.db"))
    user = User("test", "1")
    shown = []
    for text in ("c koi un ptce ?", "Y a-t-il des pôles près de Valence ?",
                 "Qui contacter en Bretagne ?", "/diagnostic"):
        inp = Input(user, command=text[1:]) if text.startswith("/") else Input(user, text=text)
        shown += [reply.plain() for reply in conversation.handle(inp)]
    return shown


def test_content_read_back_answers_as_the_content_checked(content_copy, cache_folder,
                                                          tmp_path):
    first = content_module.load(content_copy)
    assert len(kept_files(cache_folder, "content")) == 1
    again = content_module.load(content_copy)  # read back from the file
    assert again is not first and again.entries == first.entries
    assert replies(again, tmp_path) == replies(first, tmp_path)


def test_an_edited_answer_is_served_at_the_next_load_not_the_kept_one(content_copy,
                                                                     cache_folder):
    """An editor changes an answer and reloads the bot (SIGHUP): the new words are served."""
    before = first_answer(content_module.load(content_copy))
    edit(content_copy / "knowledge" / "faq" / "definition.yaml", before[:40],
         "Réponse corrigée par l'éditrice. " + before[:40])
    after = first_answer(content_module.load(content_copy))
    assert after.startswith("Réponse corrigée par l'éditrice.")
    assert len(kept_files(cache_folder, "content")) == 2


def test_broken_content_is_refused_every_time_never_kept(content_copy, cache_folder):
    edit(content_copy / "knowledge" / "faq" / "definition.yaml", "source:", "sourc:")
    for _ in range(2):
        with pytest.raises(content_module.ContentError):
            content_module.load(content_copy)
    assert kept_files(cache_folder, "content") == []


def test_a_damaged_kept_file_is_made_again(content_copy, cache_folder):
    expected = content_module.load(content_copy).entries
    [kept] = kept_files(cache_folder, "content")
    damaged = kept.read_bytes()[:1000]  # a disk full while writing, say
    kept.write_bytes(damaged)
    assert content_module.load(content_copy).entries == expected
    assert kept.read_bytes() != damaged  # written whole again
    assert content_module.load(content_copy).entries == expected


def test_a_cache_folder_that_cannot_exist_only_costs_time(content_copy, tmp_path,
                                                          monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PTCE_CACHE_DIR", str(blocker / "cache"))
    assert first_answer(content_module.load(content_copy))


def test_only_the_latest_contents_are_kept(content_copy, cache_folder):
    faq = content_copy / "knowledge" / "faq" / "definition.yaml"
    for n in range(cache.KEPT + 3):
        faq.write_text(faq.read_text(encoding="utf-8") + f"\n# édition {n}\n", encoding="utf-8")
        content_module.load(content_copy)
    assert len(kept_files(cache_folder, "content")) == cache.KEPT


def test_the_matcher_read_back_ranks_as_a_fresh_one(content, cache_folder):
    entries = list(content.entries.values())
    fresh = Matcher(entries, Normalizer(content.sms, content.synonyms))
    Matcher.kept(entries, content.sms, content.synonyms)
    kept = Matcher.kept(entries, content.sms, content.synonyms)  # read back
    assert len(kept_files(cache_folder, "matcher")) == 1
    for question in ("c koi un ptce", "Comment financer notre pôle ?",
                     "une scop peut elle etre membre", "qui contacter en bretagne"):
        assert kept.match(question) == fresh.match(question)


def test_the_matcher_of_edited_entries_is_indexed_again(content, cache_folder):
    entries = list(content.entries.values())
    Matcher.kept(entries, content.sms, content.synonyms)
    renamed = [*entries[1:], replace(entries[0], questions=("xylophone municipal ?",))]
    matcher = Matcher.kept(renamed, content.sms, content.synonyms)
    assert len(kept_files(cache_folder, "matcher")) == 2
    assert matcher.match("xylophone municipal").entry_id == entries[0].id
