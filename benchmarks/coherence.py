"""Contradictions between a result and the answers it was built from, counted over random
founders: the figure behind the coherence issue, for this code or an older one.

Each founder walks the questionnaire as the engine asks it, answers at random and passes a
question now and then; every result is judged on what a founder reads:

- eligible to the State's calls while the verdict is not PTCE;
- a hint under the verdict about ❌ (or ⚠️) while none is shown, or the reverse;
- a criterion ✅ or ❌ with no answer feeding it (e.g. after an early stop);
- a maturity stage claimed after an early stop that never asked about the cooperation;
- a next step that the answers make pointless (the four of the issue: a shared governance to a
  committee of all members, a research partner to one who ticked research, funding the
  animation to a funded one, reading the charter to a signatory);
- a SCIC carrying the cooperation told it is not yet a legal person.

Only the result's public fields are read, so the same script measures an older checkout:

    python -m benchmarks.coherence [--founders 5000] [--seed 1] [--root PATH]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# Next steps whose advice the answers can make pointless, and the answers that do.
POINTLESS = (
    ("Installer une gouvernance partagée", lambda a: a.get("governance") in ("committee",
                                                                             "formal")),
    ("Approcher un partenaire de recherche", lambda a: "research" in (a.get("partners") or [])),
    ("Planifier le financement de l'animation",
     lambda a: bool({"fees", "authorities", "state", "turnover"}
                    & set(a.get("animation_funding") or []))),
    ("Lire ensemble la charte", lambda a: a.get("charter_known") == "signed"),
)


def founder(dialog: Any, logic: Any, rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """Random answers (and passed questions) in the engine's order."""
    answers: dict[str, Any] = {}
    skipped: list[str] = []
    while (question := logic.next_question(dialog, answers, skipped)) is not None:
        if rng.random() < 0.08:
            skipped.append(question.id)
            continue
        ids = [o.id for o in question.options]
        if question.type == "single":
            answers[question.id] = rng.choice(ids)
        elif question.type == "multi":
            exclusive = [o.id for o in question.options if o.exclusive]
            others = [i for i in ids if i not in exclusive]
            answers[question.id] = ([rng.choice(exclusive)] if exclusive and rng.random() < 0.2
                                    else rng.sample(others, rng.randint(1, len(others))))
        elif question.type == "number":
            answers[question.id] = rng.randint(1, 40)
        elif question.type == "department":
            answers[question.id] = rng.choice(["26", "35", "974", "2A"])
        else:
            answers[question.id] = "Un projet"
    return answers, skipped


def contradictions(dialog: Any, answers: dict[str, Any], result: Any) -> list[str]:
    """What a founder would find contradicting their answers, one label per kind."""
    found = []
    shown = {c.status for c in result.criteria}
    if result.eligible and result.verdict != "ptce":
        found.append("éligible sans être un PTCE")
    if ("❌" in result.verdict_text) != ("missing" in shown):
        found.append("phrase sur les ❌ sans ❌ affiché (ou l'inverse)")
    if ("⚠️" in result.verdict_text) != ("partial" in shown):
        found.append("phrase sur les ⚠️ sans ⚠️ affiché (ou l'inverse)")
    fed = set()
    for question in dialog.questions:
        value = answers.get(question.id)
        if value is None:
            continue
        chosen = value if isinstance(value, list) else [value]
        for option in question.options:
            if option.id in chosen or (question.type == "number" and _in_band(option, value)):
                fed |= set(option.effect.criteria)
        effect = getattr(question, "effect", None)  # a typed answer's own effect
        if effect is not None and question.type in ("text", "department"):
            fed |= set(effect.criteria)
    if any(c.status in ("met", "missing") and c.id not in fed for c in result.criteria):
        found.append("critère ✅/❌ sans réponse qui le renseigne")
    stopped = any(c.status == "unexamined" for c in result.criteria) and \
        logic_stop(dialog, answers)
    if stopped and "duration" not in answers and "non examiné" not in result.maturity:
        found.append("maturité affirmée sans question sur la coopération")
    for prefix, pointless in POINTLESS:
        if pointless(answers) and any(s.startswith(prefix) for s in result.next_steps):
            found.append(f"étape inutile : « {prefix}… »")
    if answers.get("scic_wider") == "wider" and "personne morale" in result.eligibility_text:
        found.append("SCIC dite sans personne morale")
    return found


def _in_band(option: Any, value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    low = option.minimum if option.minimum is not None else float("-inf")
    high = option.maximum if option.maximum is not None else float("inf")
    return low <= number <= high


def logic_stop(dialog: Any, answers: dict[str, Any]) -> bool:
    """An answer that ended the questionnaire early."""
    for question in dialog.questions:
        value = answers.get(question.id)
        chosen = value if isinstance(value, list) else [value]
        if any(o.effect.stop for o in question.options if o.id in chosen):
            return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--founders", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout whose engine and content are measured")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root))
    from bot.content.load import load
    from bot.qualification import rules as logic

    content = load(args.root)
    dialog = content.dialog
    rng = random.Random(args.seed)
    kinds: Counter[str] = Counter()
    touched = 0
    for _ in range(args.founders):
        answers, skipped = founder(dialog, logic, rng)
        result = logic.evaluate(dialog, answers, content.territories, skipped=skipped)
        found = contradictions(dialog, answers, result)
        touched += bool(found)
        kinds.update(found)
    print(f"{args.root} — questionnaire {dialog.version}: {args.founders} founders, "
          f"{touched} results with a contradiction ({100 * touched / args.founders:.1f} %)")
    for kind, count in kinds.most_common():
        print(f"  {count:6d}  {kind}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
