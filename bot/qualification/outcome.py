"""A finished questionnaire's outcome: its result (verdict, criteria, profile, advice,
coordination) and its chart and report — made ahead, sent with the verdict or just after it,
owed after a stop until they are sent, carried by a lead.

:mod:`bot.qualification.interview` asks the questions and words the verdict; this module
makes what it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.content.directory import Directory
from bot.content.territory import Territories
from bot.core.messages import Attachment
from bot.qualification import rules as logic
from bot.qualification.dialog import Dialog
from bot.qualification.report import chart_filename
from bot.qualification.results import AnswerLine, Result
from bot.qualification.session import Session, save
from bot.storage.db import Store

# Makes a result's chart and report (PNG, PDF), possibly in another process.
Render = Callable[[Result], tuple[bytes, bytes]]


class Outcomes:
    """Results of finished questionnaires, and their files."""

    def __init__(self, dialog: Dialog, store: Store, territories: Territories,
                 directory: Directory | None = None) -> None:
        self.dialog = dialog
        self.store = store
        self.territories = territories
        self.directory = directory  # names the regional coordination on the report
        self.m = dialog.messages

    def draw_ahead(self, user_key: str, *, finished: bool,
                   render: Render | None = None) -> None:
        """Draw the chart and write the report of the user's questionnaire in progress (or
        latest finished one) from a read-only snapshot, so that :meth:`result_files` finds
        them ready. Touches no state: meant to run in another thread, outside the core's
        lock, while the core serves other users. ``render`` makes the two files elsewhere
        (another process, which does not hold this one's GIL for half a second)."""
        from bot.qualification.report import (
            draw_result_files,
            keep_result_files,
            kept_result_files,
        )

        row = self.store.session_snapshot(user_key, finished=finished)
        if row is None:
            return
        session = Session.from_row(row)
        result = self.evaluate(session, with_notes=session.driven_by_adviser)
        if not kept_result_files(result):
            keep_result_files(result, *(render or draw_result_files)(result))

    def evaluate(self, session: Session, *, with_notes: bool = False) -> Result:
        """The session's result, with what the report prints around it: project name and
        description, regional coordination, the adviser's notes ``with_notes``."""
        answers = session.answers

        def given(role: str) -> str:
            return str(answers.get(self.dialog.role(role)) or "")

        project = given("project_name") or session.project or ""
        notes = tuple(AnswerLine(section, "", note) for section, note in session.notes)
        result = logic.evaluate(self.dialog, answers, self.territories,
                                skipped=session.skipped, project=project,
                                notes=notes if with_notes else ())
        coordination = ""
        department = self.territories.department(given("department"))
        if department is not None and self.directory is not None:
            regional = self.directory.of_region(department.region.id)
            coordination = regional[0].name if regional else ""
        return replace(result, description=given("description"),
                       coordination=coordination,
                       adviser=session.structure if with_notes else "")

    def result_files(self, session: Session, *, with_notes: bool = False
                     ) -> tuple[Result, bytes, bytes, str]:
        """The session's result, chart (PNG), report (PDF) and report file name; the
        adviser's notes, in a copy marked confidential, only ``with_notes``. Marks the
        session done."""
        result = self.finished(session, with_notes=with_notes)
        return (result, *self._drawn(result))

    def latest_files(self, user_key: str) -> tuple[Attachment, ...]:
        """The chart and report of the user's latest result (what follows a verdict shown
        first); nothing when there is no finished questionnaire."""
        row = self.store.last_done_session(user_key)
        if row is None:
            return ()
        session = Session.from_row(row)
        return self.attachments(self.finished(session, with_notes=session.driven_by_adviser))

    def files_sent(self, user_key: str) -> None:
        """The chart and report that followed the user's latest verdict were sent."""
        row = self.store.last_done_session(user_key)
        if row is not None and row["state"].get("files_pending"):
            session = Session.from_row(row)
            session.files_pending = False
            save(self.store, session)

    def files_owed(self, since: str) -> list[str]:
        """Users whose latest verdict (shown since ``since``, ISO time) still waits for its
        chart and report: the bot stopped before sending them."""
        return [row["user_key"] for row in self.store.db.query(
            "SELECT user_key FROM sessions AS s WHERE status = 'done' AND updated >= ? AND "
            "json_extract(state, '$.files_pending') = 1 AND id = (SELECT id FROM sessions "
            "WHERE user_key = s.user_key AND status = 'done' ORDER BY updated DESC, id DESC "
            "LIMIT 1) ORDER BY updated", [since])]

    def finished(self, session: Session, *, with_notes: bool,
                  files_later: bool = False) -> Result:
        """The session's result; the session marked done with its verdict (and, with
        ``files_later``, as owed its chart and report unless they are made already), in one
        write."""
        from bot.qualification.report import kept_result_files

        result = self.evaluate(session, with_notes=with_notes)
        owed = files_later and not kept_result_files(result)
        if session.status != "done" or session.verdict != result.verdict or owed:
            session.status, session.verdict = "done", result.verdict
            session.region = result.region
            session.files_pending = session.files_pending or owed
            save(self.store, session)
        return result

    @staticmethod
    def _drawn(result: Result) -> tuple[bytes, bytes, str]:
        """The result's chart (PNG), report (PDF) and report file name: kept ones when they
        were made ahead, else made here."""
        from bot.qualification.report import (  # Pillow, fpdf2: imported when needed
            cached_report_pdf,
            radar_png,
            report_filename,
        )

        chart = radar_png(result)
        return chart, cached_report_pdf(result, chart), report_filename(result)

    def attachments(self, result: Result) -> tuple[Attachment, ...]:
        """The chart and the report of ``result`` as a user receives them."""
        chart, report, name = self._drawn(result)
        return (Attachment("photo", chart_filename(result), chart,
                           self.m["result_chart_caption"]),
                Attachment("document", name, report, self.m["result_report_caption"]))

    def summary_text(self, result: Result) -> str:
        """The verdict and criteria in a few lines, for a coordination."""
        lines = [f"Verdict : {result.verdict_label} — {result.maturity}"]
        lines += [f"{c.icon} {c.id} {c.label}" for c in result.criteria]
        lines.append(f"{self.m['result_eligibility']} : {result.eligibility_text}")
        return "\n".join(lines)
