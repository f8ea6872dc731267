"""Regional coordinations (knowledge/coordinations.yaml) and the deployment configuration.

The directory says who to direct a founder to in each region, with a dated source; the
deployment configuration (PTCE_CONFIG) says how to reach them. Both are checked with
``file:line`` problems, and ``ptce-bot check`` fails on either.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.content.directory import Coordination, Directory
from bot.ops.cli import main
from bot.ops.config import (
    Channels,
    Config,
    ConfigError,
    check_config,
    config_path,
    load_config,
    load_from_env,
)
from tests.support.content_edits import edit, problems_in

ROOT = Path(__file__).resolve().parent.parent
COORDINATIONS = ROOT / "knowledge" / "coordinations.yaml"
EXAMPLE = ROOT / "config.example.yaml"


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


@pytest.fixture(scope="module")
def directory(content) -> Directory:
    assert content.directory is not None
    return content.directory


# --------------------------------------------------------------------------------------------
# The shipped directory


def test_every_region_has_exactly_one_default_coordination(content, directory):
    for region in content.territories.regions:
        coordinations = directory.of_region(region.id)
        assert coordinations, region.id
        assert [c.default for c in coordinations].count(True) == 1, region.id
        assert directory.for_region(region.id) is coordinations[0]
    assert len(content.territories.regions) == 18


def test_the_directory_holds_no_email_address_or_phone_number():
    text = COORDINATIONS.read_text(encoding="utf-8")
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text)
    assert not re.search(r"(?:\+\d{2,3}|\b0)[1-9](?:[ .-]?\d{2}){4}\b", text)
    assert not re.search(r"^\s*(?:email|emails|phone|telephone|téléphone)\s*:", text, re.M)


def test_every_coordination_cites_a_dated_source(directory):
    for coordination in directory.all:
        assert coordination.role.endswith("."), coordination.id
        assert re.search(r"\((?:\d{1,2}(?:er)? )?(?:\w+ )?\d{4}\)|\(page non datée\)",
                         coordination.source_line), \
            coordination.source_line


@pytest.mark.parametrize(("department", "expected", "kind"), [
    ("2A", "CRESS de Corse", "cress"),
    ("974", "ESS France", "reseau"),
    ("35", "CRESS Bretagne", "cress"),
])
def test_the_default_coordination_of_a_department_s_region(content, directory, department,
                                                           expected, kind):
    region = content.territories.department(department).region
    coordination = directory.for_region(region.id)
    assert coordination.name == expected
    assert coordination.kind == kind


def test_overseas_the_sources_name_no_cress_and_the_assistant_says_so(directory):
    reunion = directory.for_region("la-reunion")
    assert reunion.role.startswith("Nos sources ne citent ni CRESS ni cellule régionale des "
                                   "PTCE à La Réunion")
    assert "ESS France, tête de réseau nationale des chambres régionales" in reunion.role
    assert reunion.website is None


def test_bretagne_has_its_sourced_website_and_dated_source(directory):
    bretagne = directory.get("cress-bretagne")
    assert bretagne.website == "http://www.cres-bretagne.org"
    assert "Rencontres régionales des PTCE" in bretagne.role
    assert bretagne.source_line.endswith("(27 novembre 2025)")


def test_a_region_may_have_other_coordinations_after_its_default(directory):
    normandie = directory.of_region("normandie")
    assert [c.id for c in normandie] == ["cress-normandie", "cra-normandie"]
    assert normandie[1].kind == "cellule-regionale"
    assert directory.of_region("atlantide") == ()
    with pytest.raises(KeyError):
        directory.for_region("atlantide")


# --------------------------------------------------------------------------------------------
# A broken directory


def _coordinations(root: Path) -> Path:
    return root / "knowledge" / "coordinations.yaml"


def test_an_email_key_is_refused_with_its_line(content_copy):
    path = _coordinations(content_copy)
    line = edit(path, "    kind: cress\n    website: \"http://www.cres-bretagne.org\"\n",
                 "    kind: cress\n    email: \"contact@exemple.org\"\n"
                 "    website: \"http://www.cres-bretagne.org\"\n") + 1
    problems = problems_in(content_copy)
    assert f"{path}:{line}: coordination « cress-bretagne » : clé « email » refusée : les " \
           "moyens de contact (e-mail, téléphone, Telegram) relèvent de la configuration de " \
           "déploiement (fichier désigné par PTCE_CONFIG), pas de l'annuaire versionné" \
           in problems, problems


def test_a_phone_key_is_refused_too(content_copy):
    path = _coordinations(content_copy)
    line = edit(path, "    kind: cellule-regionale\n",
                 "    kind: cellule-regionale\n    telephone: \"01 23 45 67 89\"\n") + 1
    problems = problems_in(content_copy)
    assert any(p.startswith(f"{path}:{line}:") and "« telephone » refusée" in p
               for p in problems), problems


def test_two_defaults_in_a_region_are_reported(content_copy):
    path = _coordinations(content_copy)
    first = _line_of(path.read_text(encoding="utf-8"), "  - id: cress-normandie")
    line = edit(path, "  - id: cra-normandie\n", "  - id: cra-normandie\n")
    edit(path, "    default: false\n", "    default: true\n")
    assert f"{path}:{line}: région « normandie » : « cra-normandie » et « cress-normandie » " \
           f"(ligne {first}) sont toutes deux marquées « default: true » (il en faut " \
           "exactement une)" in problems_in(content_copy)


def test_a_region_without_default_is_reported(content_copy):
    path = _coordinations(content_copy)
    line = _line_of(path.read_text(encoding="utf-8"), "  - id: cress-corse")
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: cress-corse")
    path.write_text(text[:start] + text[start:].replace("default: true", "default: false", 1),
                    encoding="utf-8")
    assert f"{path}:{line}: région « corse » : aucune coordination marquée « default: true » " \
           "(il en faut exactement une)" in problems_in(content_copy)


def test_an_unknown_region_and_a_region_left_without_coordination(content_copy):
    path = _coordinations(content_copy)
    line = edit(path, "    region: mayotte\n", "    region: atlantide\n")
    problems = problems_in(content_copy)
    assert f"{path}:{line}: coordination « ess-france-mayotte » : région « atlantide » inconnue " \
           "(voir territories.yaml)" in problems
    assert any(p.startswith(f"{path}:") and "région « mayotte » (Mayotte) : aucune coordination"
               in p for p in problems), problems


def test_a_duplicate_id_an_unknown_kind_and_a_bad_website(content_copy):
    path = _coordinations(content_copy)
    first = _line_of(path.read_text(encoding="utf-8"), "  - id: ess-france-guyane")
    dup = edit(path, "  - id: ess-france-mayotte\n", "  - id: ess-france-guyane\n")
    kind = edit(path, "    kind: region\n", "    kind: collectivite\n")
    site = edit(path, "website: \"https://www.cresspaca.org\"", "website: \"www.cresspaca\"")
    problems = problems_in(content_copy)
    assert f"{path}:{dup}: coordination « ess-france-guyane » : identifiant en double " \
           f"(déjà ligne {first})" in problems
    assert any(p.startswith(f"{path}:{kind}:") and "type « collectivite » inconnu" in p
               for p in problems), problems
    assert any(p.startswith(f"{path}:{site}:") and "site « www.cresspaca » mal formé" in p
               for p in problems), problems


def test_an_email_address_inside_a_role_is_refused(content_copy):
    path = _coordinations(content_copy)
    line = edit(path, "Relaie en région la relance des PTCE",
                 "Écrire à accueil@exemple.org ; relaie en région la relance des PTCE")
    assert any(p.startswith(f"{path}:{line}:") and "adresse e-mail ou un numéro" in p
               for p in problems_in(content_copy))


# --------------------------------------------------------------------------------------------
# The deployment configuration


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_configuration_is_valid(directory):
    assert check_config(EXAMPLE, directory) == []
    config = load_config(EXAMPLE, directory)
    assert config.coordinations["cress-bretagne"].telegram_chat_ids == (-1001234567890,)
    assert config.smtp is not None and config.smtp.password_env == "PTCE_SMTP_PASSWORD"
    assert config.admins == frozenset({123456789})
    assert (config.retention_days, config.reminder_hours, config.max_attempts) == (365, 72, 6)


def test_a_broken_configuration_is_reported_line_by_line(tmp_path, directory):
    path = _write(tmp_path, """\
coordinations:
  cress-bretagne:
    telegram_chat_ids: ["-1001234567890"]
    emails: ["pas-une-adresse"]
  cress-atlantide:
    webhook: "ftp://exemple.org/hook"
fallback:
  emails: ["national@exemple.org"]
smtp:
  host: smtp.exemple.org
  from: assistant@exemple.org
  password: "secret"
reminder_hours: -3
""")
    problems = [str(p) for p in check_config(path, directory)]
    assert any(p.startswith(f"{path}:3:") and "doit être un nombre entier, sans guillemets"
               in p for p in problems), problems
    assert any(p.startswith(f"{path}:4:") and "adresse e-mail « pas-une-adresse » mal formée"
               in p for p in problems), problems
    assert any(p.startswith(f"{path}:5:") and "« cress-atlantide » n'est ni l'identifiant "
               "d'une coordination" in p for p in problems), problems
    assert any(p.startswith(f"{path}:6:") and "webhook « ftp://exemple.org/hook » invalide"
               in p for p in problems), problems
    assert any(p.startswith(f"{path}:12:") and "mot de passe en clair refusé" in p
               and "password_env" in p for p in problems), problems
    assert any(p.startswith(f"{path}:13:") and "« reminder_hours » doit être un nombre positif"
               in p for p in problems), problems
    assert len(problems) == 6, problems
    with pytest.raises(ConfigError):
        load_config(path, directory)


def test_e_mail_channels_require_an_smtp_server(tmp_path, directory):
    path = _write(tmp_path, "fallback:\n  emails: [national@exemple.org]\nadmins: [12]\n"
                            "unknown_key: 1\n")
    problems = [str(p) for p in check_config(path, directory)]
    assert any("la section « smtp »" in p for p in problems), problems
    assert any(p.startswith(f"{path}:4:") and "clé inconnue « unknown_key »" in p
               for p in problems), problems


def test_a_missing_configuration_file_is_reported(tmp_path, directory):
    (problem,) = check_config(tmp_path / "absent.yaml", directory)
    assert "introuvable" in problem.message


def test_without_ptce_config_the_configuration_is_empty(monkeypatch, directory):
    monkeypatch.delenv("PTCE_CONFIG", raising=False)
    assert config_path() is None
    config = load_from_env(directory)
    assert config == Config.empty()
    assert config.fallback.empty and not config.coordinations and config.smtp is None
    assert config.channels_for(directory.for_region("bretagne")) == (Channels(), True)


def test_channels_are_found_by_coordination_then_region_then_fallback():
    own = Channels(telegram_chat_ids=(-100,))
    regional = Channels(emails=("region@exemple.org",))
    national = Channels(telegram_chat_ids=(1,))
    config = Config(coordinations={"cress-normandie": own, "normandie": regional},
                    fallback=national)

    def coordination(cid: str, region: str) -> Coordination:
        return Coordination(cid, region, cid, "cress", None, "Rôle.", "source", False)

    assert config.channels_for(coordination("cress-normandie", "normandie")) == (own, False)
    assert config.channels_for(coordination("cra-normandie", "normandie")) == (regional, False)
    assert config.channels_for(coordination("cress-corse", "corse")) == (national, True)


def test_the_smtp_password_is_read_from_the_environment_only(monkeypatch, directory):
    monkeypatch.setenv("PTCE_SMTP_PASSWORD", "s3cret")
    smtp = load_config(EXAMPLE, directory).smtp
    assert smtp.password() == "s3cret"
    assert "s3cret" not in repr(smtp)


# --------------------------------------------------------------------------------------------
# `ptce-bot check` with PTCE_CONFIG


def test_check_validates_the_configuration_named_by_ptce_config(monkeypatch, capsys):
    monkeypatch.setenv("PTCE_CONFIG", str(EXAMPLE))
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "Contenu valide" in out
    assert "Configuration valide : 4 coordinations avec canal, repli : 1 discussion " \
           "Telegram, 1 adresse e-mail" in out


def test_check_fails_on_a_broken_configuration(tmp_path):
    path = _write(tmp_path, "coordinations:\n  bretagne:\n    telegram_chat_ids: [abc]\n")
    script = Path(sys.executable).with_name("ptce-bot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    result = subprocess.run([*command, "check"], capture_output=True, text=True,
                            encoding="utf-8", timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PTCE_CONFIG": str(path)})
    assert result.returncode == 1
    assert f"{path}:3: coordination « bretagne » : « abc » dans « telegram_chat_ids » doit " \
           "être un nombre entier" in result.stdout
    assert f"1 problème(s) dans {path}." in result.stdout
    assert "Configuration valide" not in result.stdout
