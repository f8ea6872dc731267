"""`ptce-bot check` tells a content editor what is wrong, where (file:line), and fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ops.cli import main
from tests.support.content_edits import edit, problems_in


def test_the_shipped_content_is_valid(capsys):
    assert main(["check"]) == 0
    assert "Contenu valide" in capsys.readouterr().out


def test_the_shipped_content_is_large_enough(content):
    faq = [e for e in content.entries.values() if e.theme != "glossaire"]
    assert len(faq) >= 80
    assert all(e.sources for e in content.entries.values())


def test_a_yaml_syntax_error_is_reported_with_its_line(content_copy):
    path = content_copy / "knowledge" / "faq" / "definition.yaml"
    line = edit(path, "  - id: def-ptce\n", "  - id: def-ptce\n    title: [non fermé\n")
    (problem,) = problems_in(content_copy)
    assert problem.startswith(f"{path}:")
    reported = int(problem.split(":")[1])
    assert line <= reported <= line + 3
    assert "YAML invalide" in problem


def test_a_duplicate_id_names_both_places(content_copy):
    path = content_copy / "knowledge" / "faq" / "membres.yaml"
    line = edit(path, "id: membres-qui\n", "id: def-ptce\n")
    problems = problems_in(content_copy)
    assert any(p.startswith(f"{path}:{line}:") and "en double" in p and "definition.yaml" in p
               for p in problems), problems


def test_a_pole_outside_its_region_or_with_an_unknown_card_is_reported(content_copy):
    path = content_copy / "knowledge" / "poles.yaml"
    line = edit(path, '    departments: ["26"]\n', '    departments: ["29"]\n')
    entry_line = edit(path, "entry: ex-pole-sud-archer", "entry: ex-disparu")
    problems = problems_in(content_copy)
    assert f"{path}:{line}: pôle « Pôle Sud Archer » : département « 29 » inconnu ou hors de " \
           "la région" in problems, problems
    assert f"{path}:{entry_line}: pôle « Pôle Sud Archer » : fiche inconnue « ex-disparu »" \
           in problems, problems


def test_a_city_in_an_unknown_department_is_reported(content_copy):
    path = content_copy / "knowledge" / "cities.yaml"
    line = edit(path, '\n  - {name: Lyon, department: "69"}',
                 '\n  - {name: Lyon, department: "699"}') + 1
    assert f"{path}:{line}: ville « Lyon » : département inconnu « 699 »" \
        in problems_in(content_copy)


def test_a_persona_pointing_to_an_unknown_entry_is_reported(content_copy):
    path = content_copy / "knowledge" / "personas.yaml"
    line = edit(path, "entries: [membres-entreprises-classiques]",
                 "entries: [membres-entreprises]")
    assert f"{path}:{line}: profil « entreprise » : fiche inconnue « membres-entreprises »" \
        in problems_in(content_copy)


def test_a_broken_related_link_is_reported(content_copy):
    path = content_copy / "knowledge" / "faq" / "definition.yaml"
    edit(path, "related: [", "related: [entree-inexistante, ")
    problems = problems_in(content_copy)
    assert any("lien « related » cassé vers « entree-inexistante »" in p for p in problems)


def test_an_empty_answer_is_reported(content_copy):
    path = content_copy / "knowledge" / "faq" / "definition.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    answer: ")
    end = text.index("    source:", start)
    path.write_text(text[:start] + '    answer: ""\n' + text[end:], encoding="utf-8")
    problems = problems_in(content_copy)
    assert any("« answer » est vide" in p and p.startswith(f"{path}:") for p in problems)


def test_an_answer_over_the_telegram_limit_is_reported(content_copy):
    path = content_copy / "knowledge" / "faq" / "definition.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    answer: ")
    end = text.index("    source:", start)
    long = "    answer: " + "Très long. " * 400 + "\n"
    path.write_text(text[:start] + long + text[end:], encoding="utf-8")
    problems = problems_in(content_copy)
    assert any("limite Telegram (4096)" in p for p in problems), problems


def test_a_misspelt_key_and_an_undated_fact_are_reported(content_copy):
    path = content_copy / "knowledge" / "faq" / "definition.yaml"
    line = edit(path, "    answer: ", "    anwser: ")
    edit(path, "ref: seed-004", "ref: facts")
    problems = problems_in(content_copy)
    assert any(p.startswith(f"{path}:{line}:") and "clé inconnue « anwser »" in p
               for p in problems), problems
    assert any("doit être datée" in p for p in problems), problems


@pytest.mark.parametrize("placeholder", ["{limite}", "{0}"])
def test_a_wrong_placeholder_in_the_wording_is_reported(content_copy, placeholder):
    path = content_copy / "knowledge" / "messages.yaml"
    edit(path, "{limit}", placeholder)
    problems = problems_in(content_copy)
    assert any("messages.yaml" in p and "too_long" in p for p in problems), problems


def test_a_menu_description_telegram_would_refuse_is_reported_with_its_line(content_copy):
    path = content_copy / "knowledge" / "messages.yaml"
    line = edit(path, 'menu_oublier: "Effacer vos données"',
                 f'menu_oublier: "Effacer vos données{" et tout le reste" * 20}"')
    problems = problems_in(content_copy)
    assert any(p.startswith(f"{path}:{line}:") and "menu_oublier" in p and "256" in p
               for p in problems), problems


def test_the_cli_exits_non_zero_on_broken_content(content_copy, monkeypatch, capsys):
    path = content_copy / "knowledge" / "faq" / "definition.yaml"
    edit(path, "related: [", "related: [nulle-part, ")
    monkeypatch.setenv("PTCE_CONTENT_DIR", str(content_copy))
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert f"{path}:" in out and "1 problème(s)" in out


# --------------------------------------------------------------------------------------------
# The questionnaire (dialogs/qualification.yaml) and the territories


def _dialog(root: Path) -> Path:
    return root / "dialogs" / "qualification.yaml"


def test_a_question_that_can_never_be_asked_is_reported(content_copy):
    path = _dialog(content_copy)
    line = edit(path, "    when: {question: nature, in: [cluster]}\n",
                 "    when: {all: [{question: nature, in: [cluster]}, "
                 "{question: nature, in: [scic]}]}\n")
    assert f"{path}:{line}: question « cluster_ess » : sa condition ne peut jamais être vraie, " \
           "elle ne sera jamais posée" in problems_in(content_copy)


def test_a_role_given_to_a_missing_or_wrong_question_is_reported(content_copy):
    """The code finds the department, the project's name… through ``roles:``: a role pointing
    to an unknown question, or to one of the wrong type, is an error at its line."""
    path = _dialog(content_copy)
    department = edit(path, "  department: department\n", "  department: territory_kind\n")
    project = edit(path, "  project_name: project_name\n", "  project_name: nom_du_projet\n")
    adviser = edit(path, "  respondent_adviser: adviser\n", "  respondent_adviser: dla\n")
    problems = problems_in(content_copy)
    assert f"{path}:{department}: roles : department : la question « territory_kind » est de " \
           "type single, department attendu" in problems
    assert f"{path}:{project}: roles : project_name : question « nom_du_projet » inconnue" \
        in problems
    assert f"{path}:{adviser}: roles : respondent_adviser : la question « role » n'a pas " \
           "d'option « dla »" in problems


def test_a_condition_on_a_later_question_is_reported(content_copy):
    path = _dialog(content_copy)
    line = edit(path, "    when: {question: nature, in: [scic]}\n",
                 "    when: {question: strategy, in: [none]}\n")
    assert any(p.startswith(f"{path}:{line}:") and "posée après" in p
               for p in problems_in(content_copy))


def test_an_option_that_feeds_nothing_is_reported(content_copy):
    path = _dialog(content_copy)
    line = edit(path, '      - {id: talks, label: "En discussion", criteria: {L3: partial}, '
                       'profile: {partenariats: 1}}\n',
                 '      - {id: talks, label: "En discussion"}\n')
    assert f"{path}:{line}: question « classic » : l'option « talks » ne nourrit rien (ni " \
           "critère, ni point, ni condition)" in problems_in(content_copy)


def test_unknown_criteria_objectives_and_options_are_reported(content_copy):
    path = _dialog(content_copy)
    first = edit(path, "criteria: {L3: met}, profile: {partenariats: 3, dynamisme: 2}",
                  "criteria: {L9: met}, profile: {partenariat: 3, dynamisme: 2}")
    second = edit(path, "when: {question: classic, in: [several, one]}",
                   "when: {question: classic, in: [several, plusieurs]}")
    problems = problems_in(content_copy)
    assert f"{path}:{first}: question « classic » : critère « L9 » inconnu" in problems
    assert f"{path}:{first}: question « classic » : objectif « partenariat » inconnu" in problems
    assert f"{path}:{second}: eligibility « une_hors_ess » : « classic » n'a pas d'option " \
           "« plusieurs »" in problems


def test_a_next_step_condition_on_an_unknown_question_or_option_is_reported(content_copy):
    path = _dialog(content_copy)
    first = edit(path, "next_step_unless: {question: governance, in: [committee, formal]}",
                  "next_step_unless: {question: governance, in: [committee, comite]}")
    second = edit(path, "next_step_unless: {question: charter_known, in: [signed]}",
                   "next_step_unless: {question: charte, in: [signed]}")
    problems = problems_in(content_copy)
    assert f"{path}:{first}: objectif « gouvernance » : « governance » n'a pas d'option " \
           "« comite »" in problems
    assert f"{path}:{second}: objectif « ethique » : question « charte » inconnue" in problems


def test_yes_and_no_as_ids_get_a_helpful_message(content_copy):
    path = _dialog(content_copy)
    line = edit(path, "      - id: wider\n", "      - id: yes\n")
    assert any(p.startswith(f"{path}:{line}:") and "mettez-les entre guillemets" in p
               for p in problems_in(content_copy))


def test_a_department_in_an_unknown_region_is_reported(content_copy):
    path = content_copy / "knowledge" / "territories.yaml"
    line = edit(path, "region: auvergne-rhone-alpes}", "region: rhone-alpes}")
    problems = problems_in(content_copy)
    assert any(p.startswith(f"{path}:{line}:") and "rhone-alpes" in p for p in problems)


def test_a_quote_that_is_not_in_its_source_is_reported(content_copy):
    path = content_copy / "knowledge" / "faq" / "gouvernance-financement.yaml"
    edit(path, "« principalement soutenu par les collectivités locales »",
          "« principalement soutenus par les collectivités locales »")
    problems = problems_in(content_copy)
    assert any(p.startswith(f"{path}:") and "« principalement soutenus par les collectivités "
               "locales » ne se trouve pas mot pour mot dans ses sources (seed-004" in p
               for p in problems), problems


def test_a_law_quote_of_a_criterion_is_checked_too(content_copy):
    path = content_copy / "dialogs" / "qualification.yaml"
    edit(path, "stratégie commune et continue »", "stratégie commune et durable »")
    problems = problems_in(content_copy)
    assert any("critère « L5 » : la citation « pour mettre en œuvre une stratégie commune et "
               "durable » ne se trouve pas" in p for p in problems), problems


def test_one_page_dated_two_ways_is_reported(content_copy):
    path = content_copy / "knowledge" / "coordinations.yaml"
    line = edit(path, 'date: "2022", url: "https://cress-na.org/ami-ptce-phase-2-saison-3"',
                 'date: "2021-05", url: "https://cress-na.org/ami-ptce-phase-2-saison-3"')
    problems = problems_in(content_copy)
    assert any(p.startswith(f"{path}:{line}:") and "https://cress-na.org/ami-ptce-phase-2-"
               "saison-3 est datée « 2021-05 » ici mais « 2022 » en" in p and
               "une source, une date" in p for p in problems), problems
