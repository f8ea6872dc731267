"""The `ptce-bot` command, run as a user runs it: a real process, a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bot.storage.db import Store
from tests.support.documents import as_read, pdf_text
from tests.support.processes import COMMAND


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    environ.update(env or {})
    result = subprocess.run([*COMMAND, *args], input=stdin, capture_output=True, text=True,
                            env=environ, cwd=cwd, timeout=60, encoding="utf-8")
    result.stdout = as_read(result.stdout)  # the typed text, as a reader sees it
    return result


@pytest.fixture
def db_env(tmp_path: Path) -> dict[str, str]:
    return {"PTCE_DB": str(tmp_path / "ptce.sqlite3")}


def test_ask_prints_the_answer_and_its_source():
    result = run("ask", "c koi un ptce")
    assert result.returncode == 0
    assert "Source :" in result.stdout
    assert "PTCE" in result.stdout


def test_ask_declines_an_off_topic_question():
    result = run("ask", "c'est quoi pôle emploi ?")
    assert result.returncode == 0
    assert "France Travail" in result.stdout
    assert "Source :" not in result.stdout


def test_ask_batch_prints_one_json_object_per_question(tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("c koi un ptce\n\nquel temps fait-il\nbonjour\n", encoding="utf-8")
    result = run("ask", "--batch", str(questions))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["c koi un ptce", "quel temps fait-il",
                                                     "bonjour"]
    assert "Source :" in lines[0]["reply"]
    assert "Source :" not in lines[1]["reply"]
    assert lines[2]["reply"].startswith("Bonjour")


def test_ask_batch_says_what_was_decided_and_shows_the_choices(tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("quel statut juridique pour un ptce ?\nptce état\nbjr merci bcp\n"
                         "azeqsd\n", encoding="utf-8")
    result = run("ask", "--batch", str(questions))
    answer, choices, thanks, nothing = [json.loads(x) for x in result.stdout.splitlines()]
    assert answer["status"] == "answer" and answer["entry"] == "def-statut-juridique"
    assert answer["reply"].startswith("Quelle forme juridique pour un PTCE ?")
    assert choices["status"] == "suggest" and choices["entry"] is None
    assert len(choices["choices"]) == 3 and all("État" in c for c in choices["choices"])
    assert "Aucune de ces questions" not in choices["choices"]
    assert thanks["status"] == "smalltalk"
    assert nothing["status"] == "none" and nothing["choices"] == []


def test_ask_prints_the_choices_a_user_would_see():
    result = run("ask", "ptce état")
    assert "Vouliez-vous dire :" in result.stdout
    assert "  1. " in result.stdout and "  3. " in result.stdout


def test_unanswered_shows_why_answers_were_disliked(db_env):
    from bot.storage.db import Store

    store = Store(db_env["PTCE_DB"])
    store.record_unanswered("c koi un ptce", "c koi un ptce", "👎 Incomplète → def-ptce")
    store.record_feedback_reason("telegram", "def-ptce", "incomplete")
    store.db.close()
    result = run("unanswered", env=db_env)
    assert "[👎 Incomplète → def-ptce]  c koi un ptce" in result.stdout
    assert "def-ptce : incomplète" in result.stdout


def test_ask_batch_reads_standard_input():
    result = run("ask", "--batch", "-", stdin="un GE peut il etre un ptce\n")
    (line,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert "groupement" in line["reply"].lower()


def test_ask_batch_with_a_missing_file_says_so():
    result = run("ask", "--batch", "/nulle/part.txt")
    assert result.returncode == 2
    assert "Impossible de lire" in result.stderr


def test_without_token_the_console_chat_starts_with_a_hint(db_env):
    result = run(stdin="c koi un ptce\n/quitter\n", env=db_env)
    assert result.returncode == 0
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Bonjour" in result.stdout and "Source :" in result.stdout
    assert "Au revoir" in result.stdout


def test_console_buttons_answer_to_their_number_and_label(db_env):
    # Welcome → "Poser une question" → the theme list → a theme (by label) → its first question.
    result = run("chat", stdin="1\n1\nDéfinition\n1\n", env=db_env)
    assert result.returncode == 0
    assert "Je vous écoute" in result.stdout
    assert "Choisissez un thème" in result.stdout
    assert "choisissez une question" in result.stdout
    assert "Source :" in result.stdout  # the first question of the theme was opened


def test_unanswered_lists_what_console_users_asked_in_vain(db_env):
    run("chat", stdin="horaires de la CAF\nhoraires de la CAF\nc koi un ptce\n", env=db_env)
    result = run("unanswered", env=db_env)
    assert result.returncode == 0
    (line,) = result.stdout.splitlines()
    assert line.split()[0] == "2" and "horaires de la CAF" in line


def test_check_passes_on_the_shipped_content():
    result = run("check")
    assert result.returncode == 0
    assert "Contenu valide" in result.stdout


def test_the_console_runs_the_questionnaire_and_saves_chart_and_report(db_env, tmp_path):
    # Welcome → 2 (the questionnaire) → role 1 → a name → "26" is typed, not a choice →
    # confirm the department → … → an employer group acting alone → the result.
    answers = ["2", "1", "Mon projet", "26", "Drôme (26)", "1", "1", "2",
               "Non, elle agit seule", "Voir le résultat"]
    result = run("chat", stdin="\n".join(answers) + "\n", env=db_env)
    assert result.returncode == 0
    assert "🧭 Pas (encore) un PTCE en l'état" in result.stdout
    reports = tmp_path / "rapports"
    [chart] = reports.glob("profil-ptce-mon-projet-*.png")  # one chart per questionnaire
    assert chart.read_bytes().startswith(b"\x89PNG")
    [report] = reports.glob("rapport-ptce-mon-projet-*.pdf")
    assert "Drôme (26)" in pdf_text(report.read_bytes())
    assert report.stat().st_mode & 0o777 == 0o600  # personal data: its owner only
    # /oublier erases the saved chart and report too.
    forgotten = run("chat", stdin="/oublier\n🗑 Oui, tout effacer\n", env=db_env)
    assert "vos données ont été effacées" in forgotten.stdout
    assert list(reports.iterdir()) == []


def test_stats_count_questions_and_questionnaires_without_personal_data(db_env):
    run("chat", stdin="c koi un ptce\nquel temps fait-il à Lyon\n/diagnostic\n", env=db_env)
    result = run("stats", env=db_env)
    assert result.returncode == 0
    assert "répondues 1" in result.stdout and "hors sujet 1" in result.stdout
    assert "Questionnaires : en cours 1" in result.stdout


def test_backup_copies_the_database_while_it_is_in_use(db_env, tmp_path):
    from bot.storage.db import Store

    store = Store(db_env["PTCE_DB"])  # the bot has the database open
    store.record_question("telegram", "answer", "def-ptce")
    result = run("backup", str(tmp_path / "copie.sqlite3"), env=db_env)
    assert result.returncode == 0 and "Pour restaurer" in result.stdout
    copy = Store(tmp_path / "copie.sqlite3")
    assert [r["entry_id"] for r in copy.db.query("SELECT entry_id FROM questions")] == [
        "def-ptce"]
    again = run("backup", str(tmp_path / "copie.sqlite3"), env=db_env)
    assert again.returncode == 2 and "existe déjà" in again.stderr


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG image; fails if ``data`` is no PNG."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_stats_chart_draws_the_figures_in_a_png_and_says_where(db_env, tmp_path):
    run("chat", stdin="c koi un ptce\nquel temps fait-il à Lyon\n/diagnostic\n", env=db_env)
    chart = tmp_path / "chiffres.png"
    result = run("stats", "--chart", str(chart), env=db_env)
    assert result.returncode == 0
    assert "répondues 1" in result.stdout  # the figures are printed too
    assert f"Graphique enregistré dans {chart}." in result.stdout
    width, height = png_size(chart.read_bytes())
    assert width >= 1000 and height >= 800  # readable once printed in a report
    assert 10_000 < chart.stat().st_size < 2_000_000


def test_stats_work_on_an_empty_database_and_refuse_an_unwritable_chart(db_env, tmp_path):
    Store(Path(db_env["PTCE_DB"]))  # the service started once, nobody came yet
    chart = tmp_path / "vide.png"
    result = run("stats", "--chart", str(chart), env=db_env)
    assert result.returncode == 0
    assert "Questions : aucune" in result.stdout and "Verdicts : aucun" in result.stdout
    assert png_size(chart.read_bytes())[0] >= 1000
    nowhere = run("stats", "--chart", str(tmp_path / "absent" / "x.png"), env=db_env)
    assert nowhere.returncode == 2 and "Impossible d'écrire" in nowhere.stderr


@pytest.mark.parametrize("command", [["invite", "--region", "Bretagne"], ["stats"],
                                     ["links"], ["outbox"]])
def test_an_admin_command_never_creates_an_empty_database(db_env, command):
    """Run without the service's PTCE_DB, ``invite`` used to print a code that the live bot
    never accepts: it now says where it looked, and creates nothing."""
    result = run(*command, env=db_env)
    assert result.returncode == 2
    assert result.stderr.startswith("Base de données introuvable :")
    assert "PTCE_DB" in result.stderr
    assert not Path(db_env["PTCE_DB"]).exists()


def test_the_database_is_readable_by_its_owner_only(db_env):
    run("chat", stdin="bonjour\n/quitter\n", env=db_env)
    assert Path(db_env["PTCE_DB"]).stat().st_mode & 0o777 == 0o600
