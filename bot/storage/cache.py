"""Work derived from the content, kept on disk from one start to the next.

Reading the YAML content (parsing and every check) and indexing it for the matcher take about
0.4 s; reading them back takes about 20 ms. Each is kept in the cache folder
(``PTCE_CACHE_DIR``, else the XDG cache folder, as the semantic vectors) under a key made of
everything it is derived from — the content files' bytes, the texts indexed — and of the
bot's own code: an edit to the content or an upgrade is never served an old result. Only
what the bot wrote itself is read back (pickle), from the service account's own folder, as
its database is. A folder that cannot be written (a read-only home) only costs the time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
KEPT = 6  # results of each kind: the current content and a few edits or checkouts


def folder() -> Path:
    """``PTCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/ptce-bot`` (``~/.cache/ptce-bot``)."""
    base = os.environ.get("PTCE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ptce-bot")
    return Path(base)


def kept(kind: str, key: str, make: Callable[[], T]) -> T:
    """The value kept as ``kind`` under ``key``, else ``make()``, kept for the next time.
    An exception from ``make`` (invalid content) propagates and nothing is kept."""
    path = folder() / f"{kind}-{key}.pickle"
    try:
        with path.open("rb") as file:
            return pickle.load(file)  # type: ignore[no-any-return]
    except FileNotFoundError:
        pass
    except Exception as exc:  # a truncated or foreign file: made again, and replaced
        logger.warning("Cache %s illisible (%s) : recalculé.", path.name, type(exc).__name__)
    value = make()
    try:
        _write(path, value)
    except Exception as exc:  # a read-only folder, a full disk: only the time is lost
        logger.info("Cache %s non enregistré (%s).", path.name, type(exc).__name__)
    return value


def key(*parts: str | bytes) -> str:
    """A key for :func:`kept`: a hash of ``parts`` and of the bot's code."""
    digest = hashlib.sha256(code_version().encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()[:32]


def files_key(root: Path, files: Iterable[Path]) -> str:
    """A :func:`key` of ``files`` (their path under ``root`` and their bytes) and of
    ``root`` itself (a copy of the content elsewhere is another content)."""
    parts: list[str | bytes] = [str(root.resolve())]
    for path in sorted(files):
        parts += [path.relative_to(root).as_posix(), path.read_bytes()]
    return key(*parts)


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the bot's Python sources and of Python's version: another version of the
    code reads nothing kept by this one."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(sys.version.encode())
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _write(path: Path, value: object) -> None:
    """Write atomically (another process may read or write the same key), then forget the
    oldest results of the same kind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.",
                                     delete=False) as file:
        try:
            pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            os.unlink(file.name)
            raise
    os.replace(file.name, path)
    kind = path.name.rsplit("-", 1)[0]
    siblings = sorted(path.parent.glob(f"{kind}-*.pickle"), key=_mtime, reverse=True)
    for old in siblings[KEPT:]:
        old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
