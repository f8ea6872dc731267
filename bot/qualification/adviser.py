"""Adviser mode (``/conseiller``): DLA and other support staff run the questionnaire with the
founders they accompany.

An adviser states their structure once, then starts sessions for named projects, adds private
notes, lists and reopens their sessions, and hands a resume link to the founder. What the
adviser's next message means (their structure, a project's name, a note) is kept in the store,
so it survives a restart too.
"""

from __future__ import annotations

from bot.core.messages import Button, Reply
from bot.qualification.interview import Interview
from bot.qualification.session import SESSION_STATUS
from bot.storage.db import row_id

MENU = "cm"
NEW_SESSION = "cn"
MY_SESSIONS = "cl"
CHANGE_STRUCTURE = "cs"
OPEN_SESSION = "co:"  # co:<session id>
EXACT = (MENU, NEW_SESSION, MY_SESSIONS, CHANGE_STRUCTURE)
MAX_STRUCTURE = 120
MAX_PROJECT = 80
MAX_NOTE = 1000


class AdviserDesk:
    """The adviser's menu and what they type in adviser mode."""

    def __init__(self, interview: Interview) -> None:
        self.interview = interview
        self.store = interview.store
        self.m = interview.m

    def command(self, user_key: str) -> list[Reply]:
        """``/conseiller``: the adviser menu, after asking for the structure the first time."""
        adviser = self.store.adviser(user_key)
        if adviser is None or not adviser["structure"]:
            self.store.save_adviser(user_key, pending="structure")
            return [Reply(self.m["adviser_ask_structure"], kind="question", expects_text=True)]
        self.store.save_adviser(user_key, pending=None)
        return [self._menu(adviser["structure"])]

    def pending(self, user_key: str) -> str | None:
        """What the adviser's next message is expected to be, if anything."""
        adviser = self.store.adviser(user_key)
        return adviser["pending"] if adviser else None

    def text(self, user_key: str, text: str) -> list[Reply]:
        """The structure, a project's name or a note, as the pending step expects."""
        pending = self.pending(user_key)
        text = " ".join(text.split())
        if pending == "structure":
            structure = text[:MAX_STRUCTURE]
            self.store.save_adviser(user_key, structure=structure, pending=None)
            return [Reply(self.m["adviser_structure_saved"].format(structure=structure),
                          kind="info"), self._menu(structure)]
        if pending == "project":
            self.store.save_adviser(user_key, pending=None)
            adviser = self.store.adviser(user_key) or {"structure": ""}
            return self.interview.start_for_adviser(user_key, adviser["structure"],
                                                    text[:MAX_PROJECT])
        if pending == "note":
            self.store.save_adviser(user_key, pending=None)
            return self.interview.add_note(user_key, text[:MAX_NOTE])
        return [self._menu("")]

    def button(self, user_key: str, data: str) -> list[Reply]:
        adviser = self.store.adviser(user_key)
        if adviser is None or not adviser["structure"]:
            return self.command(user_key)
        if data == NEW_SESSION:
            self.store.save_adviser(user_key, pending="project")
            return [Reply(self.m["adviser_ask_project"], kind="question", expects_text=True)]
        if data == CHANGE_STRUCTURE:
            self.store.save_adviser(user_key, pending="structure")
            return [Reply(self.m["adviser_ask_structure"], kind="question", expects_text=True)]
        if data == MY_SESSIONS:
            return [self._sessions(user_key)]
        session_id = row_id(data[len(OPEN_SESSION):]) if data.startswith(OPEN_SESSION) else None
        if session_id is not None:
            return self.interview.reopen(user_key, session_id)
        return [self._menu(adviser["structure"])]

    def _menu(self, structure: str) -> Reply:
        return Reply(self.m["adviser_menu"].format(structure=structure), kind="menu", buttons=(
            (Button(self.m["btn_new_session"], NEW_SESSION),),
            (Button(self.m["btn_my_sessions"], MY_SESSIONS),),
            (Button(self.m["btn_change_structure"], CHANGE_STRUCTURE),),
        ))

    def _sessions(self, user_key: str) -> Reply:
        rows = self.store.adviser_sessions(user_key)
        if not rows:
            return Reply(self.m["adviser_no_sessions"], kind="menu",
                         buttons=((Button(self.m["btn_new_session"], NEW_SESSION),),))
        buttons = []
        for row in rows:
            status = SESSION_STATUS.get(row["status"], row["status"])
            if row["status"] == "done" and row["verdict"]:
                label, _ = self.interview.dialog.verdicts.get(row["verdict"], ("", ""))
                status = f"{status} : {label}" if label else status
            day = row["updated"][:10]
            label = f"{row['project'] or '(sans nom)'} — {status} — {day}"
            buttons.append((Button(label[:60], f"{OPEN_SESSION}{row['id']}"),))
        return Reply(self.m["adviser_sessions"], kind="menu", buttons=tuple(buttons))
