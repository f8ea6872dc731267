"""What a finished qualification questionnaire establishes: the verdict and its reasons.

Built by :mod:`bot.qualification.rules` from the answers and the rules of ``dialogs/``;
rendered as chat messages by the conversation, as a radar chart and a PDF report by
:mod:`bot.qualification.report`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Verdicts, from the best to the farthest from a PTCE.
PTCE = "ptce"
IN_THE_MAKING = "en_devenir"
NOT_YET = "pas_encore"
OUT_OF_SCOPE = "hors_champ"

# Status of one criterion of article 9.
MET = "met"
PARTIAL = "partial"
MISSING = "missing"
UNEXAMINED = "unexamined"  # the questionnaire stopped before reaching it
STATUS_ICON = {MET: "✅", PARTIAL: "⚠️", MISSING: "❌", UNEXAMINED: "➖"}


Words = tuple[tuple[str, str], ...]  # messages of the documents and their text


@dataclass(frozen=True)
class CriterionResult:
    """One criterion (L1–L8) as the answers show it."""

    id: str  # "L1"
    label: str  # "Plusieurs entreprises de l'ESS, à l'origine et au cœur du pôle"
    blocking: bool  # a blocking criterion missing means "not (yet) a PTCE"
    status: str  # MET, PARTIAL, MISSING or UNEXAMINED
    explanation: str  # one line: why this status, in plain French
    quote: str  # the short text it rests on, « … »
    source: str  # where the quote comes from, e.g. "Loi du 31 juillet 2014, article 9"

    @property
    def icon(self) -> str:
        return STATUS_ICON[self.status]


@dataclass(frozen=True)
class ObjectiveScore:
    """One of the nine objectives of the référentiel-inspired profile, scored 0–100."""

    id: str
    label: str  # "Ancrage territorial"
    general: str  # its general objective, "Cultiver et servir le territoire"
    score: int  # 0–100
    examined: bool = True  # enough of the questions that feed it were answered


@dataclass(frozen=True)
class AnswerLine:
    """A question and the answer given, as shown in the recap and the report."""

    section: str
    question: str
    answer: str


@dataclass(frozen=True)
class Result:
    """Everything the founder (and, with consent, the coordination) receives."""

    verdict: str  # PTCE, IN_THE_MAKING, NOT_YET or OUT_OF_SCOPE
    verdict_label: str  # "PTCE en devenir"
    verdict_text: str  # two or three sentences explaining the verdict
    maturity: str  # "Émergent : la coopération a commencé…", or "non examiné"
    criteria: tuple[CriterionResult, ...]
    eligible: bool  # eligible to the State's calls as it stands (decree 2015-431)
    eligibility_text: str  # "oui", or what is missing first (the definition), or not examined
    objectives: tuple[ObjectiveScore, ...]  # the nine, in the référentiel's order
    strengths: tuple[str, ...]  # labels of the strongest objectives, with a word on each
    next_steps: tuple[str, ...]  # concrete next steps for the weakest points
    answers: tuple[AnswerLine, ...]
    project: str  # project name, may be empty
    department: str  # "Drôme (26)", may be empty
    region: str  # "Auvergne-Rhône-Alpes", may be empty
    date: str  # ISO date of the verdict
    version: str  # questionnaire version
    notes: tuple[AnswerLine, ...] = ()  # an adviser's private notes (section, "", note)
    description: str = ""  # the project in the founder's words, may be empty
    coordination: str = ""  # the regional coordination's name, may be empty
    adviser: str = ""  # the adviser's structure, on the adviser's copy only
    # The words of the chart and the report (the dialog's DOCUMENT_MESSAGES, from the YAML),
    # carried with the result to the process that draws them.
    words: Words = ()

    def word(self, key: str, **values: str) -> str:
        """One of :attr:`words`, its ``{placeholders}`` filled with ``values``."""
        text = dict(self.words)[key]
        return text.format(**values) if values else text
