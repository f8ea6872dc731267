"""The qualification questionnaire as a conversation: asking, checking answers, going back,
explaining why, pausing and resuming, the recap, then the verdict with chart and report.

The logic of what comes next lives in :mod:`bot.qualification.rules`; this module turns it into
:class:`~bot.core.conversation.Reply` objects and keeps each user's session
(:mod:`bot.qualification.session`) in SQLite after every step, so that a restart — or a pause
of several days — loses nothing. The result and its files are made by
:mod:`bot.qualification.outcome`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from bot.content.directory import Directory
from bot.content.territory import Territories, parse_department
from bot.core.messages import Button, Reply
from bot.core.text import fold, french_date
from bot.qualification import rules as logic
from bot.qualification.dialog import (
    DEPARTMENT,
    MULTI,
    NUMBER,
    RESPONDENT_ADVISER,
    SINGLE,
    TEXT,
    Dialog,
    Question,
)
from bot.qualification.outcome import Outcomes
from bot.qualification.results import Result
from bot.qualification.session import Session, save
from bot.storage.db import Store

RECAP = "__recap__"
MAX_FAILURES = 3
MAX_LABEL = 60

# Button data: "d" + one letter, then the question (and option) it belongs to, so that a press
# on an older question's button is recognised as stale.
ANSWER = "da:"  # da:<question>:<option>
TOGGLE = "dt:"  # dt:<question>:<option>
VALIDATE = "dv:"  # dv:<question>
PICK_DEPARTMENT = "dd:"  # dd:<question>:<code>
SKIP = "ds:"  # ds:<question>
WHY = "dw:"  # dw:<question>
EDIT = "de:"  # de:<question>
BACK = "db"
PAUSE = "dp"
RESUME = "dr"
RESTART = "dn"
RETRY = "dy"
FINISH = "df"
NOTE = "dnote"  # adviser: a private note on the current section
LINK = "dlink"  # adviser: a resume link for the founder
PREFIXES = (ANSWER, TOGGLE, VALIDATE, PICK_DEPARTMENT, SKIP, WHY, EDIT)
EXACT = (BACK, PAUSE, RESUME, RESTART, RETRY, FINISH, NOTE, LINK)
RESUME_PAYLOAD = "reprise-"  # /start reprise-<token>


class Interview:
    """Runs the questionnaire for every user; state lives in the store, not in memory."""

    def __init__(self, dialog: Dialog, store: Store, territories: Territories,
                 contact_button: Button | None = None,
                 directory: Directory | None = None) -> None:
        self.dialog = dialog
        self.store = store
        self.territories = territories
        self.contact_button = contact_button
        self.outcomes = Outcomes(dialog, store, territories, directory)
        # How a deep link is written: the Telegram channel sets "https://t.me/<bot>?start=".
        self.link_base = "/start "
        self.m = dialog.messages
        self.total = logic.longest_path(dialog)  # "question 5 sur <total>", fixed
        # A result's chart and report follow its verdict when they are not made yet (the
        # Telegram channel: made by another process, while the verdict is read).
        self.files_later = False

    # ----------------------------------------------------------------------------------------
    # Entry points

    def session(self, user_key: str) -> Session | None:
        row = self.store.open_session(user_key)
        return Session.from_row(row) if row else None

    def in_progress(self, user_key: str) -> bool:
        """True when the user's messages belong to the questionnaire."""
        session = self.session(user_key)
        return session is not None and session.status == "active"

    def start(self, user_key: str) -> list[Reply]:
        """Begin — or offer to resume the one begun earlier."""
        session = self.session(user_key)
        if session is not None and (session.answers or session.skipped):
            when = french_date(session.started)
            return [Reply(self.m["resume_offer"].format(date=when,
                                                        answered=len(session.answers)),
                          buttons=((Button(self.m["btn_resume"], RESUME),),
                                   (Button(self.m["btn_restart"], RESTART),)),
                          kind="question")]
        return self._begin(user_key, session)

    def resume(self, user_key: str) -> list[Reply]:
        session = self.session(user_key)
        if session is None:
            return [Reply(self.m["no_session"], kind="info")]
        session.status = "active"
        self._save(session)
        return [Reply(self.m["resumed"], kind="info"), self._ask(session)]

    def pause(self, user_key: str) -> list[Reply]:
        session = self.session(user_key)
        if session is None:
            return [Reply(self.m["no_session"], kind="info")]
        session.status = "paused"
        self._save(session)
        return [Reply(self.m["paused"], buttons=((Button(self.m["btn_resume"], RESUME),),),
                      kind="info")]

    def button(self, user_key: str, data: str) -> list[Reply]:
        """A press on one of the questionnaire's buttons."""
        if data == RESTART:
            return self._begin(user_key, self.session(user_key))
        if data == RESUME:
            return self.resume(user_key)
        session = self.session(user_key)
        if session is None:
            return [Reply(self.m["no_session"], kind="error")]
        if session.status != "active":
            session.status = "active"
        if data == PAUSE:
            return self.pause(user_key)
        if data == BACK:
            return self._back(session)
        if data == RETRY:
            session.failures = 0
            return [self._ask(self._save(session))]
        if data == FINISH:
            if session.current != RECAP:
                return self._stale(session)
            return self._result_replies(session, with_notes=session.driven_by_adviser,
                                        files_later=self.files_later)
        if data == LINK and session.driven_by_adviser:
            return [self._link(session)]
        if data == NOTE and session.driven_by_adviser:
            self.store.save_adviser(user_key, pending="note")
            section = self.note_section(user_key) or ""
            return [Reply(self.m["adviser_note_prompt"].format(section=section), kind="info")]
        kind, _, rest = data.partition(":")
        qid, _, value = rest.partition(":")
        if kind + ":" == WHY:
            question = self.dialog.question(qid)
            return [Reply(logic.why_text(self.dialog, question) if question
                          else self.m["why_none"], kind="info")]
        if kind + ":" == EDIT:
            return self._edit(session, qid)
        question = self.dialog.question(qid)
        if question is None or qid != session.current:
            return self._stale(session)
        if kind + ":" == ANSWER and question.type == SINGLE and question.option(value):
            return self._answer(session, question, value)
        if kind + ":" == TOGGLE and question.type == MULTI and question.option(value):
            return [self._toggle(session, question, value)]
        if kind + ":" == VALIDATE and question.type == MULTI:
            if not session.selection:
                return [Reply(self.m["multi_hint"], kind="error")]
            return self._answer(session, question, list(session.selection))
        if kind + ":" == PICK_DEPARTMENT and self.territories.department(value):
            return self._answer(session, question, value)
        if kind + ":" == SKIP:
            return self._skip(session, question)
        return self._stale(session)

    def text(self, user_key: str, text: str, faq: Callable[[str], list[Reply]]) -> list[Reply]:
        """Something typed while the questionnaire is in progress. ``faq(text)`` gives the
        knowledge base's replies, for a free question typed in the middle."""
        session = self.session(user_key)
        if session is None:
            return [Reply(self.m["no_session"], kind="error")]
        question = self.dialog.question(session.current or "")
        if question is not None and question.type in (SINGLE, MULTI):
            option = typed_option(question, text)
            if option is None:
                return self._interlude(session, faq, text)
            if question.type == SINGLE:
                return self._answer(session, question, option)
            return [self._toggle(session, question, option)]
        if question is None:
            return self._interlude(session, faq, text)
        if question.type == TEXT:
            if len(text) > question.max_length:
                return self._invalid(session, self.m["invalid_text"].format(
                    length=len(text), max=question.max_length))
            return self._answer(session, question, " ".join(text.split()))
        if question.type == NUMBER:
            number = logic.parse_number(text)
            if number is None:
                return self._interlude_or_invalid(session, faq, text, self._number_error(
                    question))
            if ((question.minimum is not None and number < question.minimum)
                    or (question.maximum is not None and number > question.maximum)):
                return self._invalid(session, self._number_error(question))
            return self._answer(session, question, int(number) if number.is_integer()
                                else number)
        if question.type == DEPARTMENT:
            found = parse_department(text, self.territories)
            outside = self.territories.outside_region(text) if not found else None
            if outside is not None:  # Saint-Martin, Saint-Barthélemy…: no region to route to
                session.failures = MAX_FAILURES  # the question can be passed: say so
                self._save(session)
                skip = ((Button(self.m["btn_skip"], f"{SKIP}{question.id}"),),)
                return [Reply(self.m["outside_region"].format(name=outside.name),
                              buttons=skip, kind="error"), self._ask(session)]
            if not found:
                return self._interlude_or_invalid(session, faq, text,
                                                  self.m["invalid_department"])
            session.candidates = [d.code for d in found]
            self._save(session)
            rows = tuple((Button(f"{d.name} ({d.code})", f"{PICK_DEPARTMENT}{question.id}:"
                                 f"{d.code}"),) for d in found)
            return [Reply(self.m["confirm_department"], buttons=rows + self._nav(question),
                          kind="question")]
        return self._interlude(session, faq, text)

    # ----------------------------------------------------------------------------------------
    # Moving through the questions

    # ----------------------------------------------------------------------------------------
    # Adviser mode: sessions run by an adviser for a named project

    def start_for_adviser(self, adviser_key: str, structure: str, project: str) -> list[Reply]:
        """An adviser starts a session for ``project``: who answers and the project's name
        are known already."""
        self.store.pause_open_sessions(adviser_key)
        session = Session(adviser_key, self.dialog.version, adviser_key=adviser_key,
                          structure=structure, project=project)
        known = ((self.dialog.role("respondent"), self.dialog.role(RESPONDENT_ADVISER)),
                 (self.dialog.role("project_name"), project))
        for qid, value in known:
            if qid and value:
                session.answers[qid] = value
                session.history.append(qid)
        self._advance(session)
        intro = self.m["start"].format(title=self.dialog.title, intro=self.dialog.intro)
        return [Reply(intro, kind="info"), self._ask(session)]

    def note_section(self, user_key: str) -> str | None:
        """The section of the question an adviser is on, for a note; None if not driving."""
        session = self.session(user_key)
        if session is None or not session.driven_by_adviser:
            return None
        question = self.dialog.question(session.current or "")
        return question.section if question else self.m["result_next_steps"]

    def add_note(self, user_key: str, note: str) -> list[Reply]:
        session = self.session(user_key)
        section = self.note_section(user_key)
        if session is None or section is None:
            return [Reply(self.m["no_session"], kind="error")]
        session.notes.append([section, note])
        self._save(session)
        return [Reply(self.m["adviser_note_saved"].format(section=section), kind="info"),
                self._ask(session)]

    def reopen(self, adviser_key: str, session_id: int) -> list[Reply]:
        """An adviser reopens one of their sessions: resume it, or see its result again."""
        row = self.store.session(session_id)
        if row is None or row.get("adviser_key") != adviser_key:
            return [Reply(self.m["adviser_not_yours"], kind="error")]
        session = Session.from_row(row)
        if session.status == "done":
            return self._result_replies(session, with_notes=True)
        if session.user_key != adviser_key:
            return [Reply(self.m["adviser_handed_over"], kind="info")]
        self.store.pause_open_sessions(adviser_key)
        session.status = "active"
        self._save(session)
        return [Reply(self.m["resumed"], kind="info"), self._ask(session)]

    def claim(self, user_key: str, token: str) -> list[Reply]:
        """A founder opens the resume link an adviser gave: the session becomes theirs."""
        row = self.store.session_by_token(token)
        if row is None or row["status"] not in ("active", "paused"):
            return [Reply(self.m["resume_link_unknown"], kind="error")]
        session = Session.from_row(row)
        self.store.pause_open_sessions(user_key)
        session.user_key, session.status, session.token = user_key, "active", None
        self._save(session)
        hello = self.m["resume_link_claimed"].format(structure=session.structure,
                                                     project=session.project)
        return [Reply(hello, kind="info"), self._ask(session)]

    def _link(self, session: Session) -> Reply:
        if session.token is None:
            session.token = secrets.token_urlsafe(12)
            self._save(session)
        link = f"{self.link_base}{RESUME_PAYLOAD}{session.token}"
        return Reply(self.m["adviser_link"].format(link=link), kind="info")

    # ----------------------------------------------------------------------------------------

    def _begin(self, user_key: str, previous: Session | None) -> list[Reply]:
        if previous is not None:
            previous.status = "abandoned"
            self._save(previous)
        session = Session(user_key, self.dialog.version)
        self._advance(session)
        intro = self.m["start"].format(title=self.dialog.title, intro=self.dialog.intro)
        return [Reply(intro, kind="info"), self._ask(session)]

    def _advance(self, session: Session) -> Session:
        """Move to the next question that applies — or to the recap when none is left."""
        question = logic.next_question(self.dialog, session.answers, session.skipped)
        session.current = question.id if question else RECAP
        if question is None:
            session.editing = False
        session.selection, session.candidates, session.failures = [], [], 0
        return self._save(session)

    def _answer(self, session: Session, question: Question, value: Any) -> list[Reply]:
        session.answers[question.id] = value
        if question.id in session.skipped:
            session.skipped.remove(question.id)
        session.answers = logic.prune(self.dialog, session.answers)
        session.history = [q for q in session.history if q != question.id] + [question.id]
        session.history = [q for q in session.history
                           if q in session.answers or q in session.skipped]
        self._advance(session)
        return [self._ask(session)]

    def _skip(self, session: Session, question: Question) -> list[Reply]:
        if not question.optional and session.failures < MAX_FAILURES:
            return self._stale(session)
        session.answers.pop(question.id, None)
        if question.id not in session.skipped:
            session.skipped.append(question.id)
        session.history = [q for q in session.history if q != question.id] + [question.id]
        self._advance(session)
        return [self._ask(session)]

    def _back(self, session: Session) -> list[Reply]:
        if not session.history:
            return [Reply(self.m["first_question"], kind="info"), self._ask(session)]
        previous = session.history.pop()
        session.answers.pop(previous, None)
        if previous in session.skipped:
            session.skipped.remove(previous)
        session.current = previous
        session.selection, session.candidates, session.failures = [], [], 0
        self._save(session)
        return [self._ask(session)]

    def _edit(self, session: Session, qid: str) -> list[Reply]:
        question = self.dialog.question(qid)
        if session.current != RECAP or question is None or (
                qid not in session.answers and qid not in session.skipped):
            return self._stale(session)
        session.current, session.editing = qid, True
        previous = session.answers.get(qid)
        session.selection = list(previous) if isinstance(previous, list) else []
        self._save(session)
        return [self._ask(session)]

    def _toggle(self, session: Session, question: Question, option_id: str) -> Reply:
        option = question.option(option_id)
        assert option is not None
        selected = set(session.selection)
        if option_id in selected:
            selected.discard(option_id)
        elif option.exclusive:
            selected = {option_id}
        else:
            selected = {s for s in selected if not (question.option(s) or option).exclusive}
            selected.add(option_id)
        session.selection = [o.id for o in question.options if o.id in selected]
        self._save(session)
        reply = self._ask(session)
        return Reply(reply.text, buttons=reply.buttons, kind="question", replaces=True)

    def _invalid(self, session: Session, message: str) -> list[Reply]:
        session.failures += 1
        self._save(session)
        question = self.dialog.question(session.current or "")
        if session.failures >= MAX_FAILURES and question is not None:
            rows = ((Button(self.m["btn_skip"], f"{SKIP}{question.id}"),),
                    (Button(self.m["btn_pause"], PAUSE),),
                    (Button(self.m["btn_retry"], RETRY),))
            return [Reply(f"{message}\n\n{self.m['too_many_failures']}", buttons=rows,
                          kind="error")]
        return [Reply(message, kind="error"), self._ask(session)]

    def _interlude(self, session: Session, faq: Callable[[str], list[Reply]],
                   text: str) -> list[Reply]:
        """A free question in the middle: the knowledge base answers, then the pending
        question is asked again."""
        replies = faq(text)
        return [*replies, Reply(self.m["faq_then_resume"], kind="info"), self._ask(session)]

    def _interlude_or_invalid(self, session: Session, faq: Callable[[str], list[Reply]],
                              text: str, error: str) -> list[Reply]:
        """Typed text that is not a valid answer: a question the knowledge base answers
        surely is answered; anything else is an invalid answer."""
        replies = faq(text)
        if replies and replies[0].kind == "answer":
            return [*replies, Reply(self.m["faq_then_resume"], kind="info"),
                    self._ask(session)]
        return self._invalid(session, error)

    def _stale(self, session: Session) -> list[Reply]:
        return [Reply(self.m["stale"], kind="error"), self._ask(session)]

    def _number_error(self, question: Question) -> str:
        return self.m["invalid_number"].format(
            min=f"{question.minimum:g}" if question.minimum is not None else "0",
            max=f"{question.maximum:g}" if question.maximum is not None else "…")

    def _save(self, session: Session) -> Session:
        return save(self.store, session)

    # ----------------------------------------------------------------------------------------
    # What the user sees

    def _ask(self, session: Session) -> Reply:
        """The current question (or the recap) with its buttons."""
        if session.current == RECAP:
            return self._recap(session)
        question = self.dialog.question(session.current or "")
        if question is None:  # the questionnaire changed under a stored session
            self._advance(session)
            return self._ask(session)
        if session.editing:
            header = self.m["editing"].format(number=self._recap_number(session, question.id))
        else:
            position, total = logic.progress(self.dialog, session.answers, session.skipped,
                                             self.total)
            header = f"{question.section} · question {position} sur {total}"
        text = f"{header}\n\n{question.text}"
        rows: list[tuple[Button, ...]] = []
        if question.type == SINGLE:
            rows = [(Button(o.label, f"{ANSWER}{question.id}:{o.id}"),)
                    for o in question.options]
        elif question.type == MULTI:
            rows = [(Button(("✅ " if o.id in session.selection else "") + o.label,
                            f"{TOGGLE}{question.id}:{o.id}"),) for o in question.options]
            rows.append((Button(self.m["btn_validate"], f"{VALIDATE}{question.id}"),))
        if question.optional:
            rows.append((Button(self.m["btn_skip"], f"{SKIP}{question.id}"),))
        if session.driven_by_adviser:
            rows.append((Button(self.m["btn_note"], NOTE), Button(self.m["btn_link"], LINK)))
        return Reply(text, buttons=(*rows, *self._nav(question)), kind="question",
                     expects_text=question.type in (NUMBER, TEXT, DEPARTMENT))

    def _nav(self, question: Question) -> tuple[tuple[Button, ...], ...]:
        return ((Button(self.m["btn_back"], BACK),
                 Button(self.m["btn_why"], f"{WHY}{question.id}"),
                 Button(self.m["btn_pause"], PAUSE)),)

    def _recapped(self, session: Session) -> list[Question]:
        """The questions the recap lists, numbered from 1 in this order."""
        return [q for q in self.dialog.questions
                if q.id in session.answers or q.id in session.skipped]

    def _recap_number(self, session: Session, qid: str) -> int:
        ids = [q.id for q in self._recapped(session)]
        return ids.index(qid) + 1 if qid in ids else len(ids) + 1

    def _recap(self, session: Session) -> Reply:
        lines = [self.m["recap"], ""]
        rows: list[tuple[Button, ...]] = []
        for number, question in enumerate(self._recapped(session), 1):
            answer = logic.answer_label(question, session.answers.get(question.id),
                                        self.territories)
            lines.append(f"{number}. {_short(question.text)} → {answer}")
            rows.append((Button(f"✏️ {number}. {answer}"[:MAX_LABEL],
                                f"{EDIT}{question.id}"),))
        rows.append((Button(self.m["btn_result"], FINISH),))
        rows.append((Button(self.m["btn_back"], BACK), Button(self.m["btn_pause"], PAUSE)))
        return Reply("\n".join(lines), buttons=tuple(rows), kind="question")

    def _result_replies(self, session: Session, *, with_notes: bool,
                        files_later: bool = False) -> list[Reply]:
        """The verdict, advice, chart and report; an adviser's notes only for the adviser.
        ``files_later``: files not made yet follow (:meth:`latest_files`, which finds the
        user's latest finished questionnaire: this one)."""
        buttons: list[tuple[Button, ...]] = []
        if self.contact_button is not None and not session.driven_by_adviser:
            buttons.append((self.contact_button,))
        buttons.append((Button(self.m["btn_restart"], RESTART),))
        result = self.outcomes.finished(session, with_notes=with_notes, files_later=files_later)
        verdict = Reply(self._verdict_text(result), kind="result")
        advice = self._advice_text(result)
        if files_later and session.files_pending:  # until sent: owed again after a restart
            return [verdict, Reply(f"{advice}\n\n{self.m['result_files_coming']}",
                                   kind="result", buttons=tuple(buttons), files_to_follow=True)]
        return [verdict, Reply(advice, kind="result", buttons=tuple(buttons),
                               attachments=self.outcomes.attachments(result))]

    def _verdict_text(self, result: Result) -> str:
        lines = [f"🧭 {result.verdict_label}", "", result.verdict_text, "",
                 f"{self.m['result_stage']} : {result.maturity}", "",
                 self.m["result_criteria"]]
        for criterion in result.criteria:
            level = "bloquant" if criterion.blocking else "attendu"
            lines.append(f"{criterion.icon} {criterion.id} {criterion.label} ({level}) — "
                         f"{criterion.explanation}\n    {criterion.quote}")
        return "\n".join(lines)

    def _advice_text(self, result: Result) -> str:
        lines = [f"{self.m['result_eligibility']} : {result.eligibility_text}"]
        if result.strengths:
            lines += ["", f"{self.m['result_strengths']} :"]
            lines += [f"• {s}" for s in result.strengths]
        lines += ["", f"{self.m['result_next_steps']} :"]
        lines += [f"{n}. {step}" for n, step in enumerate(result.next_steps, 1)]
        return "\n".join(lines)


def _short(text: str) -> str:
    """A question without its instructions: up to its question mark."""
    end = text.find("?")
    return text[: end + 1] if end >= 0 else text


def typed_option(question: Question, text: str) -> str | None:
    """The option a user typed instead of pressing its button: its number in the list (as
    the console shows it) or its label; None for anything else (a question, then)."""
    typed = text.strip()
    if typed.isdigit() and 1 <= int(typed) <= len(question.options):
        return question.options[int(typed) - 1].id
    folded = fold(typed.removeprefix("✅"))
    return next((o.id for o in question.options if folded and fold(o.label) == folded), None)
