"""Questions as people really ask them: by meaning, with context, two at once, near them."""

from __future__ import annotations

import pytest

from bot.core.conversation import COORDINATION, DIAGNOSTIC, ENTRY, THEMES, Conversation
from bot.core.messages import Input, Reply, User

ALICE = User("test", "alice")


def labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


def data(reply: Reply) -> list[str]:
    return [b.data for row in reply.buttons for b in row]


@pytest.mark.parametrize(
    ("question", "entries"),
    [
        # Words the entries do not use, same meaning.
        ("quel statut juridique pour un ptce ?", {"def-statut-juridique"}),
        ("le label ptce ça s'obtient comment ?", {"def-label"}),
        ("referentiel ptce combien d'objectifs ?", {"ref-objectifs-generaux",
                                                     "ref-objectifs-principaux"}),
        # Who asks steers to the entry written for them.
        ("jsuis patron d'une PME classique, j'ai le droit de rejoindre un ptce ?",
         {"membres-entreprises-classiques"}),
        ("Madame, Monsieur, je suis conseillère municipale. Notre commune peut-elle participer "
         "à un PTCE ?", {"membres-collectivites"}),
    ],
)
def test_a_question_is_answered_on_its_meaning(ask, question, entries):
    reply = ask(question)
    assert reply.kind == "answer", labels(reply)
    assert reply.entry_id in entries


def test_a_project_described_before_the_question_gets_the_questionnaire(conversation):
    [reply] = conversation.handle(Input(ALICE, text=(
        "Je suis maire d'une commune de 3000 habitants, on a deux assos d'insertion et une "
        "ressourcerie, est-ce qu'on peut monter un PTCE ?")))
    assert reply.kind == "answer"
    assert DIAGNOSTIC in data(reply)
    assert "🧭 Mon projet est-il un PTCE ?" in labels(reply)


def test_a_very_long_message_is_answered_on_the_question_at_its_end(ask):
    context = ("Nous sommes une association d'insertion installée depuis quinze ans dans une "
               "vallée rurale, avec une recyclerie, un atelier vélo et une cantine solidaire, "
               "et nous travaillons déjà avec la mairie, deux entreprises du bâtiment et le "
               "lycée agricole sur des chantiers communs depuis plusieurs années. ")
    reply = ask(context * 3 + "Quelle forme juridique faut-il donner au PTCE ?")
    assert reply.kind == "answer", labels(reply)
    assert reply.entry_id == "def-statut-juridique"


def test_two_questions_in_one_get_both_answers_briefly(conversation):
    replies = conversation.handle(Input(ALICE, text="un GE ou un GIE c un ptce ?"))
    assert [r.entry_id for r in replies] == ["non-groupement-employeurs", "non-gie"]
    for reply in replies:
        assert reply.source.startswith("Source :")
        assert "➜ Lire la réponse complète" in labels(reply)
        full = conversation.content.entries[reply.entry_id].answer
        assert len(reply.text) < len(full)


def test_a_region_gets_the_poles_the_sources_name_and_its_coordination(ask):
    reply = ask("y a t il des ptce en bretagne")
    assert reply.kind == "local" and reply.intent == "bretagne"
    assert "Éoliennes en Pays de Vilaine (Morbihan) — cité en 2012" in reply.text
    assert "CRESS Bretagne" in reply.text
    assert "2012 à 2018" in reply.text  # the sources' dates, said
    assert reply.source.startswith("Source :")
    assert "📍 Être mis en relation avec la CRESS Bretagne" in labels(reply)
    assert COORDINATION in data(reply)


def test_a_department_lists_its_own_poles_first(ask):
    reply = ask("qui peut m'aider dans la drome")
    assert reply.kind == "local"  # not the card of the one pole found there
    here, elsewhere = reply.text.split("Ailleurs en Auvergne-Rhône-Alpes")
    assert "Pôle Sud Archer" in here and "Drôme (26)" in here
    assert "Domb'Innov" in elsewhere
    assert ENTRY + "ex-pole-sud-archer" in data(reply)


def test_a_city_is_placed_in_its_region(ask):
    reply = ask("je voudrais rencontrer un ptce près de Lyon")
    assert reply.kind == "local" and reply.intent == "auvergne-rhone-alpes"
    assert "Lyon (Rhône)" in reply.text


def test_a_region_without_poles_in_the_sources_says_so_and_who_to_contact(ask):
    reply = ask("il y a des ptce a la reunion ?")
    assert reply.kind == "local"
    assert "aucun pôle" in reply.text and "ESS France" in reply.text


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        # A place given as context is not a "near me" question.
        ("Bonsoir, élu régional en Occitanie, comment une Région finance-t-elle un PTCE ?",
         None),
        # A pole named by the question keeps its card.
        ("les fermes de figeac c un ptce ?", "ex-fermes-figeac"),
    ],
)
def test_a_place_alone_does_not_make_a_near_me_question(ask, question, entry):
    reply = ask(question)
    assert reply.kind != "local"
    if entry:
        assert reply.entry_id == entry


def test_no_sure_answer_is_never_a_dead_end(ask):
    reply = ask("azeqsd")
    assert reply.kind == "fallback"
    assert {THEMES, DIAGNOSTIC, COORDINATION} <= set(data(reply))
    assert "ne connais que" not in reply.text  # it does not call the question off-topic


@pytest.mark.parametrize("message", ["bjr merci bcp", "ok super merci pour tout bonne journée",
                                     "Merci, c'est très clair. Je reviendrai vers vous. "
                                     "Excellente soirée !"])
def test_thanks_inside_a_longer_message_are_thanks(ask, message):
    reply = ask(message)
    assert reply.kind == "smalltalk" and reply.intent == "thanks"
    assert not reply.buttons  # no irrelevant "Vouliez-vous dire"


def test_a_thumbs_down_asks_what_was_wrong_and_keeps_it(conversation: Conversation):
    store = conversation.store
    [answer] = conversation.handle(Input(ALICE, text="c koi un ptce"))
    toast, why = conversation.handle(Input(ALICE, button=f"f:-:{answer.entry_id}"))
    assert toast.kind == "ack"
    assert labels(why) == ["Pas la bonne réponse", "Incomplète", "Pas claire"]
    [thanks] = conversation.handle(Input(ALICE, button=data(why)[1]))
    assert "Merci" in thanks.text
    assert store.feedback_reasons() == [{"entry_id": "def-ptce", "reason": "incomplete",
                                         "n": 1}]
    [row] = store.unanswered()
    assert row["text"] == "c koi un ptce" and row["outcome"] == "👎 Incomplète → def-ptce"
