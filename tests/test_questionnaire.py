"""« Mon projet est-il un PTCE ? » through the core, as a founder answers it.

Answer profiles come from the seeds: a long-standing grouping (Pôle Sud Archer, Domb'Innov), an
emerging project, an employer group alone, a competitiveness cluster, an ESS core whose
classical enterprises are still in talks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.conversation import Conversation
from bot.core.messages import Input
from bot.handoff.consent import SEND as HANDOFF_SEND
from bot.qualification.interview import FINISH
from bot.qualification.report import draw_result_files
from bot.qualification.rules import evaluate
from bot.storage.db import Store
from tests.support.documents import pdf_text
from tests.support.founders import EMERGING, ESS_CORE_COMPANIES_IN_TALKS, POLE_SUD_ARCHER, Founder


@pytest.fixture
def founder(conversation: Conversation) -> Founder:
    return Founder(conversation)


# --------------------------------------------------------------------------------------------
# Verdicts


def test_a_long_standing_grouping_is_a_ptce_with_chart_and_report(founder):
    founder.start()
    founder.answer(POLE_SUD_ARCHER)
    verdict, advice = founder.result()
    assert verdict.startswith("🧭 PTCE\n")
    assert "Existant" in verdict
    for criterion in ("L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8"):
        assert f"✅ {criterion} " in verdict
    assert "« pour mettre en œuvre une stratégie commune et continue »" in verdict
    assert ("Éligible aux appels de l'État en l'état (décret n° 2015-431 du 15 avril 2015) : "
            "oui, d'après vos réponses.") in advice.text
    photo, document = advice.attachments
    assert photo.kind == "photo" and photo.data.startswith(b"\x89PNG")
    assert document.kind == "document" and document.filename.endswith(".pdf")
    report = pdf_text(document.data)
    assert "Pôle Sud Archer" in report and "Drôme (26)" in report
    assert founder.conversation.content.dialog.version in report


def test_a_lead_sent_after_the_result_carries_the_files_already_made(founder):
    """The chart and report the founder received travel with their lead: nothing is drawn
    again (half a second at the drawing process, behind every other founder's result)."""
    drawn: list[str] = []

    def render(result):
        drawn.append(result.project)
        return draw_result_files(result)

    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "project_name": "Pôle des Baronnies"})
    founder.conversation.prepare(Input(founder.user, button=FINISH), render)
    assert drawn == ["Pôle des Baronnies"]  # the result's files, made ahead
    founder.result()
    founder.conversation.prepare(Input(founder.user, button=HANDOFF_SEND), render)
    assert drawn == ["Pôle des Baronnies"]  # the lead's: the same, not made again


def test_an_emerging_project_is_in_the_making_with_its_missing_criteria(founder):
    founder.start()
    founder.answer(EMERGING)
    verdict, advice = founder.result()
    assert verdict.startswith("🧭 PTCE en devenir")
    assert "❌ L3 " in verdict and "❌ L4 " in verdict  # no company, no partner yet
    assert "⚠️ L5 " in verdict  # a strategy being written
    assert "✅ L1 " in verdict
    assert "Émergent" in verdict
    assert ("pas encore. Il faudrait d'abord réunir les critères de la définition légale "
            "(verdict : PTCE en devenir)") in advice.text
    assert "Associer une ou deux entreprises classiques" in advice.text


def test_an_employer_group_alone_stops_early_with_the_nuance(founder):
    founder.start()
    asked = founder.answer({**POLE_SUD_ARCHER, "nature": "employer_group", "tool_wider": "alone"})
    assert asked[-1] == "tool_wider" and "ess_count" not in asked
    verdict, _ = founder.result()
    assert verdict.startswith("🧭 Pas (encore) un PTCE en l'état")
    assert "n'est pas un PTCE à lui seul" in verdict
    assert "un des outils" in verdict


def test_an_employer_group_inside_a_wider_grouping_goes_on(founder):
    founder.start()
    asked = founder.answer({**POLE_SUD_ARCHER, "nature": "employer_group", "tool_wider": "wider"})
    assert "ess_count" in asked
    verdict, _ = founder.result()
    assert verdict.startswith("🧭 PTCE\n") and "un des outils du pôle" in verdict


def test_a_competitiveness_cluster_is_outside_the_scope(founder):
    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "nature": "cluster", "cluster_ess": "alone"})
    verdict, _ = founder.result()
    assert verdict.startswith("🧭 Hors du champ des PTCE")
    assert "innovation technologique" in verdict


def test_an_ess_core_with_companies_in_talks_is_a_ptce_not_yet_eligible(founder):
    founder.start()
    founder.answer(ESS_CORE_COMPANIES_IN_TALKS)
    verdict, advice = founder.result()
    assert verdict.startswith("🧭 PTCE\n")
    assert "⚠️ L3 " in verdict
    assert ("Éligible aux appels de l'État en l'état (décret n° 2015-431 du 15 avril 2015) : "
            "pas encore. Il faudrait d'abord compter au moins une entreprise hors ESS parmi "
            "les membres.") in advice.text


# --------------------------------------------------------------------------------------------
# What surrounds the verdict rests on the answers


def result_of(founder: Founder, profile: dict[str, Any]) -> tuple[str, str]:
    """The verdict message and the advice message (eligibility, strengths, next steps)."""
    founder.start()
    founder.answer(profile)
    verdict, advice = founder.result()
    return verdict, advice.text


def test_a_scic_carrying_a_wider_cooperation_is_a_legal_person(founder):
    _, advice = result_of(founder, {**POLE_SUD_ARCHER, "nature": "scic", "scic_wider": "wider",
                                    "strategy": "charter"})
    assert "personne morale" not in advice
    assert "oui, d'après vos réponses." in advice


def test_a_grouping_without_structure_is_told_it_needs_a_legal_person(founder):
    _, advice = result_of(founder, {**POLE_SUD_ARCHER, "strategy": "charter"})
    assert "Il faudrait d'abord être une personne morale de droit privé" in advice


def test_earlier_state_support_is_a_condition_of_the_calls(founder):
    _, advice = result_of(founder, {**POLE_SUD_ARCHER, "state_support": "yes"})
    assert "ne pas avoir déjà reçu d'aide de l'État pour ce projet" in advice


def test_not_a_ptce_is_never_eligible_and_says_the_definition_first(founder):
    _, advice = result_of(founder, {**POLE_SUD_ARCHER, "ess_count": "one"})
    assert "Éligible aux appels de l'État en l'état" in advice
    assert ("pas encore. Il faudrait d'abord réunir les critères de la définition légale "
            "(verdict : Pas (encore) un PTCE en l'état)") in advice


# Criteria all met, a few objectives weak: the weakest get a next step.
WEAK_OBJECTIVES = {**POLE_SUD_ARCHER, "governance": "informal", "partners": ["commune"],
                   "animation": "volunteers", "animation_funding": ["nothing"],
                   "charter_known": "unknown", "values": ["trust"],
                   "innovation": ["organisation"]}
STRONGER = {"governance": "committee", "partners": ["commune", "research"],
            "animation": "full_time", "animation_funding": ["fees", "authorities"]}


@pytest.mark.parametrize("weak, answer, step", [
    ({}, {"governance": "committee"}, "Installer une gouvernance partagée"),
    ({}, {"partners": ["commune", "research"]}, "Approcher un partenaire de recherche"),
    ({}, {"animation": "full_time", "animation_funding": ["fees", "authorities"]},
     "Planifier le financement de l'animation"),
    (STRONGER, {"charter_known": "signed"}, "Lire ensemble la charte"),
])
def test_no_next_step_that_the_answers_make_pointless(conversation, weak, answer, step):
    _, without = result_of(Founder(conversation, "a"), {**WEAK_OBJECTIVES, **weak})
    _, with_answer = result_of(Founder(conversation, "b"), {**WEAK_OBJECTIVES, **weak, **answer})
    assert step in without  # the weak project is told, the one that has it is not
    assert step not in with_answer


def test_an_early_stop_claims_nothing_it_did_not_ask(founder):
    verdict, advice = result_of(founder, {**POLE_SUD_ARCHER, "nature": "employer_group",
                                          "tool_wider": "alone"})
    asked = {"✅ L2 "}  # the territory was asked before the stop
    for criterion in ("L1", "L3", "L4", "L5", "L6", "L7", "L8"):
        assert f"➖ {criterion} " in verdict
    assert {f"✅ {c} " for c in ("L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8")
            if f"✅ {c} " in verdict} == asked
    assert "❌" not in verdict and "ci-dessous" not in verdict
    assert "non examiné (les questions sur la coopération n'ont pas été posées)" in verdict
    assert "Points forts" not in advice
    assert "(verdict : Pas (encore) un PTCE en l'état)." in advice  # the definition, first
    assert "Non examiné" not in advice  # not the decree's seven other conditions
    assert "En parler avec la CRESS ou la coordination PTCE de votre région" in advice
    assert "Installer une gouvernance" not in advice


def test_a_passed_ess_count_leaves_l1_to_be_confirmed(content):
    dialog = content.dialog
    answers = {k: v for k, v in POLE_SUD_ARCHER.items() if k != "ess_count"}
    result = evaluate(dialog, answers, skipped=["ess_count"])
    [l1] = [c for c in result.criteria if c.id == "L1"]
    assert l1.icon == "⚠️"
    assert l1.explanation.startswith("À confirmer : la question « Combien")
    assert result.verdict_label == "PTCE en devenir"
    assert "Les points ⚠️ restent à consolider." in result.verdict_text


@pytest.mark.parametrize("partner", ["chamber", "citizens"])
def test_any_other_person_meets_l4(founder, partner):
    verdict, _ = result_of(founder, {**POLE_SUD_ARCHER, "partners": [partner]})
    assert "✅ L4 " in verdict


def test_why_names_the_criterion_and_its_source(founder):
    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "classic": None})
    [why] = founder.press("❔ Pourquoi ?")
    assert "Critère L3 de l'article 9" in why.text
    assert "Loi du 31 juillet 2014, article 9" in why.text


def test_editing_from_the_recap_says_which_answer(founder):
    founder.start()
    founder.answer(POLE_SUD_ARCHER)
    replies = founder.press("✏️ 9. Oui, plusieurs")
    assert "✏️ Modification de la réponse 9 du récapitulatif" in replies[0].text


# --------------------------------------------------------------------------------------------
# Moving around


def test_back_changes_the_previous_answer(founder):
    founder.start()
    founder.press("Je porte le projet (ou j'en suis membre)")
    assert founder.current == "project_name"
    founder.press("⬅ Retour")
    assert founder.current == "role"
    founder.press("J'accompagne le projet (DLA, réseau, CRESS…)")
    founder.press("Passer cette question")
    founder.answer(POLE_SUD_ARCHER)
    recap = founder.replies[-1].text
    assert "→ J'accompagne le projet (DLA, réseau, CRESS…)" in recap
    assert "→ (question passée)" in recap


def test_why_explains_the_criterion_behind_the_question(founder):
    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "ess_count": None})  # stops at ess_count
    [why] = founder.press("❔ Pourquoi ?")
    assert "article 1er de la loi de 2014" in why.text
    assert founder.current == "ess_count"  # still the question in progress


def test_pause_and_resume_after_a_restart(content, tmp_path: Path):
    db = tmp_path / "ptce.sqlite3"
    before = Founder(Conversation(content, Store(db)))
    before.start()
    before.answer({**POLE_SUD_ARCHER, "strategy": None})
    assert before.current == "strategy"
    [paused] = before.press("⏸ Pause")
    assert "vos réponses sont enregistrées" in paused.text
    # The bot restarts: a new process, the same database file.
    after = Founder(Conversation(content, Store(db)))
    offer = after.start()
    assert "Voulez-vous le reprendre" in offer[0].text
    after.press("▶ Reprendre")
    assert after.current == "strategy"
    after.answer(POLE_SUD_ARCHER)
    verdict, _ = after.result()
    assert verdict.startswith("🧭 PTCE\n")


def test_a_free_question_is_answered_then_the_question_is_asked_again(founder):
    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "ess_count": None})
    replies = founder.type("c'est quoi une SCIC ?")
    assert replies[0].kind == "answer" and "SCIC" in replies[0].title
    assert replies[-1].kind == "question" and founder.current == "ess_count"


@pytest.mark.parametrize("typed", ["3", "de 2 à 4", "De 2 a 4"])
def test_an_option_typed_instead_of_pressed_answers_the_question(founder, typed):
    """Its number in the list (as the console shows it) or its label, typed after a message
    without buttons ("❔ Pourquoi ?"), answers the pending question, not the FAQ."""
    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "ess_count": None})
    founder.press("❔ Pourquoi ?")
    founder.type(typed)
    assert founder.current == "initiator"
    session = founder.conversation.interview.session("test:founder")
    assert session.answers["ess_count"] == "two_four"


def test_an_invalid_number_is_explained_and_asked_again(founder):
    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "members_total": None})
    error, _ = founder.type("beaucoup")
    assert "Tapez un nombre entier entre 1 et 1000" in error.text
    assert founder.current == "members_total"
    founder.type("0")
    [way_out] = founder.type("mille deux cents")
    labels = [b.label for row in way_out.buttons for b in row]
    assert labels == ["Passer cette question", "⏸ Pause", "Réessayer"]
    founder.press("Passer cette question")
    assert founder.current == "strategy"


@pytest.mark.parametrize(("typed", "department"), [
    ("drome", "Drôme (26)"), ("pas de calais", "Pas-de-Calais (62)"), ("2A", "Corse-du-Sud (2A)"),
    ("974", "La Réunion (974)"), ("26100", "Drôme (26)"),
])
def test_a_department_is_understood_and_confirmed_with_a_button(founder, typed, department):
    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "department": None})
    [confirm] = founder.type(typed)
    labels = [b.label for row in confirm.buttons for b in row]
    assert labels[0] == department
    founder.press(department)
    assert founder.current == "territory_kind"


def test_saint_martin_is_said_to_be_outside_the_regions_and_can_be_passed(founder):
    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "department": None})
    explained, _question = founder.type("97150")
    assert explained.text.startswith("Saint-Martin est une collectivité d'outre-mer qui ne fait "
                                      "partie d'aucune région")
    assert founder.current == "department"
    founder.press("Passer cette question")
    assert founder.current == "territory_kind"


def test_an_unknown_department_is_explained(founder):
    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "department": None})
    error, _ = founder.type("Atlantide")
    assert "Je ne reconnais pas ce département" in error.text


def test_the_recap_lets_the_user_change_an_answer(founder):
    founder.start()
    founder.answer(POLE_SUD_ARCHER)
    founder.press("✏️ 9. Oui, plusieurs")  # classical companies
    assert founder.current == "classic"
    founder.press("En discussion")
    assert founder.current == "recap"
    verdict, advice = founder.result()
    assert "⚠️ L3 " in verdict and "pas encore" in advice.text


def test_a_stale_button_reasks_the_current_question(founder):
    founder.start()
    founder.press("Je porte le projet (ou j'en suis membre)")
    replies = founder.press_data("da:role:adviser")  # the first question's button, again
    assert "Ce bouton concerne une question précédente" in replies[0].text
    assert founder.current == "project_name"


def test_a_multiple_choice_needs_at_least_one_option(founder):
    founder.start()
    founder.answer({**POLE_SUD_ARCHER, "partners": None})
    [hint] = founder.press_data("dv:partners")
    assert "Valider" in hint.text
    founder.press("Commune ou intercommunalité")
    founder.press("Aucun pour l'instant")  # exclusive: clears the others
    labels = [b.label for row in founder.replies[0].buttons for b in row]
    assert founder.replies[0].replaces  # Telegram edits the question in place
    assert "✅ Aucun pour l'instant" in labels and "Commune ou intercommunalité" in labels


# --------------------------------------------------------------------------------------------
# Adviser mode


def test_an_adviser_runs_a_session_adds_notes_and_hands_it_to_the_founder(conversation):
    adviser = Founder(conversation, "adviser")
    [ask] = adviser.type_command("conseiller")
    assert "quelle est votre structure" in ask.text
    _structure_saved, menu = adviser.type("DLA de la Drôme")
    assert "DLA de la Drôme" in menu.text
    adviser.press("➕ Nouvelle session")
    adviser.type("Pôle <Sud> & Archer")
    assert adviser.current == "department"  # who answers and the name are known already
    adviser.answer({**POLE_SUD_ARCHER, "strategy": None})
    [prompt] = adviser.press("📝 Note privée")
    assert "« Stratégie et coopération »" in prompt.text
    saved, _ = adviser.type("Convention en cours de signature avec l'agglo.")
    assert "Note enregistrée" in saved.text
    [link] = adviser.press("🔗 Lien pour le porteur")
    token = link.text.split("/start reprise-")[1].split()[0]

    founder = Founder(conversation, "founder")
    hello, _question = founder.type_command("start", f"reprise-{token}")
    assert "DLA de la Drôme a commencé ce questionnaire avec vous" in hello.text
    assert founder.current == "strategy"
    founder.answer(POLE_SUD_ARCHER)
    _, advice = founder.result()
    founders_report = pdf_text(advice.attachments[1].data)
    assert "Convention en cours" not in founders_report  # private notes
    assert "Confidentiel" not in founders_report

    adviser.type_command("conseiller")
    [sessions] = adviser.press("📂 Mes sessions")
    labels = [b.label for row in sessions.buttons for b in row]
    assert labels[0].startswith("Pôle <Sud> & Archer — terminé : PTCE")
    _, adviser_advice = adviser.press(labels[0])
    report = pdf_text(adviser_advice.attachments[1].data)
    assert report.startswith("Confidentiel — notes de l'accompagnateur (DLA de la Drôme)")
    assert "Convention en cours de signature" in report
    assert "Pôle <Sud> & Archer" in report


def test_a_resume_link_works_once(conversation):
    adviser = Founder(conversation, "adviser")
    adviser.type_command("conseiller")
    adviser.type("CRESS Bretagne")
    adviser.press("➕ Nouvelle session")
    adviser.type("Projet breton")
    [link] = adviser.press("🔗 Lien pour le porteur")
    token = link.text.split("/start reprise-")[1].split()[0]
    Founder(conversation, "founder").type_command("start", f"reprise-{token}")
    [refused] = Founder(conversation, "someone-else").type_command("start", f"reprise-{token}")
    assert "n'est plus valable" in refused.text


@pytest.mark.parametrize("session", ["²", "١٢", "99999999999999999999999"])
def test_an_odd_session_number_on_a_button_is_refused(conversation, session):
    """Found by fuzzing: forged "co:²" or "co:" and a number past SQLite's integers
    crashed."""
    adviser = Founder(conversation, "adviser")
    adviser.type_command("conseiller")
    adviser.type("DLA du Nord")
    [reply] = adviser.press_data(f"co:{session}")
    assert "DLA du Nord" in reply.text and "➕ Nouvelle session" in [
        b.label for row in reply.buttons for b in row]


def test_nobody_opens_another_advisers_session(conversation):
    adviser = Founder(conversation, "adviser")
    adviser.type_command("conseiller")
    adviser.type("DLA du Nord")
    adviser.press("➕ Nouvelle session")
    adviser.type("Projet du Nord")
    [sessions] = adviser.press("📂 Mes sessions")
    data = sessions.buttons[0][0].data
    intruder = Founder(conversation, "intruder")
    intruder.type_command("conseiller")
    intruder.type("Curieux")
    [refused] = intruder.press_data(data)
    assert refused.text == "Cette session n'est pas l'une des vôtres."
