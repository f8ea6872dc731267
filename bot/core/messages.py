"""What channels and the core exchange: a user's :class:`Input`, the assistant's :class:`Reply`.

Plain data, no behaviour: the console, Telegram and the tests all speak in these terms.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    """Who speaks: the channel and the user's id in it. No name is needed by the core."""

    channel: str
    id: str


@dataclass(frozen=True)
class Input:
    """One thing a user did: typed ``text``, pressed a ``button``, or sent a ``command``."""

    user: User
    text: str = ""
    button: str | None = None
    command: str | None = None
    args: str = ""
    media: str | None = None  # something that is not text: "sticker", "photo", "voice"…
    name: str = ""  # the user's first name, if the channel knows it (used to greet)
    contact: str | None = None  # a phone number the user shared with the channel's button
    private: bool = True  # False in a group chat: never ask for personal data there
    username: str = ""  # the user's @username, if the channel has one (Telegram)


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply: the profile chart (``photo``) or the report (``document``)."""

    kind: str  # "photo" or "document"
    filename: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    """One message of the assistant. ``title`` and ``source`` are shown apart by rich channels."""

    text: str
    title: str = ""
    source: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    entry_id: str | None = None
    kind: str = "info"  # answer, suggest, fallback, smalltalk, menu, info, error, ack
    intent: str | None = None  # the small-talk intent or out-of-scope subject recognised
    replaces: bool = False  # navigation: rich channels may edit the pressed message instead
    attachments: tuple[Attachment, ...] = ()  # sent after the text
    expects_text: bool = False  # the answer is typed (a number, a name): digits are not choices
    request_contact: str = ""  # label of a "share my phone number" button, where supported
    force_reply: bool = False  # the answer is a reply to this message (groups: privacy mode)
    settles: int | None = None  # an outbox notice this reply stands for: once shown, settled
    # A result shown before its chart and report were made: the channel has them made, then
    # sends ``Conversation.latest_files`` (see ``Conversation.defer_drawing``).
    files_to_follow: bool = False

    def plain(self) -> str:
        """The reply as plain text, as a user would read it (without the buttons)."""
        parts = [p for p in (self.title, self.text) if p]
        if self.source:
            parts.append(self.source)
        return "\n\n".join(parts)
