"""The core: turns what a user sends into the assistant's replies, whatever the channel.

Channels (console, Telegram, ``ptce-bot ask``) build an :class:`Input`, call
:meth:`Conversation.handle`, and render the :class:`Reply` objects they get back. Nothing here
knows about Telegram; button data are short self-contained strings (``q:<entry id>``,
``t:<theme id>``…) that stay meaningful after a restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.answers.faq import Matcher
from bot.answers.places import Place, Pole
from bot.answers.retrieval import Retriever
from bot.answers.semantic import Embedder, SemanticIndex, load_model
from bot.answers.smalltalk import SmallTalk
from bot.content.model import Content, Entry, Intent
from bot.core.buttons import Buttons
from bot.core.messages import Attachment, Button, Input, Reply, User, UserKey
from bot.core.text import fold, french_date
from bot.handoff.consent import CANCEL as HANDOFF_CANCEL
from bot.handoff.consent import EXACT as HANDOFF_EXACT
from bot.handoff.consent import PREFIXES as HANDOFF_PREFIXES
from bot.handoff.consent import SEND as HANDOFF_SEND
from bot.handoff.consent import Handoff
from bot.handoff.coordination import PREFIXES as COORDINATION_PREFIXES
from bot.handoff.coordination import CoordinationDesk
from bot.ops.config import Config
from bot.qualification.adviser import EXACT as ADVISER_EXACT
from bot.qualification.adviser import OPEN_SESSION, AdviserDesk
from bot.qualification.interview import EXACT as INTERVIEW_EXACT
from bot.qualification.interview import FINISH, RESUME_PAYLOAD, Interview
from bot.qualification.interview import PREFIXES as INTERVIEW_PREFIXES
from bot.qualification.outcome import Render
from bot.storage.db import Store

MAX_QUESTION_LENGTH = 1000
SLOW_BUTTONS = frozenset({FINISH, HANDOFF_SEND})  # the result, a lead: chart and report
MAX_RELATED = 3
MAX_LOCAL_POLES = 10  # a region's poles listed, beyond the department's

# Button data. Kept short: Telegram allows 64 bytes of callback data.
THEMES = "t"
THEMES_BACK = "tb"  # back from a theme's questions to the themes
THEME = "t:"
ENTRY = "q:"
GLOSSARY = "g"
HELP = "h"
NONE_OF_THESE = "n"
ASK = "ask"
DIAGNOSTIC = "diag"
COORDINATION = "coord"
FEEDBACK = "f:"  # f:+:<entry id> or f:-:<entry id>; f:r:<reason>:<entry id> after a 👎
FEEDBACK_REASON = "f:r:"
REASONS = ("wrong", "incomplete", "unclear")  # what was wrong, as a 👎 explains it
_REMEMBERED_QUESTIONS = 1000  # users whose last answered question a 👎 can refer to

# What the paths of the welcome open when the questionnaire or the hand-off is not available.
DIAGNOSTIC_ENTRY = "lancer-diagnostic"
COORDINATION_ENTRY = "lancer-coordination"

# Deep links (https://t.me/<bot>?start=<payload>): what a shared link opens. Payloads may only
# use A-Z, a-z, 0-9, _ and -, up to 64 characters.
START_PAYLOADS = {"question": ASK, "diagnostic": DIAGNOSTIC, "coordination": COORDINATION,
                  "themes": THEMES, "glossaire": GLOSSARY}
START_THEME = "theme-"
START_ENTRY = "q-"


@dataclass
class Conversation:
    """Answers users. One instance serves every user of every channel."""

    content: Content
    store: Store
    record: bool = True  # False for maintainers' batch runs: they are not real questions
    config: Config = field(default_factory=Config.empty)  # deployment: channels, admins…
    matcher: Matcher = field(init=False)
    retriever: Retriever = field(init=False)
    smalltalk: SmallTalk = field(init=False)
    interview: Interview | None = field(init=False)
    advisers: AdviserDesk | None = field(init=False)
    handoff: Handoff | None = field(init=False)
    coordinations: CoordinationDesk | None = field(init=False)
    buttons: Buttons[list[Reply]] = field(init=False)  # button data -> the feature answering

    def __post_init__(self) -> None:
        self.matcher = Matcher.kept(self.content.entries.values(), self.content.sms,
                                    self.content.synonyms)
        normalizer = self.matcher.normalizer
        model = load_model()
        semantic = None if model is None else SemanticIndex.build(
            list(self.content.entries.values()), Embedder(model))
        self.retriever = Retriever(self.matcher, semantic, steering=self.content.steering,
                                   themes={e.id: e.theme for e in self.content.entries.values()})
        self._last_question: dict[str, tuple[str, str]] = {}  # user -> (entry id, question)
        self.smalltalk = SmallTalk(self.content.smalltalk, self.content.out_of_scope, normalizer)
        self.interview = self.advisers = self.handoff = self.coordinations = None
        content = self.content
        if content.dialog is not None and content.territories is not None:
            self.interview = Interview(content.dialog, self.store, content.territories,
                                       contact_button=Button(
                                           content.message("btn_coordination"), COORDINATION),
                                       directory=content.directory)
            self.advisers = AdviserDesk(self.interview)
            if content.directory is not None:
                self.handoff = Handoff(self.interview, content.directory, self.config,
                                       content.territories)
                self.coordinations = CoordinationDesk(self.store, content.directory,
                                                      self.config, content.territories,
                                                      content.dialog.messages)
        self.buttons = self._buttons()

    # ----------------------------------------------------------------------------------------
    # Entry point

    def handle(self, inp: Input) -> list[Reply]:
        """The replies to one input, in the order they are to be sent."""
        if inp.command is not None:
            return self._command(inp)
        if inp.button is not None:
            return self._button(inp)
        if inp.contact is not None and self.handoff is not None \
                and self.handoff.in_progress(_key(inp.user)):
            return self.handoff.text(_key(inp.user), "", contact_phone=inp.contact)
        if inp.media is not None:
            return [Reply(self.content.message("non_text"), kind="error")]
        key = _key(inp.user)
        text = inp.text.strip()
        if not text or len(text) > MAX_QUESTION_LENGTH:
            return self._text(inp)  # the same kind refusal everywhere
        # What a typed message belongs to, most specific first.
        pending = self.store.pending_steps(key, UserKey.parse(key).chat_key)
        if self.coordinations is not None and pending.get("coordinator"):
            return self.coordinations.note(key, text, private=inp.private)
        if self.advisers is not None and pending.get("adviser"):
            return self.advisers.text(key, text)
        if self.handoff is not None and pending.get("handoff"):
            return self.handoff.text(key, text)
        if self.interview is not None and pending.get("questionnaire"):
            return self.interview.text(key, text,
                                       lambda question: self._text(replace(inp, text=question)))
        return self._text(inp)

    def prepare(self, inp: Input, render: Render | None = None) -> None:
        """The part of a slow input that needs neither the core's state nor its lock: the
        chart and report a result or a lead will carry (half a second) are made ahead, by
        ``render`` if given (another process), so that :meth:`handle` then takes
        milliseconds. Channels call it from a worker thread while other users are served; it
        does nothing for other inputs."""
        if self.interview is not None and inp.button in SLOW_BUTTONS:
            self.interview.outcomes.draw_ahead(_key(inp.user), finished=inp.button == HANDOFF_SEND,
                                      render=render)

    def defer_embedding(self) -> None:
        """From now on, a question whose vector is not computed yet raises
        :class:`~bot.answers.semantic.EmbeddingNeeded` instead of computing it (40 ms or more) under
        the caller's lock: the channel then calls :meth:`embed` elsewhere and handles the
        input again."""
        if self.retriever.semantic is not None:
            self.retriever.semantic.embedder.deferred = True

    def embed(self, texts: Sequence[str]) -> None:
        """Compute the vectors an :class:`~bot.answers.semantic.EmbeddingNeeded` asked for (any
        thread; needs no lock)."""
        if self.retriever.semantic is not None:
            self.retriever.semantic.embedder.embed(texts)

    def is_slow(self, inp: Input) -> bool:
        """Whether answering ``inp`` draws a chart and writes a report (a few hundred
        milliseconds): channels then run it apart and show that they are working. Not a
        result once drawing is deferred: its verdict comes at once, its files follow."""
        data = inp.button or ""
        if data == FINISH and self.interview is not None and self.interview.files_later:
            return False
        return data in SLOW_BUTTONS or data.startswith(OPEN_SESSION)

    def defer_drawing(self) -> None:
        """From now on, a result whose chart and report are not made yet is shown without
        them, its last reply marked ``files_to_follow``: the channel has them made
        elsewhere (:meth:`draw_latest`), then sends :meth:`latest_files`. With many founders
        finishing together, a verdict no longer waits for the others' charts."""
        if self.interview is not None:
            self.interview.files_later = True

    def draw_latest(self, user: User, render: Render | None = None) -> None:
        """Make the chart and report of the user's latest result (``render``: in another
        process), so that :meth:`latest_files` finds them; any thread, no lock needed."""
        if self.interview is not None:
            self.interview.outcomes.draw_ahead(_key(user), finished=True, render=render)

    def latest_files(self, user: User) -> tuple[Attachment, ...]:
        """The chart and report of the user's latest result (under the core's lock, like
        :meth:`handle`)."""
        if self.interview is None:
            return ()
        return self.interview.outcomes.latest_files(_key(user))

    def files_sent(self, user: User) -> None:
        """The files that followed the user's latest verdict were shown (under the lock)."""
        if self.interview is not None:
            self.interview.outcomes.files_sent(_key(user))

    def files_owed(self, channel: str, since: str) -> list[User]:
        """Users of ``channel`` whose latest verdict, shown since ``since`` (ISO time), still
        waits for its chart and report: the process stopped before sending them."""
        if self.interview is None:
            return []
        owed = []
        for key in self.interview.outcomes.files_owed(since):
            user = UserKey.parse(key).user
            if user.channel == channel:
                owed.append(user)
        return owed

    # ----------------------------------------------------------------------------------------
    # Commands and buttons

    def _command(self, inp: Input) -> list[Reply]:
        command = inp.command.lower().lstrip("/") if inp.command else ""
        key, args = _key(inp.user), inp.args
        interview, handoff, desk = self.interview, self.handoff, self.coordinations
        if command == "start":
            if interview is not None and interview.in_progress(key):
                interview.pause(key)  # the menu takes over; the answers wait
            return self._start(inp)
        if command in ("aide", "help"):
            return [self.help()]
        if command in ("themes", "thèmes"):
            return [self.themes()]
        if command == "glossaire":
            return [self.glossary()]
        if command == "annuler":
            return self._cancel(key)
        advisers = self.advisers
        if interview is not None and advisers is not None:
            questionnaire = {"diagnostic": lambda: interview.start(key),
                             "reprendre": lambda: self._resume(key),
                             "conseiller": lambda: advisers.command(key)}
            if command in questionnaire:
                return questionnaire[command]()
        if handoff is not None and desk is not None:
            data_and_leads = {
                "mes_donnees": lambda: handoff.my_data(key, private=inp.private),
                "oublier": lambda: handoff.ask_forget(private=inp.private),
                "coordination": lambda: desk.link(key, args),
                "leads": lambda: desk.leads(key, private=inp.private),
                "lead": lambda: desk.lead(key, args, private=inp.private),
                "export": lambda: desk.export(key, private=inp.private),
                "stats": lambda: desk.stats(key, private=inp.private),
            }
            if command in data_and_leads:
                return data_and_leads[command]()
        return [Reply(self.content.message("unknown_command", command=command), kind="error")]

    def _resume(self, key: str) -> list[Reply]:
        """``/reprendre``: the hand-off in progress if any, else the questionnaire."""
        if self.handoff is not None and self.handoff.in_progress(key):
            return self.handoff.resume(key)
        assert self.interview is not None
        return self.interview.resume(key)

    def _cancel(self, key: str) -> list[Reply]:
        """``/annuler``: stop what is in progress — a hand-off is dropped, a questionnaire
        paused (its answers wait), anything else forgotten."""
        if self.handoff is not None and self.handoff.in_progress(key):
            return self.handoff.button(key, HANDOFF_CANCEL)
        if self.interview is not None and self.interview.in_progress(key):
            return self.interview.pause(key)
        return [Reply(self.content.message("cancelled"), buttons=self._menu_buttons())]

    def _start(self, inp: Input) -> list[Reply]:
        """``/start``, possibly with a deep-link payload naming what to open."""
        payload = inp.args.strip()
        if payload.startswith(RESUME_PAYLOAD) and self.interview is not None:
            return self.interview.claim(_key(inp.user), payload[len(RESUME_PAYLOAD):])
        if payload in START_PAYLOADS:
            return self._button(Input(inp.user, button=START_PAYLOADS[payload]))
        if payload.startswith(START_THEME):
            return self._button(Input(inp.user, button=THEME + payload[len(START_THEME):]))
        if payload.startswith(START_ENTRY) and payload[len(START_ENTRY):] in self.content.entries:
            return [self.answer(self.content.entries[payload[len(START_ENTRY):]])]
        return [self.welcome(inp.name)]

    def _buttons(self) -> Buttons[list[Reply]]:
        """Every button the assistant shows, with the feature that answers it."""
        buttons: Buttons[list[Reply]] = Buttons()
        interview, advisers = self.interview, self.advisers
        handoff, desk = self.handoff, self.coordinations
        buttons.exact("answers", [ASK], lambda inp, _: [Reply(
            self.content.message("ask"), buttons=self._menu_buttons(), kind="menu")])
        buttons.exact("answers", [THEMES], lambda inp, _: [self.themes()])
        buttons.exact("answers", [THEMES_BACK], lambda inp, _: [
            replace(self.themes(), replaces=True)])
        buttons.exact("answers", [GLOSSARY], lambda inp, _: [self.glossary()])
        buttons.exact("answers", [HELP], lambda inp, _: [self.help()])
        buttons.exact("answers", [NONE_OF_THESE], lambda inp, _: [self._fallback()])
        buttons.prefix("answers", [THEME], self._theme_button)
        buttons.prefix("answers", [ENTRY], self._entry_button)
        buttons.prefix("answers", [FEEDBACK], self._feedback)
        buttons.exact("questionnaire", [DIAGNOSTIC], lambda inp, _: (
            interview.start(_key(inp.user)) if interview is not None
            else [self.answer(self.content.entries[DIAGNOSTIC_ENTRY])]))
        buttons.exact("hand-off", [COORDINATION], lambda inp, _: (
            handoff.start(_key(inp.user), private=inp.private) if handoff is not None
            else [self.answer(self.content.entries[COORDINATION_ENTRY])]))
        if interview is not None:
            def answer_question(inp: Input, data: str) -> list[Reply]:
                return interview.button(_key(inp.user), data)
            buttons.exact("questionnaire", INTERVIEW_EXACT, answer_question)
            buttons.prefix("questionnaire", INTERVIEW_PREFIXES, answer_question)
        if advisers is not None:
            def adviser(inp: Input, data: str) -> list[Reply]:
                return advisers.button(_key(inp.user), data)
            buttons.exact("adviser", ADVISER_EXACT, adviser)
            buttons.prefix("adviser", [OPEN_SESSION], adviser)
        if handoff is not None:
            def contact(inp: Input, data: str) -> list[Reply]:
                return handoff.button(_key(inp.user), data, username=inp.username)
            buttons.exact("hand-off", HANDOFF_EXACT, contact)
            buttons.prefix("hand-off", HANDOFF_PREFIXES, contact)
        if desk is not None:
            buttons.prefix("coordination", COORDINATION_PREFIXES, lambda inp, data: desk.button(
                _key(inp.user), data, private=inp.private))
        return buttons

    def _button(self, inp: Input) -> list[Reply]:
        replies = self.buttons.handle(inp, inp.button or "")
        return self._unknown_button() if replies is None else replies

    def _unknown_button(self) -> list[Reply]:
        """A button from an older version, or forged: said so, with a way on."""
        return [Reply(self.content.message("unknown_button"), kind="error",
                      buttons=((Button(self.content.message("btn_themes"), THEMES),),))]

    def _theme_button(self, inp: Input, data: str) -> list[Reply]:
        theme_id = data[len(THEME):]
        if self.content.theme(theme_id) is None:
            return self._unknown_button()
        return [replace(self.theme(theme_id), replaces=True)]

    def _entry_button(self, inp: Input, data: str) -> list[Reply]:
        entry = self.content.entries.get(data[len(ENTRY):])
        if entry is None:
            return self._unknown_button()
        return [self.answer(entry)]

    def _feedback(self, inp: Input, data: str) -> list[Reply]:
        """👍 / 👎 on an answer: counted per entry, without saying who gave it; then, after a
        👎, what was wrong."""
        if data.startswith(FEEDBACK_REASON):
            return self._feedback_reason(inp, data[len(FEEDBACK_REASON):])
        verdict, _, entry_id = data[len(FEEDBACK):].partition(":")
        if verdict not in ("+", "-") or entry_id not in self.content.entries:
            return [Reply(self.content.message("unknown_button"), kind="error")]
        if self.record:
            self.store.record_feedback(inp.user.channel, entry_id, useful=verdict == "+")
        if verdict == "+":
            return [Reply(self.content.message("feedback_thanks"), kind="ack",
                          entry_id=entry_id)]
        message = self.content.message
        why = tuple((Button(message(f"btn_why_{r}"), f"{FEEDBACK_REASON}{r}:{entry_id}"),)
                    for r in REASONS)
        return [Reply(message("feedback_noted"), kind="ack", entry_id=entry_id),
                Reply(message("feedback_why"), buttons=why, kind="menu")]

    def _feedback_reason(self, inp: Input, value: str) -> list[Reply]:
        """What was wrong with an answer after a 👎: counted per entry and shown, beside the
        question that got it, by ``ptce-bot unanswered``."""
        reason, _, entry_id = value.partition(":")
        if reason not in REASONS or entry_id not in self.content.entries:
            return [Reply(self.content.message("unknown_button"), kind="error")]
        if self.record:
            label = self.content.message(f"btn_why_{reason}")
            self.store.record_feedback_reason(inp.user.channel, entry_id, reason)
            asked = self._last_question.pop(_key(inp.user), None)
            if asked is not None and asked[0] == entry_id:
                self.store.record_unanswered(fold(asked[1]), asked[1],
                                             f"👎 {label} → {entry_id}")
        return [Reply(self.content.message("feedback_sorry"), kind="ack", entry_id=entry_id)]

    # ----------------------------------------------------------------------------------------
    # Free text: where a question becomes an answer, suggestions, or a kind refusal

    def _text(self, inp: Input) -> list[Reply]:
        text = inp.text.strip()
        if not text:
            return [Reply(self.content.message("empty"), kind="error")]
        if len(text) > MAX_QUESTION_LENGTH:
            self._record(inp, "none", text=text)
            return [Reply(self.content.message("too_long", limit=MAX_QUESTION_LENGTH),
                          kind="error")]
        detected = self.smalltalk.detect(text)
        if detected.intent is not None:
            return [self._smalltalk(inp, detected.intent)]
        question = detected.rest or text
        out_of_scope = self.smalltalk.out_of_scope(question)
        if out_of_scope is not None and "ptce" not in self.matcher.normalizer.words(question):
            self._record(inp, "out_of_scope", text=question)
            return [Reply(out_of_scope.replies[0], kind="fallback", intent=out_of_scope.id,
                          buttons=self._fallback_buttons())]
        match = self.retriever.match(question)
        places = self.content.places
        place = places.asked(question) if places is not None else None
        if place is not None and places is not None and not (
                match.entry_id in places.cards and not places.asks_for_list(question)):
            self._record(inp, "local")
            return [self.local(place)]
        if match.entry_id is not None:
            self._record(inp, "answer", entry_id=match.entry_id)
            self._remember(inp, match.entry_id, question)
            if match.also:  # two questions in one: both answers, briefly
                return [self.answer(self.content.entries[e], brief=True)
                        for e in (match.entry_id, *match.also)]
            return [self.answer(self.content.entries[match.entry_id],
                                questionnaire=match.describes_project)]
        if match.suggestions:
            self._record(inp, "suggest", text=question)
            return [self._suggest(match.suggestions, questionnaire=match.describes_project)]
        by_keyword = self.smalltalk.by_keyword(question) or self.smalltalk.courtesy_in(question)
        if by_keyword is not None:
            return [self._smalltalk(inp, by_keyword)]
        self._record(inp, "none", text=question)
        return [self._fallback()]

    def _remember(self, inp: Input, entry_id: str, question: str) -> None:
        """Keep (in memory only) the question a user's last answer was for, so that a 👎 on it
        can be shown beside the question."""
        if not self.record:
            return
        remembered = self._last_question
        remembered.pop(_key(inp.user), None)
        remembered[_key(inp.user)] = (entry_id, question)
        if len(remembered) > _REMEMBERED_QUESTIONS:
            del remembered[next(iter(remembered))]

    def _smalltalk(self, inp: Input, intent: Intent) -> Reply:
        self._record(inp, "smalltalk")
        reply = intent.replies[0].format(help=self.content.message("help"))
        return Reply(reply, kind="smalltalk", intent=intent.id)

    def _record(self, inp: Input, outcome: str, *, entry_id: str | None = None,
                text: str | None = None) -> None:
        if not self.record:
            return
        self.store.record_question(inp.user.channel, outcome, entry_id)
        if text is not None:
            self.store.record_unanswered(fold(text), text, outcome)

    # ----------------------------------------------------------------------------------------
    # Replies

    def answer(self, entry: Entry, *, brief: bool = False,
               questionnaire: bool = False) -> Reply:
        """An entry as a reply: title, answer, source, "see also" and feedback buttons.

        ``brief``: its first paragraph and a button to read the rest (one of two answers to
        two questions in one). ``questionnaire``: the asker described their project, so the
        questionnaire comes first among the buttons."""
        message = self.content.message
        text, _, rest = entry.answer.partition("\n\n")
        rows: list[tuple[Button, ...]]
        if brief and rest:
            rows = [(Button(message("btn_read_more"), ENTRY + entry.id),)]
        else:
            text = entry.answer
            related = [self.content.entries[r] for r in entry.related[:MAX_RELATED]]
            rows = [(Button(f"➜ {r.title}", ENTRY + r.id),) for r in related]
        if questionnaire and self.interview is not None:
            rows.insert(0, (Button(message("btn_diagnostic"), DIAGNOSTIC),))
        rows.append((Button(message("btn_useful"), f"{FEEDBACK}+:{entry.id}"),
                     Button(message("btn_not_useful"), f"{FEEDBACK}-:{entry.id}")))
        return Reply(
            text,
            title=entry.title,
            source=f"{self.content.message('source_prefix')} {entry.source_line()}",
            buttons=tuple(rows),
            entry_id=entry.id,
            kind="answer",
        )

    def local(self, place: Place) -> Reply:
        """« Des PTCE près de chez moi ? »: the poles the sources name there, dated, and the
        regional coordination, with the offer to be put in touch."""
        assert self.content.places is not None
        message, region = self.content.message, place.region.name
        here, elsewhere = self.content.places.near(place)
        lines = [message("local_intro", place=place.label)]
        if here:
            lines += ["", message("local_here", place=place.name)]
            lines += [self._pole_line(p) for p in here]
        if elsewhere:
            said = message("local_region" if here else "local_region_only",
                           in_region=place.region.located)
            lines += ["", said[:1].upper() + said[1:]]
            lines += [self._pole_line(p) for p in elsewhere[:MAX_LOCAL_POLES]]
            if len(elsewhere) > MAX_LOCAL_POLES:
                lines.append(message("local_more", count=len(elsewhere) - MAX_LOCAL_POLES))
        if here or elsewhere:
            lines += ["", message("local_dated")]
        else:
            lines += ["", message("local_none", region=region)]
        rows: list[tuple[Button, ...]] = []
        directory = self.content.directory
        if directory is not None:
            coordination = directory.for_region(place.region.id)
            lines += ["", message("local_contact", coordination=coordination.named,
                                  role=coordination.role)]
            contact = COORDINATION if self.handoff is not None else ENTRY + COORDINATION_ENTRY
            rows.append((Button(message("btn_local_contact", coordination=coordination.named),
                                contact),))
        cards = [p for p in (*here, *elsewhere) if p.entry in self.content.entries]
        rows += [(Button(f"➜ {p.name}", ENTRY + str(p.entry)),) for p in cards[:MAX_RELATED]]
        rows.append((Button(message("btn_themes"), THEMES),))
        labels = sorted({s.label for p in (*here, *elsewhere) for s in p.sources})
        source = f"{message('source_prefix')} {' ; '.join(labels)}" if labels else ""
        return Reply("\n".join(lines), title=message("local_title", region=region),
                     source=source, buttons=tuple(rows), kind="local", intent=place.region.id)

    def _pole_line(self, pole: Pole) -> str:
        """``• Pôle Sud Archer (Drôme) — cité en 2012 et le 19 septembre 2014``."""
        territories = self.content.territories
        names = [d.name for d in (territories.department(c) if territories else None
                                  for c in pole.departments) if d is not None]
        where = f" ({', '.join(names)})" if names else ""
        dates = sorted({s.date for s in pole.sources})
        said = [("le " if len(d) == 10 else "en ") + french_date(d) for d in dates]
        cited = " et ".join([", ".join(said[:-1]), said[-1]] if len(said) > 1 else said)
        return f"• {pole.name}{where} — cité {cited}"

    def welcome(self, name: str = "") -> Reply:
        """The greeting of ``/start``, with the three paths."""
        name = " ".join(name.split())[:40]
        hello = (self.content.message("hello_name", name=name) if name
                 else self.content.message("hello"))
        return Reply(f"{hello}\n{self.content.message('welcome')}", kind="menu", buttons=(
            (Button(self.content.message("btn_ask"), ASK),),
            (Button(self.content.message("btn_diagnostic"), DIAGNOSTIC),),
            (Button(self.content.message("btn_coordination"), COORDINATION),),
        ))

    def help(self) -> Reply:
        return Reply(self.content.message("help"), buttons=self._menu_buttons(), kind="menu")

    def themes(self) -> Reply:
        rows = tuple((Button(t.label, THEME + t.id),) for t in self.content.themes if t.entry_ids)
        return Reply(self.content.message("themes"), buttons=rows, kind="menu")

    def theme(self, theme_id: str) -> Reply:
        theme = self.content.theme(theme_id)
        assert theme is not None
        rows = [(Button(self.content.entries[e].title, ENTRY + e),) for e in theme.entry_ids]
        rows.append((Button(self.content.message("btn_back_to_themes"), THEMES_BACK),))
        return Reply(self.content.message("theme", theme=theme.label), buttons=tuple(rows),
                     kind="menu")

    def glossary(self) -> Reply:
        lines = [self.content.message("glossary"), ""]
        for term in sorted(self.content.glossary, key=lambda t: fold(t.term)):
            lines.append(f"• {term.term} : {term.full}" if term.full else f"• {term.term}")
        lines += ["", self.content.message("glossary_hint")]
        return Reply("\n".join(lines), kind="menu")

    def _suggest(self, entry_ids: tuple[str, ...], *, questionnaire: bool = False) -> Reply:
        rows = [(Button(self.content.entries[e].title, ENTRY + e),) for e in entry_ids]
        if questionnaire and self.interview is not None:
            rows.append((Button(self.content.message("btn_diagnostic"), DIAGNOSTIC),))
        rows.append((Button(self.content.message("btn_none_of_these"), NONE_OF_THESE),))
        return Reply(self.content.message("suggestions"), buttons=tuple(rows), kind="suggest")

    def _fallback(self) -> Reply:
        return Reply(self.content.message("fallback"), buttons=self._fallback_buttons(),
                     kind="fallback")

    def _fallback_buttons(self) -> tuple[tuple[Button, ...], ...]:
        """Never a dead end: the themes, the questionnaire, a regional contact, examples."""
        return ((Button(self.content.message("btn_themes"), THEMES),),
                (Button(self.content.message("btn_diagnostic"), DIAGNOSTIC),),
                (Button(self.content.message("btn_coordination"), COORDINATION),),
                (Button(self.content.message("btn_examples"), HELP),))

    def _menu_buttons(self) -> tuple[tuple[Button, ...], ...]:
        return ((Button(self.content.message("btn_themes"), THEMES),),
                (Button(self.content.message("btn_glossary"), GLOSSARY),))


def _key(user: User) -> str:
    """A user's key in the store (:class:`UserKey` as text)."""
    return str(UserKey.of(user))
