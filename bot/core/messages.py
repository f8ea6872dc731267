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
class UserKey:
    """A user as the store names them, parsed: ``channel:chat`` for a private chat (the
    person) and ``channel:chat:member`` for one member of a group chat — ``telegram:2001``,
    ``telegram:-100123:2001``. ``str()`` gives the text the tables hold."""

    channel: str
    chat: str
    member: str = ""

    @classmethod
    def of(cls, user: User) -> UserKey:
        chat, _, member = user.id.partition(":")
        return cls(user.channel, chat, member)

    @classmethod
    def parse(cls, key: str) -> UserKey:
        channel, _, rest = key.partition(":")
        chat, _, member = rest.partition(":")
        return cls(channel, chat, member)

    def __str__(self) -> str:
        return f"{self.channel}:{self.chat}" + (f":{self.member}" if self.member else "")

    @property
    def user(self) -> User:
        """The :class:`User` the channel knows (a group member's id is ``chat:member``)."""
        return User(self.channel, f"{self.chat}:{self.member}" if self.member else self.chat)

    @property
    def chat_key(self) -> str:
        """The chat's own key: a group's members share their group's link."""
        return f"{self.channel}:{self.chat}"

    @property
    def person(self) -> str:
        """The person's id in the channel (the member in a group, else the chat)."""
        return self.member or self.chat

    @property
    def telegram_chat(self) -> int | None:
        """The Telegram chat's id; None on other channels."""
        if self.channel == "telegram" and self.chat.lstrip("-").isdigit():
            return int(self.chat)
        return None


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
