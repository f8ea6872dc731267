"""Shared fixtures: the shipped content, a conversation backed by a real SQLite file, and
the fake Telegram server."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.content import load as content_module
from bot.content.model import Content
from bot.core.conversation import Conversation
from bot.core.messages import Input, Reply, User
from bot.storage.db import Store
from tests.support.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def semantic_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the bot keeps between starts (content, index, vectors; bot.storage.cache) goes
    to a temporary folder, not the home's cache (subprocesses inherit it)."""
    folder = tmp_path_factory.mktemp("semantic-cache")
    os.environ["PTCE_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def content() -> Content:
    return content_module.load(ROOT)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "ptce.sqlite3")


@pytest.fixture
def conversation(content: Content, store: Store) -> Conversation:
    return Conversation(content, store)


@pytest.fixture
def ask(conversation: Conversation):
    """Type a message as a console user and get the assistant's first reply."""

    def ask(text: str) -> Reply:
        return conversation.handle(Input(User("test", "1"), text=text))[0]

    return ask


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A writable copy of the content, to break on purpose."""
    root = tmp_path / "content"
    shutil.copytree(ROOT / "knowledge", root / "knowledge")
    shutil.copytree(ROOT / "dialogs", root / "dialogs")
    return root


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Telegram Bot API server, listening on a free local port."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()
