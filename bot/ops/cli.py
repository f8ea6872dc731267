"""The ``ptce-bot`` command line: its arguments, and which command runs.

``ptce-bot`` alone starts the Telegram bot when ``TELEGRAM_BOT_TOKEN`` is set, the console chat
otherwise. ``run`` (Telegram, polling or webhook), ``chat``, ``ask``, ``check`` and
``unanswered`` serve users and maintainers; the commands themselves are in
:mod:`bot.ops.commands`.

This module imports nothing heavy: the drawing process that multiprocessing starts imports the
program's main module again (here, the ``ptce-bot`` script and this module), and should not
load the bot's answers, model and storage for nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bot.ops import logs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    from bot.ops.commands import COMMANDS  # the bot's modules: imported once a command runs

    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        # The reader went away (`ptce-bot ask … | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ptce-bot",
        description="Assistant sur les pôles territoriaux de coopération économique (PTCE).",
    )
    parser.set_defaults(command="default")
    log_help = (f"journaux du bot Telegram : texte lisible (défaut) ou une ligne JSON par "
                f"événement (aussi : variable {logs.FORMAT_VARIABLE})")
    parser.add_argument("--log-format", choices=logs.FORMATS, help=log_help)
    sub = parser.add_subparsers(title="commandes", metavar="COMMANDE")

    p = sub.add_parser("run", help="démarrer le bot Telegram (TELEGRAM_BOT_TOKEN requis)")
    p.add_argument("--webhook", metavar="URL",
                   help="recevoir les messages par webhook à cette adresse publique (https) "
                        "au lieu du long polling")
    p.add_argument("--port", type=int, default=8443,
                   help="port local du webhook (défaut : 8443)")
    p.add_argument("--listen", default="0.0.0.0", help="adresse locale du webhook")
    # SUPPRESS: `ptce-bot --log-format json run` must not be reset by this subcommand.
    p.add_argument("--log-format", choices=logs.FORMATS, default=argparse.SUPPRESS,
                   help=log_help)
    p.set_defaults(command="run")

    p = sub.add_parser("chat", help="discuter avec l'assistant dans le terminal")
    p.set_defaults(command="chat")

    p = sub.add_parser("ask", help="poser une question et afficher la réponse")
    p.add_argument("question", nargs="?", help="la question, entre guillemets")
    p.add_argument("--batch", metavar="FICHIER",
                   help="une question par ligne (- pour l'entrée standard) ; "
                        "une ligne JSON par réponse")
    p.set_defaults(command="ask")

    p = sub.add_parser("check", help="valider les fichiers YAML du contenu")
    p.set_defaults(command="check")

    p = sub.add_parser("embed", help="calculer les vecteurs sémantiques des fiches et les "
                                     "enregistrer à côté du contenu (après une modification)")
    p.set_defaults(command="embed")

    p = sub.add_parser("unanswered", help="questions restées sans réponse, les plus fréquentes "
                                          "d'abord")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(command="unanswered")

    p = sub.add_parser("invite", help="code d'invitation à usage unique pour relier la "
                                      "discussion Telegram d'une coordination")
    p.add_argument("--region", required=True, help="nom de la région (ex. « Bretagne »)")
    p.add_argument("--coordination", help="identifiant de la coordination, si la région en a "
                                          "plusieurs")
    p.set_defaults(command="invite")

    p = sub.add_parser("outbox", help="envois en attente ou en échec (demandes, rappels)")
    p.set_defaults(command="outbox")

    p = sub.add_parser("links", help="discussions Telegram reliées à une coordination")
    p.set_defaults(command="links")

    p = sub.add_parser("unlink", help="délier une discussion de sa coordination")
    p.add_argument("chat", help="identifiant de la discussion (voir ptce-bot links)")
    p.set_defaults(command="unlink")

    p = sub.add_parser("leads", help="demandes de mise en relation, par région")
    p.add_argument("--region", help="nom de la région ; toutes par défaut")
    p.add_argument("--csv", metavar="FICHIER", help="exporter en CSV dans ce fichier")
    p.set_defaults(command="leads")

    p = sub.add_parser("reroute", help="envoyer une demande à la coordination d'une autre "
                                       "région")
    p.add_argument("lead", type=int, help="numéro de la demande")
    p.add_argument("--region", required=True)
    p.set_defaults(command="reroute")

    p = sub.add_parser("backup", help="copier la base SQLite (sans arrêter le bot)")
    p.add_argument("path", help="fichier de destination")
    p.set_defaults(command="backup")

    p = sub.add_parser("stats", help="chiffres d'usage : utilisateurs, questions, "
                                     "questionnaires, verdicts, demandes par région")
    p.add_argument("--chart", metavar="FICHIER.png",
                   help="dessiner aussi ces chiffres dans une image PNG")
    p.set_defaults(command="stats")

    p = sub.add_parser("purge", help="effacer les données personnelles plus anciennes que la "
                                     "durée de conservation")
    p.set_defaults(command="purge")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
