"""Loading and validating the YAML content of ``knowledge/`` and ``dialogs/``.

Everything a domain expert edits is read here, checked, and turned into immutable objects.
:func:`check` returns every problem with its ``file:line``; :func:`load` raises
:class:`ContentError` when there is any, so the assistant never starts on broken content.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import replace
from pathlib import Path

from bot.answers.places import read_places
from bot.answers.steering import read_steering
from bot.content.checker import Checker, ContentError, Problem
from bot.content.directory import read_directory
from bot.content.model import (
    MAX_MENU_DESCRIPTION,
    REQUIRED_MESSAGES,
    TELEGRAM_MESSAGE_LIMIT,
    Content,
    Entry,
    GlossaryTerm,
    Intent,
    Source,
    Theme,
)
from bot.content.territory import read_territories
from bot.content.yamlfile import LineDict, LineList
from bot.core.text import fold
from bot.qualification.dialog import Dialog, read_dialog
from bot.storage import cache

MAX_TITLE = 64
MAX_ID = 40  # keeps "faq:<id>" and "fb:+:<id>" callback data far below Telegram's 64 bytes
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE = re.compile(r"^(?:\d{4}(?:-\d{2}(?:-\d{2})?)?|s\.d\.)$")  # "s.d.": undated page


# --------------------------------------------------------------------------------------------
# Finding the content


def content_root() -> Path:
    """The folder holding ``knowledge/`` and ``dialogs/``.

    ``PTCE_CONTENT_DIR`` wins; otherwise the copy shipped inside the installed package, then
    the repository checkout the package was imported from.
    """
    env = os.environ.get("PTCE_CONTENT_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent  # bot/
    for candidate in (here / "_content", here.parent):
        if (candidate / "knowledge").is_dir():
            return candidate
    raise FileNotFoundError("dossier knowledge/ introuvable (définissez PTCE_CONTENT_DIR)")


# --------------------------------------------------------------------------------------------
# Validation


def check(root: Path | None = None) -> list[Problem]:
    """Every problem of the content under ``root``, as ``file:line: message``; empty if valid."""
    try:
        _build(root or content_root())
    except ContentError as exc:
        return exc.problems
    return []


def load(root: Path | None = None) -> Content:
    """Load and validate the content; raise :class:`ContentError` listing every problem.
    Content already validated in this very form (same files, same code) is read back from
    the cache instead (:mod:`bot.storage.cache`: 20 ms instead of 0.2 s)."""
    root = root or content_root()
    return cache.kept("content", cache.files_key(root, _content_files(root)),
                      lambda: _build(root))


def _content_files(root: Path) -> list[Path]:
    """Every file the content is read from (the YAML and the source texts; not the shipped
    vectors, which :mod:`bot.answers.semantic` reads and checks itself)."""
    return [path for folder in (root / "knowledge", root / "dialogs") if folder.is_dir()
            for path in folder.rglob("*") if path.is_file() and path.suffix != ".npz"]


def _build(root: Path) -> Content:
    c = Checker()
    knowledge = root / "knowledge"
    sources = _read_sources(c, knowledge / "sources.yaml")
    themes = _read_themes(c, knowledge / "themes.yaml")
    entries, entry_lines = _read_faq(c, sorted((knowledge / "faq").glob("*.yaml")), themes,
                                     sources)
    glossary = _read_glossary(c, knowledge / "glossary.yaml", sources, entries, entry_lines)
    sms, synonyms = _read_synonyms(c, knowledge / "synonyms.yaml")
    smalltalk, out_of_scope = _read_smalltalk(c, knowledge / "smalltalk.yaml")
    messages = _read_messages(c, knowledge / "messages.yaml")
    dialog = read_dialog(c, root / "dialogs" / "qualification.yaml")
    territories = read_territories(c, knowledge / "territories.yaml")
    directory = read_directory(c, knowledge / "coordinations.yaml", territories)
    places = read_places(c, knowledge, territories, sources, entries)
    steering = read_steering(c, knowledge / "personas.yaml", entries)
    if not c.unreadable:
        _check_links(c, entries, entry_lines)
        texts = _source_texts(knowledge / "sources")  # read once for both checks
        _check_quotes(c, entries, entry_lines, texts,
                      [*messages.values(), dialog.title if dialog else ""])
        if dialog is not None:
            _check_criteria_quotes(c, dialog, root / "dialogs" / "qualification.yaml", texts)
    _check_rendered_length(c, entries, entry_lines, messages.get("source_prefix", ""))
    _check_question_clashes(c, entries, entry_lines)
    if c.problems:
        raise ContentError(c.problems)
    theme_objs = tuple(
        Theme(tid, label, tuple(e.id for e in entries.values() if e.theme == tid))
        for tid, label in themes.items()
    )
    return Content(root, entries, theme_objs, glossary, smalltalk, out_of_scope, messages,
                   sms, synonyms, dialog, territories, directory, places, steering)


_QUOTE = re.compile(r"«\s*([^«»]+?)\s*»")
_ELISION = re.compile(r"\s*\[?(?:…|\.\.\.)\]?\s*")


def _check_quotes(c: Checker, entries: dict[str, Entry], where: dict[str, tuple[Path, int]],
                  texts: dict[str, str], own_words: list[str]) -> None:
    """Every « quote » of three words or more in an answer is found word for word (spaces,
    apostrophes, case and line breaks aside; « […] » marks a cut) in a text the entry cites
    (a seed, the facts sheet), or is the assistant's own words (a button, the questionnaire's
    title)."""
    if not texts:
        return
    own = "\n".join(_comparable(words) for words in own_words)
    for entry in entries.values():
        cited = [texts[s.ref] for s in entry.sources if s.ref in texts]
        if not cited:
            continue
        for quote in _QUOTE.findall(entry.answer):
            if len(quote.split()) < 3 or _quoted_in(quote, [*cited, own]):
                continue
            path, line = where.get(entry.id, (Path("?"), 0))
            refs = ", ".join(s.ref for s in entry.sources if s.ref in texts)
            c.problems.append(Problem(path, line, f"entrée « {entry.id} » : la citation "
                                                  f"« {quote} » ne se trouve pas mot pour mot "
                                                  f"dans ses sources ({refs})"))


def _check_criteria_quotes(c: Checker, dialog: Dialog, path: Path,
                           texts: dict[str, str]) -> None:
    """The law's words behind each criterion are found word for word in the sources (seed 004
    reproduces article 9 in its annex 1)."""
    if not texts:
        return
    for criterion in dialog.criteria:
        quote = criterion.quote.strip().removeprefix("«").removesuffix("»").strip()
        if _quoted_in(quote, list(texts.values())):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        line = next((n for n, text in enumerate(lines, 1) if f"id: {criterion.id}" in text), 0)
        c.problems.append(Problem(path, line, f"critère « {criterion.id} » : la citation "
                                              f"« {quote} » ne se trouve pas mot pour mot "
                                              "dans les sources"))


def _quoted_in(quote: str, texts: list[str]) -> bool:
    """Each part of ``quote`` (cut at « […] ») is in one of the comparable ``texts``."""
    parts = [_comparable(p) for p in _ELISION.split(quote) if p.strip()]
    return all(any(p in text for text in texts) for p in parts)


def _source_texts(folder: Path) -> dict[str, str]:
    """The cited texts, by reference, as quotes are compared (:func:`_comparable`)."""
    return {ref: _comparable(path.read_text(encoding="utf-8"))
            for ref, path in _source_files(folder).items()}


def _source_files(folder: Path) -> dict[str, Path]:
    """``seed-000`` → ``sources/000_….txt``; ``facts`` → ``sources/ptce-facts.md``."""
    files = {f"seed-{p.name[:3]}": p for p in sorted(folder.glob("[0-9][0-9][0-9]_*.txt"))}
    if (folder / "ptce-facts.md").exists():
        files["facts"] = folder / "ptce-facts.md"
    return files


def _comparable(text: str) -> str:
    """Text as quotes are compared: NFKC, one kind of apostrophe, words cut at a line end
    joined, whitespace collapsed, lower case."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("\u2011", "-")
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1-\2", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def _read_sources(c: Checker, path: Path) -> dict[str, str]:
    data = c.read(path)
    top = c.mapping(data, 1, "sources.yaml") if data is not None else None
    if top is None:
        return {}
    sources = c.mapping(top.get("sources"), top.line_of("sources"), "sources")
    out: dict[str, str] = {}
    for ref, spec in (sources or {}).items():
        spec = c.mapping(spec, sources.line_of(ref), f"source {ref}")  # type: ignore[union-attr]
        if spec is not None:
            out[str(ref)] = c.text(spec, "title", f"source {ref}")
    return out


def _read_themes(c: Checker, path: Path) -> dict[str, str]:
    data = c.read(path)
    top = c.mapping(data, 1, "themes.yaml") if data is not None else None
    if top is None:
        return {}
    out: dict[str, str] = {}
    for line, item in c.items(top, "themes", "themes.yaml"):
        theme = c.mapping(item, line, "thème")
        if theme is not None:
            out[c.text(theme, "id", "thème")] = c.text(theme, "label", "thème", max_len=MAX_TITLE)
    return out


_ENTRY_KEYS = {"id", "title", "questions", "keywords", "answer", "source", "related"}
_SOURCE_KEYS = {"ref", "section", "date", "url"}


def _read_faq(c: Checker, paths: list[Path], themes: dict[str, str],
              sources: dict[str, str]) -> tuple[dict[str, Entry], dict[str, tuple[Path, int]]]:
    entries: dict[str, Entry] = {}
    where: dict[str, tuple[Path, int]] = {}
    if not paths:
        c.error(1, "aucun fichier knowledge/faq/*.yaml")
    for path in paths:
        data = c.read(path)
        top = c.mapping(data, 1, path.name) if data is not None else None
        if top is None:
            continue
        theme = c.text(top, "theme", path.name)
        if theme and theme not in themes:
            c.error(top.line_of("theme"), f"thème inconnu « {theme} » (voir themes.yaml)")
        for line, item in c.items(top, "entries", path.name):
            raw = c.mapping(item, line, "entrée")
            if raw is None:
                continue
            entry = _read_entry(c, raw, theme, sources)
            if entry is None:
                continue
            if entry.id in where:
                other_path, other_line = where[entry.id]
                c.error(raw.line_of("id"),
                        f"identifiant « {entry.id} » en double (déjà dans "
                        f"{other_path.name}:{other_line})")
                continue
            entries[entry.id] = entry
            where[entry.id] = (path, raw.line_of("id"))
    return entries, where


def _read_entry(c: Checker, raw: LineDict, theme: str, sources: dict[str, str]) -> Entry | None:
    entry_id = c.text(raw, "id", "entrée", max_len=MAX_ID)
    what = f"entrée « {entry_id or '?'} »"
    if entry_id and not _ID.match(entry_id):
        c.error(raw.line_of("id"), f"{what} : l'identifiant ne doit contenir que a-z, 0-9 et -")
    c.known_keys(raw, _ENTRY_KEYS, what)
    title = c.text(raw, "title", what, max_len=MAX_TITLE)
    questions = c.texts(raw, "questions", what, minimum=2)
    keywords = c.texts(raw, "keywords", what, required=False)
    answer = c.text(raw, "answer", what)
    related = c.texts(raw, "related", what, required=False)
    source_list = _read_source_refs(c, raw, what, sources)
    if not entry_id:
        return None
    return Entry(entry_id, theme, title, questions, answer, source_list, related, keywords)


def _read_source_refs(c: Checker, raw: LineDict, what: str,
                      sources: dict[str, str]) -> tuple[Source, ...]:
    value = raw.get("source")
    if value is None:
        c.error(raw.line, f"{what} : champ « source » manquant (chaque réponse cite sa source)")
        return ()
    specs = value if isinstance(value, LineList) else [value]
    out = []
    for i, spec in enumerate(specs):
        line = value.line_of(i) if isinstance(value, LineList) else raw.line_of("source")
        spec = c.mapping(spec, line, f"{what}, source")
        if spec is None:
            continue
        c.known_keys(spec, _SOURCE_KEYS, f"{what}, source")
        ref = c.text(spec, "ref", f"{what}, source")
        if ref and ref not in sources:
            c.error(spec.line_of("ref"),
                    f"{what} : source « {ref} » inconnue (voir sources.yaml : "
                    f"{', '.join(sorted(sources))})")
        section = c.text(spec, "section", f"{what}, source", required=False, max_len=120)
        date = c.text(spec, "date", f"{what}, source", required=False) or None
        url = c.text(spec, "url", f"{what}, source", required=False) or None
        if date and not _DATE.match(date):
            c.error(spec.line_of("date"), f"{what} : date « {date} » au format AAAA, AAAA-MM, "
                                          "AAAA-MM-JJ ou s.d. (page non datée) attendue")
            date = None
        if ref == "facts" and not date:
            c.error(spec.line, f"{what} : une source « facts » doit être datée (date: AAAA-MM, "
                               "ou s.d. pour une page non datée)")
        c.source_date(url, date, spec.line_of("date") if date else spec.line)
        out.append(Source(ref, sources.get(ref, ref), section, date, url))
    return tuple(out)


_GLOSSARY_KEYS = {"id", "term", "full", "aliases", "definition", "source", "entry"}


def _read_glossary(c: Checker, path: Path, sources: dict[str, str], entries: dict[str, Entry],
                   where: dict[str, tuple[Path, int]]) -> tuple[GlossaryTerm, ...]:
    """Read the glossary; terms without their own entry become searchable entries.

    Such a term is answered as the entry ``id`` (by default ``gloss-<term>``).
    """
    data = c.read(path)
    top = c.mapping(data, 1, "glossary.yaml") if data is not None else None
    if top is None:
        return ()
    terms = []
    for line, item in c.items(top, "terms", "glossary.yaml"):
        raw = c.mapping(item, line, "terme")
        if raw is None:
            continue
        term = c.text(raw, "term", "terme")
        what = f"terme « {term or '?'} »"
        c.known_keys(raw, _GLOSSARY_KEYS, what)
        full = c.text(raw, "full", what, required=False)
        definition = c.text(raw, "definition", what, max_len=600)
        aliases = c.texts(raw, "aliases", what, required=False)
        entry = c.text(raw, "entry", what, required=False) or None
        if entry and entry not in entries and not c.unreadable:
            c.error(raw.line_of("entry"), f"{what} : l'entrée « {entry} » n'existe pas")
        terms.append(GlossaryTerm(term, definition, full, aliases, entry))
        if entry in entries:
            # "c'est quoi un GE ?" must reach the entry the term points to.
            target = entries[entry]
            extra = [q for q in (term, full, *aliases, f"c'est quoi {term}")
                     if q and q not in target.questions]
            entries[entry] = replace(target, questions=(*target.questions, *extra))
        if entry is None and term:
            gloss_id = c.text(raw, "id", what, required=False, max_len=MAX_ID) \
                or "gloss-" + "-".join(fold(term).split())[: MAX_ID - 6]
            if gloss_id in where:
                c.error(raw.line_of("id"), f"{what} : identifiant « {gloss_id} » déjà utilisé")
                continue
            source_list = _read_source_refs(c, raw, what, sources)
            name = f"{term} ({full})" if full else term
            entries[gloss_id] = Entry(
                id=gloss_id,
                theme="glossaire",
                title=f"Que veut dire « {term} » ?"[:MAX_TITLE],
                questions=tuple(dict.fromkeys(
                    [term, *([full] if full else []), *aliases, f"c'est quoi {term}"])),
                answer=f"{name} : {definition}",
                sources=source_list,
            )
            where[gloss_id] = (path, raw.line)
    return tuple(terms)


def _read_synonyms(c: Checker, path: Path) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    data = c.read(path)
    top = c.mapping(data, 1, "synonyms.yaml") if data is not None else None
    if top is None:
        return {}, {}
    c.known_keys(top, {"sms", "synonyms"}, "synonyms.yaml")
    sms: dict[str, str] = {}
    raw_sms = c.mapping(top.get("sms", LineDict()), top.line_of("sms"), "sms")
    for word, standard in (raw_sms or {}).items():
        if not isinstance(standard, str) or not standard.strip():
            c.error(raw_sms.line_of(word), f"sms : « {word} » doit avoir une orthographe standard")  # type: ignore[union-attr]
        else:
            sms[str(word)] = standard
    synonyms: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    raw_syn = c.mapping(top.get("synonyms"), top.line_of("synonyms"), "synonyms")
    for concept, variants in (raw_syn or {}).items():
        line = raw_syn.line_of(concept)  # type: ignore[union-attr]
        if not isinstance(variants, LineList) or not all(isinstance(v, str) for v in variants):
            c.error(line, f"synonyms : « {concept} » doit être une liste de textes")
            continue
        for variant in [concept, *variants]:
            key = fold(str(variant))
            if key in seen and seen[key] != concept:
                c.error(line, f"synonyms : « {variant} » est déjà un synonyme de « {seen[key]} »")
            seen[key] = str(concept)
        synonyms[str(concept)] = tuple(variants)
    return sms, synonyms


def _read_smalltalk(c: Checker, path: Path) -> tuple[tuple[Intent, ...], tuple[Intent, ...]]:
    data = c.read(path)
    top = c.mapping(data, 1, "smalltalk.yaml") if data is not None else None
    if top is None:
        return (), ()
    groups = []
    for key in ("intents", "out_of_scope"):
        intents = []
        for line, item in c.items(top, key, "smalltalk.yaml"):
            raw = c.mapping(item, line, key)
            if raw is None:
                continue
            intent_id = c.text(raw, "id", key)
            what = f"{key} « {intent_id} »"
            c.known_keys(raw, {"id", "patterns", "replies", "keywords"}, what)
            replies = c.texts(raw, "replies", what, minimum=1)
            for reply in replies:
                try:
                    reply.format(help="")
                except (KeyError, IndexError, ValueError):
                    c.error(raw.line_of("replies"), f"{what} : seul le champ {{help}} est "
                                                    "possible dans une réponse")
            intents.append(Intent(intent_id, c.texts(raw, "patterns", what, minimum=1),
                                  replies, c.texts(raw, "keywords", what, required=False)))
        groups.append(tuple(intents))
    return groups[0], groups[1]


def _read_messages(c: Checker, path: Path) -> dict[str, str]:
    data = c.read(path)
    top = c.mapping(data, 1, "messages.yaml") if data is not None else None
    if top is None:
        return {}
    out: dict[str, str] = {}
    for key, placeholders in REQUIRED_MESSAGES.items():
        text = c.text(top, key, "messages.yaml",
                      max_len=MAX_MENU_DESCRIPTION if key.startswith("menu_") else None)
        try:
            text.format(**{p: "x" for p in placeholders})
        except (KeyError, IndexError, ValueError) as exc:
            c.error(top.line_of(key), f"messages.yaml : « {key} » utilise un champ inconnu {exc} "
                                      f"(champs possibles : {', '.join(placeholders) or 'aucun'})")
        out[key] = text
    return out


def _check_links(c: Checker, entries: dict[str, Entry],
                 where: dict[str, tuple[Path, int]]) -> None:
    for entry in entries.values():
        for rel in entry.related:
            if rel not in entries:
                c.path, line = where[entry.id]
                c.error(line, f"entrée « {entry.id} » : lien « related » cassé vers « {rel} »")
            elif rel == entry.id:
                c.path, line = where[entry.id]
                c.error(line, f"entrée « {entry.id} » : se cite elle-même dans « related »")


def render_entry(entry: Entry, source_prefix: str) -> str:
    """The plain text of an answer as a user reads it: title, answer, source."""
    return f"{entry.title}\n\n{entry.answer}\n\n{source_prefix} {entry.source_line()}"


def _check_rendered_length(c: Checker, entries: dict[str, Entry],
                           where: dict[str, tuple[Path, int]], source_prefix: str) -> None:
    for entry in entries.values():
        size = len(render_entry(entry, source_prefix))
        if size > TELEGRAM_MESSAGE_LIMIT:
            c.path, line = where[entry.id]
            c.error(line, f"entrée « {entry.id} » : la réponse affichée fait {size} caractères, "
                          f"au-delà de la limite Telegram ({TELEGRAM_MESSAGE_LIMIT})")


def _check_question_clashes(c: Checker, entries: dict[str, Entry],
                            where: dict[str, tuple[Path, int]]) -> None:
    owner: dict[str, str] = {}
    for entry in entries.values():
        for question in entry.questions:
            key = fold(question)
            if key in owner and owner[key] != entry.id:
                c.path, line = where[entry.id]
                c.error(line, f"entrée « {entry.id} » : la question « {question} » figure aussi "
                              f"dans « {owner[key]} » (le moteur ne peut pas choisir)")
            owner.setdefault(key, entry.id)
