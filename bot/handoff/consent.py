"""Putting a founder in touch with their regional coordination — only with their consent.

The founder sees who will receive what, why, for how long and how to withdraw, and says yes
or no with a button. Only after a yes are contact details asked (validated), then confirmed;
the lead is committed with its consent record (text version, time, recipient) and queued for
delivery in the same step. A no, or a cancel, leaves nothing behind.

``/mes_donnees`` and ``/oublier`` live here too: what is kept about a user, and its erasure.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from bot.content.directory import Coordination, Directory
from bot.content.territory import Territories, parse_department
from bot.core.messages import Attachment, Button, Reply, UserKey
from bot.core.text import clean_field, french_date, valid_email
from bot.handoff import leads as lead_store
from bot.handoff import outbox
from bot.ops.config import Config
from bot.qualification.interview import Interview
from bot.qualification.session import SESSION_STATUS, Session
from bot.storage.db import Store, now

# Button data ("k…": contact)
PICK_DEPARTMENT = "kd:"  # kd:<code>
CONSENT_YES, CONSENT_NO = "ky", "kn"
SKIP = "ks"
PREFERRED = "kp:"  # kp:email | kp:phone | kp:telegram
SEND, FIX, CANCEL = "kok", "kfix", "kx"
MAX_MESSAGE = 1000  # the founder's own words to the coordination
FORGOTTEN = "forgotten"  # the intent of the reply to /oublier: channels erase their files too
FORGET_YES, FORGET_NO = "kfy", "kfn"
EXACT = (CONSENT_YES, CONSENT_NO, SKIP, SEND, FIX, CANCEL, FORGET_YES, FORGET_NO)
PREFIXES = (PICK_DEPARTMENT, PREFERRED)
MAX_FIELD = 200




def valid_phone(text: str) -> str | None:
    """A French number as ``06 12 34 56 78`` (also from +33 / 0033 forms), or an
    international one kept with its ``+``; None if it is not a phone number."""
    digits = re.sub(r"[\s.\-()]", "", text.strip())
    if digits.startswith("0033"):
        digits = "+33" + digits[4:]
    if re.fullmatch(r"\+33[1-9]\d{8}", digits):
        digits = "0" + digits[3:]
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        return " ".join(digits[i:i + 2] for i in range(0, 10, 2))
    if re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        return digits
    return None


class Handoff:
    """The founder's side of the hand-off, and their data rights."""

    def __init__(self, interview: Interview, directory: Directory, config: Config,
                 territories: Territories) -> None:
        self.interview = interview
        self.store: Store = interview.store
        self.directory = directory
        self.config = config
        self.territories = territories
        self.m = interview.m

    # ----------------------------------------------------------------------------------------
    # State

    def state(self, user_key: str) -> dict[str, Any] | None:
        row = next(self.store.db.query("SELECT state FROM handoffs WHERE user_key = ?",
                                       [user_key]), None)
        return json.loads(row["state"]) if row else None

    def _save(self, user_key: str, state: dict[str, Any]) -> None:
        with self.store.db.atomic():
            self.store.db.table("handoffs").upsert({"user_key": user_key, "state": json.dumps(
                state, ensure_ascii=False), "updated": now()}, pk="user_key")

    def _drop(self, user_key: str) -> None:
        with self.store.db.atomic():
            self.store.db.execute("DELETE FROM handoffs WHERE user_key = ?", [user_key])

    def in_progress(self, user_key: str) -> bool:
        return self.state(user_key) is not None

    # ----------------------------------------------------------------------------------------
    # Entry points

    def start(self, user_key: str, *, private: bool = True) -> list[Reply]:
        """"Contacter ma coordination régionale": from the menu or after a verdict."""
        if not private:
            return [Reply(self.m["handoff_group"], kind="info")]
        session = self._last_result(user_key)
        answer = session.answers.get(self.interview.dialog.role("department")) if session else ""
        department = str(answer or "")
        state: dict[str, Any] = {"step": "department", "session_id": session.id if session
                                 else None}
        if department and self.territories.department(department):
            state["department"] = department
            return self._consent(user_key, state)
        self._save(user_key, state)
        return [self._ask_department()]

    def resume(self, user_key: str) -> list[Reply]:
        """``/reprendre`` during a hand-off (after a pause, or when a reply went missing): the
        step that waits for an answer, asked again."""
        state = self.state(user_key)
        if state is None:
            return []
        return [Reply(self.m["handoff_resumed"], kind="info"), *self._ask(user_key, state)]

    def _ask_department(self) -> Reply:
        return Reply(self.m["handoff_ask_department"], kind="question", expects_text=True,
                     buttons=((Button(self.m["btn_cancel"], CANCEL),),))

    def text(self, user_key: str, text: str, contact_phone: str | None = None) -> list[Reply]:
        """A typed answer (or a shared Telegram contact) during the hand-off."""
        state = self.state(user_key)
        if state is None:
            return []
        step = state["step"]
        if step == "department":
            found = parse_department(text, self.territories)
            outside = self.territories.outside_region(text) if not found else None
            if outside is not None:
                return [Reply(self.m["handoff_outside_region"].format(name=outside.name),
                              kind="error", expects_text=True)]
            if not found:
                return [Reply(self.m["invalid_department"], kind="error", expects_text=True)]
            rows = tuple((Button(d.label(), f"{PICK_DEPARTMENT}{d.code}"),) for d in found)
            return [Reply(self.m["confirm_department"], kind="question",
                          buttons=(*rows, (Button(self.m["btn_cancel"], CANCEL),)))]
        if step in ("name", "structure"):
            value = clean_field(text, MAX_FIELD).replace("\n", " ")
            if not value:
                return [Reply(self.m["handoff_invalid_text"], kind="error", expects_text=True)]
            state[step] = value
            state["step"] = "structure" if step == "name" else "email"
            return self._ask(user_key, state)
        if step == "message":
            value = clean_field(text, MAX_MESSAGE)
            if not value:
                return [Reply(self.m["handoff_invalid_message"].format(max=MAX_MESSAGE),
                              kind="error", expects_text=True)]
            state["message"] = value
            state["step"] = "confirm"
            return self._ask(user_key, state)
        if step == "email":
            email = valid_email(text)
            if email is None:
                return [Reply(self.m["handoff_invalid_email"], kind="error",
                              expects_text=True)]
            state["email"], state["step"] = email, "phone"
            return self._ask(user_key, state)
        if step == "phone":
            phone = valid_phone(contact_phone or text)
            if phone is None:
                return [Reply(self.m["handoff_invalid_phone"], kind="error",
                              expects_text=True)]
            state["phone"], state["step"] = phone, "preferred"
            return self._ask(user_key, state)
        return self._ask(user_key, state)  # a button was expected: show it again

    def button(self, user_key: str, data: str, *, username: str = "") -> list[Reply]:
        if data == FORGET_YES:
            return self.forget(user_key)
        if data == FORGET_NO:
            return [Reply(self.m["forget_kept"], kind="info")]
        state = self.state(user_key)
        if state is None:
            return [Reply(self.m["handoff_none"], kind="error")]
        if data == CANCEL:
            self._drop(user_key)
            return [Reply(self.m["handoff_cancelled"], kind="info")]
        step = state["step"]
        if step == "department" and data.startswith(PICK_DEPARTMENT):
            code = data[len(PICK_DEPARTMENT):]
            if self.territories.department(code):
                state["department"] = code
                return self._consent(user_key, state)
        if step == "consent" and data == CONSENT_NO:
            self._drop(user_key)
            return [Reply(self.m["handoff_refused"], kind="info")]
        if step == "consent" and data == CONSENT_YES:
            state.update(step="name", consent_at=now(),
                         consent_version=self.m["handoff_consent_version"],
                         telegram=_telegram_reach(user_key, username))
            return self._ask(user_key, state)
        if step in ("email", "phone") and data == SKIP:
            state["step"] = "phone" if step == "email" else "preferred"
            if state["step"] == "preferred" and not (state.get("email") or state.get("phone")):
                state["step"] = "email"
                self._save(user_key, state)
                return [Reply(self.m["handoff_need_one"], kind="error"),
                        *self._ask(user_key, state)]
            return self._ask(user_key, state)
        if step == "preferred" and data.startswith(PREFERRED):
            state["preferred"] = data[len(PREFERRED):]
            state["step"] = "message"
            return self._ask(user_key, state)
        if step == "message" and data == SKIP:
            state["step"] = "confirm"
            return self._ask(user_key, state)
        if step == "confirm" and data == FIX:
            state["step"] = "name"
            return self._ask(user_key, state)
        if step == "confirm" and data == SEND:
            return self._send(user_key, state)
        return self._ask(user_key, state)

    # ----------------------------------------------------------------------------------------
    # Steps

    def recipient(self, coordination: Coordination) -> str:
        """Who will really receive a lead for ``coordination``, as a sentence names it: the
        coordination when it has a channel (configured or linked), else the national
        fallback."""
        _, fallback = outbox.recipients(self.config, self.store, coordination)
        return self.config.fallback_name if fallback else coordination.named

    def _consent(self, user_key: str, state: dict[str, Any]) -> list[Reply]:
        department = self.territories.department(state["department"])
        assert department is not None
        coordination = self.directory.for_region(department.region.id)
        state.update(step="consent", region_id=department.region.id,
                     coordination_id=coordination.id)
        self._save(user_key, state)
        what = self.m["handoff_what_result" if state.get("session_id") else
                      "handoff_what_nothing"]
        text = self.m["handoff_consent"].format(
            recipient=self.recipient(coordination), region=department.region.name, what=what,
            days=self.config.retention_days)
        if _telegram_chat(user_key):
            text = _insert_before_question(text, self.m["handoff_consent_telegram"])
        if self.config.controller:
            text = _insert_before_question(text, self.m["handoff_controller"].format(
                controller=self.config.controller))
        return [Reply(text, kind="question", buttons=(
            (Button(self.m["btn_consent_yes"], CONSENT_YES),),
            (Button(self.m["btn_consent_no"], CONSENT_NO),)))]

    def _ask(self, user_key: str, state: dict[str, Any]) -> list[Reply]:
        """Ask the current step, whatever it is (an unexpected input asks it again)."""
        self._save(user_key, state)
        step = state["step"]
        if step == "department":
            return [self._ask_department()]
        if step == "consent":
            return self._consent(user_key, state)
        cancel = (Button(self.m["btn_cancel"], CANCEL),)
        skip = (Button(self.m["btn_skip_field"], SKIP),)
        if step == "name":
            return [Reply(self.m["handoff_ask_name"], kind="question", expects_text=True,
                          buttons=(cancel,))]
        if step == "structure":
            return [Reply(self.m["handoff_ask_structure"], kind="question", expects_text=True,
                          buttons=(cancel,))]
        if step == "email":
            return [Reply(self.m["handoff_ask_email"], kind="question", expects_text=True,
                          buttons=(skip, cancel))]
        if step == "phone":
            return [Reply(self.m["handoff_ask_phone"], kind="question", expects_text=True,
                          buttons=(skip, cancel), request_contact=self.m["btn_share_phone"])]
        if step == "message":
            return [Reply(self.m["handoff_ask_message"], kind="question", expects_text=True,
                          buttons=(skip, cancel))]
        if step == "preferred":
            options = [("email", "btn_pref_email")] if state.get("email") else []
            options += [("phone", "btn_pref_phone")] if state.get("phone") else []
            options.append(("telegram", "btn_pref_telegram"))
            rows = tuple((Button(self.m[key], f"{PREFERRED}{value}"),) for value, key in options)
            return [Reply(self.m["handoff_ask_preferred"], kind="question",
                          buttons=(*rows, cancel))]
        coordination = self.directory.get(state["coordination_id"])
        text = self.m["handoff_confirm"].format(
            recipient=self.recipient(coordination) if coordination else "",
            name=state.get("name", ""),
            structure=state.get("structure", ""), email=state.get("email") or "—",
            phone=state.get("phone") or "—", preferred=self._preferred_label(state),
            message=state.get("message") or "—")
        return [Reply(text, kind="question", buttons=(
            (Button(self.m["btn_send"], SEND),), (Button(self.m["btn_fix"], FIX),), cancel))]

    def _preferred_label(self, state: dict[str, Any]) -> str:
        key = {"email": "btn_pref_email", "phone": "btn_pref_phone",
               "telegram": "btn_pref_telegram"}.get(state.get("preferred", ""), "")
        return self.m[key] if key else ""

    def _send(self, user_key: str, state: dict[str, Any]) -> list[Reply]:
        """Commit the lead with its consent and queue its deliveries, in one step."""
        department = self.territories.department(state["department"])
        coordination = self.directory.get(state["coordination_id"])
        assert department is not None and coordination is not None
        lead: dict[str, Any] = {
            "user_key": user_key, "chat_id": _telegram_chat(user_key),
            "region_id": department.region.id, "region": department.region.name,
            "department": department.label(), "coordination_id": coordination.id,
            "coordination": coordination.name, "project": "", "verdict": "", "summary": "",
            "contact": {"name": state["name"], "structure": state["structure"],
                        "email": state.get("email") or "", "phone": state.get("phone") or "",
                        "preferred": self._preferred_label(state),
                        "telegram": state.get("telegram") or "",
                        "message": state.get("message") or ""},
            "consent_version": state["consent_version"], "consent_at": state["consent_at"],
            "consent_recipient": coordination.name, "report": None, "report_name": "",
            "chart": None,
        }
        session = self._last_result(user_key)
        if session is not None and session.id == state.get("session_id"):
            result, chart, report, name = self.interview.outcomes.result_files(session)
            lead.update(project=result.project, verdict=result.verdict_label,
                        summary=self.interview.outcomes.summary_text(result), report=report,
                        report_name=name, chart=chart)
        channels, fallback = outbox.recipients(self.config, self.store, coordination)
        lead["flagged"] = int(fallback)
        lead["consent_recipient"] = self.config.fallback_name if fallback else coordination.name
        # One transaction: a crash leaves either no lead and the hand-off to confirm again,
        # or the lead, its deliveries, its receipt and no hand-off — never a lead that could
        # be sent twice, nor one whose founder is never told.
        with self.store.transaction():
            number = lead_store.create_lead(self.store, lead)
            outbox.enqueue(self.store, number, outbox.LEAD, channels, fallback=fallback)
            receipt = self.m["handoff_receipt"].format(
                number=number, recipient=self.recipient(coordination),
                date=french_date(date.today().isoformat()))
            settles = None
            if lead["chat_id"]:  # shown now; sent by the outbox if the process dies first
                settles = outbox.enqueue_notice(self.store, number, lead["chat_id"], receipt,
                                                delay=RECEIPT_GRACE)
            self._drop(user_key)
        return [Reply(receipt, kind="info", settles=settles)]

    def _last_result(self, user_key: str) -> Session | None:
        row = self.store.last_done_session(user_key)
        return Session.from_row(row) if row else None

    # ----------------------------------------------------------------------------------------
    # Data rights

    def my_data(self, user_key: str, *, private: bool = True) -> list[Reply]:
        """Everything stored about the user, shown and attached as a JSON file — only in a
        private chat, never where other members would see it."""
        if not private:
            return [Reply(self.m["my_data_group"], kind="info")]
        data = self._collect(user_key)
        if not any(data.values()):
            return [Reply(self.m["my_data_nothing"], kind="info")]
        lines = [self.m["my_data_intro"], ""]
        if data["utilisateur"]:
            user = data["utilisateur"][0]
            lines.append(f"• Premier message : {french_date(user['first_seen'])}, dernier : "
                         f"{french_date(user['last_seen'])}")
        for session in data["questionnaires"]:
            status = SESSION_STATUS.get(session["status"], session["status"])
            lines.append(f"• Questionnaire du {french_date(session['created'])} ({status}) :"
                         f" {len(session['reponses'])} réponses")
        for lead in data["demandes"]:
            contact = lead["contact"]
            status = lead_store.status_label(lead["status"])
            lines.append(f"• Demande n° {lead['id']} à {lead['coordination']} "
                         f"({status}) : {contact.get('name', '')}, "
                         f"{contact.get('email') or contact.get('phone') or ''}")
        if data["mise_en_relation_en_cours"]:
            lines.append("• Une mise en relation en cours de saisie")
        payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
        return [Reply("\n".join(lines), kind="info", attachments=(
            Attachment("document", "mes-donnees-assistant-ptce.json", payload,
                       self.m["my_data_caption"]),))]

    def _collect(self, user_key: str) -> dict[str, list[Any]]:
        channel, user_id = _channel_and_id(user_key)
        # An adviser's private notes are the adviser's data: they are shown to the adviser,
        # never to the founder who claimed the session.
        sessions = [
            {"created": r["created"], "status": r["status"], "projet": r["project"],
             "verdict": r["verdict"], "reponses": json.loads(r["state"]).get("answers", {}),
             **({"notes": json.loads(r["state"]).get("notes", [])}
                if r["adviser_key"] == user_key else {})}
            for r in self.store.db.query(
                "SELECT * FROM sessions WHERE user_key = ? OR adviser_key = ?",
                [user_key, user_key])]
        leads = [{k: v for k, v in lead.items() if k not in ("report", "chart", "user_key")}
                 for lead in lead_store.user_leads(self.store, user_key)]
        users = list(self.store.db.query(
            "SELECT first_seen, last_seen, active FROM users WHERE channel = ? AND "
            "user_id = ?", [channel, user_id]))
        advisers = list(self.store.db.query(
            "SELECT structure, created FROM advisers WHERE user_key = ?", [user_key]))
        state = self.state(user_key)
        pending = [state] if state else []
        return {"utilisateur": users, "conseiller": advisers, "questionnaires": sessions,
                "demandes": leads, "mise_en_relation_en_cours": pending}

    def ask_forget(self, *, private: bool = True) -> list[Reply]:
        """``/oublier``: confirm first (in a private chat only, like ``/mes_donnees``)."""
        if not private:
            return [Reply(self.m["my_data_group"], kind="info")]
        return [Reply(self.m["forget_confirm"], kind="question", buttons=(
            (Button(self.m["btn_forget_yes"], FORGET_YES),),
            (Button(self.m["btn_forget_no"], FORGET_NO),)))]

    def forget(self, user_key: str) -> list[Reply]:
        """Erase the user's data; delivered leads are withdrawn and their coordinations told."""
        withdrawn = lead_store.withdraw(self.store, user_key)
        for lead in withdrawn:
            if lead["status"] == lead_store.WITHDRAWN:
                continue
            coordination = self.directory.get(lead["coordination_id"])
            if coordination is not None:
                channels, fallback = outbox.recipients(self.config, self.store, coordination)
                outbox.enqueue(self.store, lead["id"], outbox.WITHDRAWAL, channels,
                               fallback=fallback)
        channel, user_id = _channel_and_id(user_key)
        with self.store.db.atomic():
            db = self.store.db
            db.execute("DELETE FROM sessions WHERE user_key = ?", [user_key])
            db.execute("UPDATE sessions SET adviser_key = NULL WHERE adviser_key = ?",
                       [user_key])
            db.execute("DELETE FROM handoffs WHERE user_key = ?", [user_key])
            db.execute("DELETE FROM advisers WHERE user_key = ?", [user_key])
            db.execute("DELETE FROM users WHERE channel = ? AND user_id = ?", [channel, user_id])
            db.execute("DELETE FROM deliveries WHERE purpose = ? AND target = ? AND status = ?",
                       [outbox.NOTICE, user_id, outbox.PENDING])
        self.store.erase_traces()
        count = sum(1 for lead in withdrawn if lead["status"] != lead_store.WITHDRAWN)
        extra = " " + self.m["forget_withdrawn"].format(count=count) if count else ""
        text = self.m["forget_done"].format(withdrawn=extra)
        if self.coordination_link(user_key):
            text += "\n\n" + self.m["forget_coordination_link"]
        return [Reply(text, kind="info", intent=FORGOTTEN)]

    def coordination_link(self, user_key: str) -> bool:
        """True when the user's chat is linked to a coordination: the link belongs to the
        coordination, not to the person, and is not erased by ``/oublier``."""
        return lead_store.is_linked(self.store, UserKey.parse(user_key).chat_key)


RECEIPT_GRACE = 60.0  # seconds before the outbox sends a receipt the chat did not confirm


def _insert_before_question(text: str, line: str) -> str:
    """``line`` added to the consent screen, before its closing question."""
    body, sep, question = text.rpartition("\n\n")
    return f"{body}\n{line}{sep}{question}" if sep else f"{text}\n{line}"


def _telegram_reach(user_key: str, username: str) -> str:
    """How a coordination can write to a Telegram founder: their @username, else a link to
    their account; "" on other channels."""
    chat = _telegram_chat(user_key)
    if not chat:
        return ""
    return f"@{username}" if username else f"tg://user?id={chat}"


def _telegram_chat(user_key: str) -> str:
    """The private chat to notify a Telegram founder in; empty for other channels."""
    key = UserKey.parse(user_key)
    return key.chat if key.telegram_chat is not None and not key.member else ""


def _channel_and_id(user_key: str) -> tuple[str, str]:
    """The channel and the user's id in it, as the ``users`` table holds them."""
    user = UserKey.parse(user_key).user
    return user.channel, user.id
