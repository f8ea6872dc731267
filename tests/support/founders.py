"""A founder played through the conversation core, and answer profiles drawn from the seeds:
a long-standing grouping (Pôle Sud Archer), an emerging project, an ESS core whose classical
enterprises are still in talks."""

from __future__ import annotations

from typing import Any

from bot.core.conversation import DIAGNOSTIC, Conversation
from bot.core.messages import Input, Reply, User

# A long-standing grouping, like Pôle Sud Archer (Romans-sur-Isère, 2007): many ESS
# structures, companies, the local authorities, a shared strategy, a full-time animation.
POLE_SUD_ARCHER: dict[str, Any] = {
    "role": "founder", "project_name": "Pôle Sud Archer", "department": "romans 26100",
    "territory_kind": "basin", "context": "industrial", "nature": "grouping",
    "ess_count": "ten_plus", "initiator": "ess", "classic": "several",
    "partners": ["commune", "dept_region", "training"], "members_total": "40",
    "strategy": "structure", "duration": "gt_3", "pooling": ["skills", "premises", "jobs"],
    "animation": "full_time", "animation_funding": ["fees", "authorities", "turnover"],
    "state_support": "no", "governance": "formal",
    "description": "Une filière locale de la chaussure et des services",
    "activity": "running", "innovation": ["social", "sector"], "impacts": ["jobs", "needs"],
    "values": ["solidarity", "trust"], "charter_known": "signed",
}
EMERGING = {**POLE_SUD_ARCHER, "project_name": "Deux assos en Creuse", "department": "creuse",
            "ess_count": "two_four", "classic": "none", "partners": ["none"],
            "members_total": "2", "strategy": "drafting", "duration": "lt_1",
            "pooling": ["knowledge"], "animation": "volunteers", "animation_funding": ["nothing"],
            "governance": "informal", "activity": "planned"}
ESS_CORE_COMPANIES_IN_TALKS = {**POLE_SUD_ARCHER, "classic": "talks"}


class Founder:
    """Plays a founder in a console-like channel: presses buttons, types answers."""

    def __init__(self, conversation: Conversation, user_id: str = "founder",
                 channel: str = "test") -> None:
        self.conversation = conversation
        self.user = User(channel, user_id)
        self.replies: list[Reply] = []  # the latest replies
        self.seen: list[Reply] = []  # every reply, as the chat shows them

    def _got(self, replies: list[Reply]) -> list[Reply]:
        self.replies = replies
        self.seen += replies
        return replies

    def start(self) -> list[Reply]:
        return self.press_data(DIAGNOSTIC)

    def press_data(self, data: str) -> list[Reply]:
        return self._got(self.conversation.handle(Input(self.user, button=data)))

    def press(self, label: str) -> list[Reply]:
        """Press ``label`` on the latest message showing it."""
        for reply in reversed(self.seen):
            for row in reply.buttons:
                for button in row:
                    if button.label == label:
                        return self.press_data(button.data)
        shown = [b.label for r in self.seen[-3:] for row in r.buttons for b in row]
        raise AssertionError(f"no button {label!r}; buttons: {shown}")

    def type(self, text: str) -> list[Reply]:
        return self._got(self.conversation.handle(Input(self.user, text=text)))

    def type_command(self, command: str, args: str = "") -> list[Reply]:
        return self._got(self.conversation.handle(Input(self.user, command=command, args=args)))

    @property
    def current(self) -> str | None:
        """The question being asked (from its "Pourquoi ?" button), or "recap"."""
        for reply in reversed(self.seen):
            for row in reply.buttons:
                for button in row:
                    if button.data.startswith("dw:"):
                        return button.data[3:]
                    if button.data == "df":
                        return "recap"
        return None

    def answer(self, profile: dict[str, Any]) -> list[str]:
        """Answer every question from ``profile`` until the recap — or until a question whose
        answer is None, left pending; return the questions asked."""
        asked = []
        while (question := self.current) not in ("recap", None):
            value = profile[question]
            if value is None:
                return asked
            asked.append(question)
            buttons = {b.data: b for r in self.replies for row in r.buttons for b in row}
            if isinstance(value, list):
                for option in value:
                    self.press_data(f"dt:{question}:{option}")
                self.press_data(f"dv:{question}")
            elif f"da:{question}:{value}" in buttons:
                self.press_data(f"da:{question}:{value}")
            else:
                self.type(str(value))
                picks = [d for d in (b.data for r in self.replies for row in r.buttons
                                     for b in row) if d.startswith("dd:")]
                if picks:  # a department: confirm the first suggestion
                    self.press_data(picks[0])
            assert len(asked) < 60, asked
        return asked

    def result(self) -> tuple[str, Reply]:
        """See the result: the verdict text, and the reply carrying the chart and report."""
        verdict, advice = self.press("✅ Voir le résultat")
        return verdict.text, advice
