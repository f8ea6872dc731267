"""Button data → the handler of the feature that made the button.

Each feature declares its buttons (an exact ``data`` such as ``"db"``, or a prefix such as
``"da:"`` followed by arguments); the registry refuses two features claiming the same data or
overlapping prefixes, so the order in which they register never decides who answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.core.messages import Input

T = TypeVar("T")
Handler = Callable[[Input, str], T]


class ButtonClash(ValueError):
    """Two features claim the same button data."""


@dataclass
class Buttons(Generic[T]):
    """Exact data and prefixes, each with the feature that owns it and its handler. A handler
    receives the input and the whole button data."""

    _exact: dict[str, tuple[str, Handler[T]]] = field(default_factory=dict)
    _prefixes: dict[str, tuple[str, Handler[T]]] = field(default_factory=dict)

    def exact(self, owner: str, data: Iterable[str], handler: Handler[T]) -> None:
        """``owner``'s buttons whose data is exactly one of ``data``."""
        for value in data:
            self._claim(owner, value, prefix=False)
            self._exact[value] = (owner, handler)

    def prefix(self, owner: str, prefixes: Iterable[str], handler: Handler[T]) -> None:
        """``owner``'s buttons whose data starts with one of ``prefixes``."""
        for value in prefixes:
            self._claim(owner, value, prefix=True)
            self._prefixes[value] = (owner, handler)

    def handle(self, inp: Input, data: str) -> T | None:
        """The reply of the handler that owns ``data``; None when no feature does."""
        found = self._exact.get(data)
        if found is not None:
            return found[1](inp, data)
        for value, (_, handler) in self._prefixes.items():
            if data.startswith(value):
                return handler(inp, data)
        return None

    def owner(self, data: str) -> str | None:
        """The feature that owns ``data``, if any."""
        if data in self._exact:
            return self._exact[data][0]
        return next((o for v, (o, _) in self._prefixes.items() if data.startswith(v)), None)

    def _claim(self, owner: str, value: str, *, prefix: bool) -> None:
        if not value:
            raise ButtonClash(f"{owner}: empty button data")
        clashes = [o for v, (o, _) in self._prefixes.items()
                   if value.startswith(v) or (prefix and v.startswith(value))]
        if prefix:
            clashes += [o for v, (o, _) in self._exact.items() if v.startswith(value)]
        elif value in self._exact:
            clashes.append(self._exact[value][0])
        if clashes:
            raise ButtonClash(f"{owner}: button data « {value} » already claimed by "
                              f"{', '.join(sorted(set(clashes)))}")
