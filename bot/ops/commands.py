"""What each ``ptce-bot`` command does (:mod:`bot.ops.cli` parses the arguments)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.answers import semantic
from bot.channels import console
from bot.channels.telegram.settings import TOKEN_VARIABLE
from bot.content import load as content_module
from bot.core.conversation import ENTRY, Conversation
from bot.core.messages import Input, Reply, User, UserKey
from bot.core.text import french_datetime
from bot.handoff import leads, outbox
from bot.ops import config as config_module
from bot.ops import logs, tls
from bot.storage import stats as stats_module
from bot.storage.db import Store, default_path


def _existing_store() -> Store:
    """The service's database, for an admin command: never a new empty one (run without the
    service's PTCE_DB, a command would print a code the live bot never accepts)."""
    path = default_path()
    if not path.exists():
        sys.stderr.write(f"Base de données introuvable : {path.resolve()}. Lancez la commande "
                         "avec la variable PTCE_DB du service (voir « Déployer » dans le "
                         "README).\n")
        raise SystemExit(2)
    return Store(path)


def _conversation(*, record: bool = True, store: Store | None = None) -> Conversation:
    """The core on the shipped content and the deployment configuration; exits with a clear
    message when either is invalid."""
    try:
        content, config = config_module.load_all()
    except (content_module.ContentError, config_module.ConfigError) as exc:
        sys.stderr.write(f"Le contenu YAML ou la configuration est invalide :\n{exc}\n")
        raise SystemExit(2) from None
    return Conversation(content, store or Store(), record=record, config=config)


def _default(args: argparse.Namespace) -> int:
    if os.environ.get(TOKEN_VARIABLE, "").strip():
        args.webhook, args.port, args.listen = None, 8443, "0.0.0.0"
        return _run(args)
    sys.stderr.write(
        f"Astuce : définissez {TOKEN_VARIABLE} (jeton donné par @BotFather) pour "
        "connecter l'assistant à Telegram.\n")
    return _chat(args)


def _run(args: argparse.Namespace) -> int:
    # PTB is only imported when Telegram is used.
    from bot.channels.telegram import service
    from bot.channels.telegram.settings import SettingError, Settings

    try:
        settings = Settings.from_env()
    except SettingError as exc:
        sys.stderr.write(f"Variable d'environnement invalide : {exc}\n")
        return 2
    if not settings.token:
        sys.stderr.write(f"{TOKEN_VARIABLE} n'est pas défini : créez un bot avec @BotFather "
                         "et exportez son jeton (voir le README).\n")
        return 2
    try:
        log_format = logs.log_format(args.log_format)
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    # A reload asked for while starting (systemd's ExecReload) must not kill the process:
    # the content being loaded is the newest anyway. The bot handles SIGHUP once it runs.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    logs.setup(log_format)
    tls.prepare()  # built while the content loads
    try:
        content, config = config_module.load_all()
    except (content_module.ContentError, config_module.ConfigError) as exc:
        logging.getLogger(__name__).error(
            "Le contenu YAML ou la configuration est invalide :\n%s", exc)
        return 2
    return service.run(Conversation(content, Store(), config=config), settings,
                        webhook_url=args.webhook, port=args.port, listen=args.listen)


def _chat(args: argparse.Namespace) -> int:
    conversation = _conversation()
    try:
        console.chat(conversation, sys.stdin, _write)
    except KeyboardInterrupt:
        _write("\nAu revoir !\n")
    return 0


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _ask(args: argparse.Namespace) -> int:
    # Maintainers' questions are not users' questions: nothing is recorded.
    conversation = _conversation(record=False, store=Store(":memory:"))
    user = User("cli", "cli")
    if args.batch is None:
        if not args.question:
            sys.stderr.write("Donnez une question, ou --batch FICHIER.\n")
            return 2
        replies = conversation.handle(Input(user, text=args.question))
        print("\n\n".join(_shown(r) for r in replies))
        return 0
    if args.batch == "-":
        lines = sys.stdin
    else:
        try:
            lines = Path(args.batch).open(encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            sys.stderr.write(f"Impossible de lire {args.batch} : {exc.strerror}\n")
            return 2
    with lines:
        for line in lines:
            question = line.strip()
            if not question:
                continue
            replies = conversation.handle(Input(user, text=question))
            print(json.dumps(batch_line(question, replies), ensure_ascii=False))
    return 0


def _shown(reply: Reply) -> str:
    """A reply as a user sees it: its text, then the choices it offers, numbered."""
    choices = _choices(reply)
    if reply.kind != "suggest" or not choices:
        return reply.plain()
    return "\n".join([reply.plain(), *(f"  {n}. {c}" for n, c in enumerate(choices, 1))])


def _choices(reply: Reply) -> list[str]:
    """The entries a "Vouliez-vous dire…" reply offers (not its "none of these" button)."""
    return [b.label for row in reply.buttons for b in row if b.data.startswith(ENTRY)]


def batch_line(question: str, replies: list[Reply]) -> dict[str, object]:
    """One line of ``ask --batch``: what the user sees, and what the assistant decided."""
    first = replies[0] if replies else Reply("")
    status = {"answer": "answer", "local": "answer", "suggest": "suggest",
              "smalltalk": "smalltalk"}.get(first.kind, "none")
    return {"question": question, "reply": "\n\n".join(r.plain() for r in replies),
            "status": status, "entry": first.entry_id or (
                f"local:{first.intent}" if first.kind == "local" else None),
            "choices": _choices(first) if first.kind == "suggest" else []}


def _check(args: argparse.Namespace) -> int:
    try:
        root = content_module.content_root()
    except FileNotFoundError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    problems = content_module.check(root)
    content = None if problems else content_module.load(root)
    # The deployment configuration (PTCE_CONFIG), checked against the directory when valid.
    config_file = config_module.config_path()
    config_problems = []
    if config_file is not None:
        directory = content.directory if content else None
        config_problems = config_module.check_config(config_file, directory)
    for problem in [*problems, *config_problems]:
        print(problem)
    if problems or config_problems:
        print()
    if problems:
        print(f"{len(problems)} problème(s) dans {root}.")
    if config_problems:
        print(f"{len(config_problems)} problème(s) dans {config_file}.")
    if content is None or config_problems:
        return 1
    print(f"Contenu valide : {len(content.entries)} entrées, {len(content.themes)} thèmes, "
          f"{len(content.glossary)} termes de glossaire ({root}).")
    if config_file is not None:
        config = config_module.load_config(config_file, content.directory)
        print(f"Configuration valide : {config_module.summary(config, content.directory)} "
              f"({config_file}).")
        smtp = config.smtp
        if smtp and smtp.password_env and smtp.password() is None:
            print(f"Attention : la variable {smtp.password_env} (mot de passe SMTP) n'est pas "
                  "définie ici.")
    return 0


def _embed(args: argparse.Namespace) -> int:
    """Write ``knowledge/embeddings.npz`` for the current content: the vectors shipped with it,
    so that no start computes them. Texts already embedded are reused."""
    model = semantic.load_model()
    if model is None:
        sys.stderr.write("Le modèle sémantique ne peut pas être chargé sur cette machine.\n")
        return 1
    try:
        content = content_module.load()
    except content_module.ContentError as exc:
        sys.stderr.write(f"Le contenu YAML est invalide :\n{exc}\n")
        return 2
    entries = list(content.entries.values())
    path = semantic.shipped_cache_path()
    known = semantic.read_vectors(path) if path.exists() else {}
    texts = semantic.passages(entries)
    missing = [t for t in texts if t not in known]
    print(f"{len(texts)} textes, {len(missing)} à calculer (environ {len(missing) * 0.04:.0f} s)…")
    known.update(semantic.embed_passages(model, missing))
    semantic.save_vectors(path, {t: known[t] for t in texts})
    print(f"Vecteurs enregistrés : {path}")
    return 0


def _unanswered(args: argparse.Namespace) -> int:
    store = _existing_store()
    rows = store.unanswered(args.limit)
    reasons = store.feedback_reasons()
    if not rows and not reasons:
        print("Aucune question sans réponse enregistrée.")
        return 0
    for row in rows:
        print(f"{row['count']:>5}  [{row['outcome']}]  {row['text']}")
    if reasons:
        labels = {"wrong": "pas la bonne réponse", "incomplete": "incomplète",
                  "unclear": "pas claire"}
        print("\nRéponses jugées insatisfaisantes (👎), par fiche et par raison :")
        for row in reasons:
            print(f"{row['n']:>5}  {row['entry_id']} : {labels.get(row['reason'], row['reason'])}")
    return 0



# --------------------------------------------------------------------------------------------
# Administration of leads (regional coordinations)


def _region(conversation: Conversation, name: str) -> str:
    territories = conversation.content.territories
    region = territories.region_by_name(name) if territories else None
    if region is None:
        sys.stderr.write(f"Région inconnue : « {name} ».\n")
        raise SystemExit(2)
    return region.id


def _invite(args: argparse.Namespace) -> int:
    conversation = _conversation(store=_existing_store())
    directory, desk = conversation.content.directory, conversation.coordinations
    assert directory is not None and desk is not None
    region_id = _region(conversation, args.region)
    coordination = (directory.get(args.coordination) if args.coordination
                    else directory.for_region(region_id))
    if coordination is None or coordination.region_id != region_id:
        sys.stderr.write("Coordination inconnue pour cette région ; possibles : "
                         + ", ".join(c.id for c in directory.of_region(region_id)) + "\n")
        return 2
    code = desk.new_invite(coordination)
    print(f"Code pour {coordination.name} : {code}\n"
          f"La coordination l'envoie au bot depuis sa discussion : /coordination {code}")
    return 0


def _links(args: argparse.Namespace) -> int:
    conversation = _conversation(store=_existing_store())
    rows = leads.links(conversation.store)
    if not rows:
        print("Aucune discussion reliée.")
        return 0
    directory = conversation.content.directory
    for row in rows:
        found = directory.get(row["coordination_id"]) if directory else None
        chat = UserKey.parse(str(row["chat_key"])).chat
        print(f"{chat:>16}  {found.name if found else row['coordination_id']}  "
              f"(reliée le {french_datetime(row['linked_at'])})")
    return 0


def _unlink(args: argparse.Namespace) -> int:
    conversation = _conversation(store=_existing_store())
    if leads.unlink(conversation.store, UserKey("telegram", args.chat.strip()).chat_key):
        print(f"La discussion {args.chat} ne recevra plus de demandes.")
        return 0
    sys.stderr.write(f"La discussion {args.chat} n'est reliée à aucune coordination.\n")
    return 2


def _outbox(args: argparse.Namespace) -> int:
    conversation = _conversation(store=_existing_store())
    rows = outbox.pending(conversation.store)
    if not rows:
        print("Aucun envoi en attente ni en échec.")
        return 0
    for row in rows:
        flag = " [repli]" if row["fallback"] else ""
        print(f"n° {row['id']:>4}  demande {row['lead_id']:>4}  {row['purpose']:<10} "
              f"{row['kind']:<8} {row['status']:<8} essais {row['attempts']}{flag}  "
              f"prochain : {row['next_attempt'][:16]}  {row['last_error'][:60]}")
        if row["status"] == outbox.FAILED and not row["fallback"]:
            print(f"        → {outbox.fallback_state(conversation.store, row)}")
    return 0


def _leads(args: argparse.Namespace) -> int:
    conversation = _conversation(store=_existing_store())
    region_id = _region(conversation, args.region) if args.region else None
    statuses = (leads.NEW, leads.TAKEN, leads.CLOSED, leads.WITHDRAWN)
    rows = leads.region_leads(conversation.store, region_id, statuses)
    if args.csv:
        Path(args.csv).write_bytes(leads.to_csv(rows))
        print(f"{len(rows)} demande(s) exportée(s) dans {args.csv}.")
        return 0
    if not rows:
        print("Aucune demande.")
    for row in rows:
        flag = " [repli]" if row["flagged"] else ""
        print(f"n° {row['id']:>4}  {row['created'][:10]}  {row['region']:<28} "
              f"{row['status']:<15} {row['coordination']}{flag}")
    return 0


def _reroute(args: argparse.Namespace) -> int:
    conversation = _conversation(store=_existing_store())
    directory, territories = conversation.content.directory, conversation.content.territories
    assert directory is not None and territories is not None
    lead = leads.get_lead(conversation.store, args.lead)
    if lead is None:
        sys.stderr.write(f"Demande n° {args.lead} introuvable.\n")
        return 2
    region_id = _region(conversation, args.region)
    coordination = directory.for_region(region_id)
    region = territories.region(region_id)
    leads.reroute(conversation.store, lead["id"], region_id, region.name if region else "",
                  coordination.id, coordination.name)
    channels, fallback = outbox.recipients(conversation.config, conversation.store,
                                           coordination)
    queued = outbox.enqueue(conversation.store, lead["id"], outbox.LEAD, channels,
                            fallback=fallback)
    print(f"Demande n° {lead['id']} confiée à {coordination.name} ({queued} envoi(s) en "
          "attente).")
    return 0


def _purge(args: argparse.Namespace) -> int:
    conversation = _conversation(store=_existing_store())
    count = outbox.Outbox(conversation.store, conversation.config).purge()
    print(f"{count} demande(s) ou questionnaire(s) de plus de "
          f"{conversation.config.retention_days} jours effacé(s).")
    return 0


def _backup(args: argparse.Namespace) -> int:
    target = Path(args.path)
    if target.exists():
        sys.stderr.write(f"{target} existe déjà : choisissez un autre nom.\n")
        return 2
    _existing_store().backup(target)
    print(f"Sauvegarde écrite dans {target}. Pour restaurer : arrêtez le bot, copiez ce "
          "fichier à la place de la base (PTCE_DB), redémarrez.")
    return 0


def _stats(args: argparse.Namespace) -> int:
    figures = stats_module.figures(_existing_store())
    print("\n".join(stats_module.text_lines(figures)))
    if args.chart:
        target = Path(args.chart)
        try:
            target.write_bytes(stats_module.chart_png(figures, date.today()))
        except OSError as exc:
            sys.stderr.write(f"Impossible d'écrire {target} : {exc.strerror}\n")
            return 2
        print(f"Graphique enregistré dans {target}.")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": _run,
    "chat": _chat,
    "ask": _ask,
    "check": _check,
    "embed": _embed,
    "unanswered": _unanswered,
    "invite": _invite,
    "outbox": _outbox,
    "links": _links,
    "unlink": _unlink,
    "leads": _leads,
    "reroute": _reroute,
    "backup": _backup,
    "stats": _stats,
    "purge": _purge,
    "default": _default,
}
