"""What a user gets when they type a question: an answer with its source, choices, or a kind no."""

from __future__ import annotations

import pytest

from bot.core.conversation import ENTRY
from bot.core.messages import Input, User


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("c koi un ptce", "def-ptce"),
        ("un GE peut il etre un ptce", "non-groupement-employeurs"),
        ("Quelle est la définition légale d'un pôle territorial de coopération économique ?",
         "def-article9"),
        ("combien de ptce en france", "chiffres-nombre"),
    ],
)
def test_the_issue_examples_are_answered_with_their_source(ask, question, entry):
    reply = ask(question)
    assert reply.kind == "answer"
    assert reply.entry_id == entry
    assert reply.source.startswith("Source :")
    assert len(reply.source) > len("Source :") + 5


@pytest.mark.parametrize(
    "question",
    [
        "c'est quoi pôle emploi ?",
        "quel temps fait-il",
        "recette de la tarte tatin",
        "azeqsd",
        "?",
    ],
)
def test_off_topic_questions_are_declined_without_passing_off_an_entry(ask, question):
    reply = ask(question)
    assert reply.kind in ("fallback", "error")
    assert reply.entry_id is None
    assert not any(b.data.startswith(ENTRY) for row in reply.buttons for b in row)


def test_a_pasted_page_of_unrelated_text_is_declined(ask):
    page = ("La Révolution française est une période de bouleversements politiques et sociaux "
            "en France et dans ses colonies, ainsi qu'en Europe à la fin du XVIIIe siècle. " * 4)
    reply = ask(page)
    assert reply.kind == "fallback"
    assert "PTCE" in reply.text


def test_an_over_long_message_gets_a_clear_message(ask):
    reply = ask("ptce " * 500)
    assert reply.kind == "error"
    assert "trop long" in reply.text


def test_greetings_and_thanks_get_a_natural_reply(ask):
    assert ask("Bonjour").intent == "greeting"
    assert ask("merci beaucoup !").intent == "thanks"
    assert ask("qui es-tu ?").intent == "who_are_you"
    assert "/themes" in ask("aide").text


def test_a_greeting_before_a_question_does_not_hide_the_question(ask):
    reply = ask("Bonjour, c'est quoi un PTCE ?")
    assert reply.entry_id == "def-ptce"


def test_an_answer_offers_related_entries_as_buttons(ask, content):
    reply = ask("c'est quoi un ptce")
    related = content.entries["def-ptce"].related
    offered = [b.data for row in reply.buttons for b in row if b.data.startswith(ENTRY)]
    assert offered == [ENTRY + r for r in related[:3]]


def test_pressing_a_see_also_button_opens_that_entry(conversation, ask):
    reply = ask("c'est quoi un ptce")
    button = reply.buttons[0][0]
    opened = conversation.handle(Input(User("test", "1"), button=button.data))[0]
    assert opened.kind == "answer"
    assert opened.title in button.label


def test_close_candidates_are_offered_as_choices(conversation, content):
    # Several entries are about the State (its calls, its budget, the conditions to apply).
    reply = conversation.handle(Input(User("test", "1"), text="ptce état"))[0]
    assert reply.kind == "suggest"
    labels = [b.label for row in reply.buttons for b in row]
    assert 3 <= len(labels) <= 4
    assert labels[-1] == "Aucune de ces questions"
    assert all("État" in label for label in labels[:-1]), labels


def test_browsing_themes_then_a_question_then_back(conversation, content):
    user = User("test", "1")
    themes = conversation.handle(Input(user, command="themes"))[0]
    first_theme = themes.buttons[0][0]
    assert first_theme.label == content.themes[0].label
    questions = conversation.handle(Input(user, button=first_theme.data))[0]
    labels = [b.label for row in questions.buttons for b in row]
    assert labels[-1] == "⬅ Retour aux thèmes"
    assert len(labels) == len(content.themes[0].entry_ids) + 1
    answer = conversation.handle(Input(user, button=questions.buttons[0][0].data))[0]
    assert answer.kind == "answer"
    back = conversation.handle(Input(user, button=questions.buttons[-1][0].data))[0]
    assert back.text == themes.text


def test_a_stale_button_gets_a_polite_answer(conversation):
    reply = conversation.handle(Input(User("test", "1"), button="q:entree-supprimee"))[0]
    assert reply.kind == "error"
    assert "plus valable" in reply.text


def test_an_unknown_command_is_explained(conversation):
    reply = conversation.handle(Input(User("test", "1"), command="nimporte"))[0]
    assert "/nimporte" in reply.text and "/aide" in reply.text


def test_the_glossary_lists_every_term(conversation, content):
    reply = conversation.handle(Input(User("test", "1"), command="glossaire"))[0]
    for term in content.glossary:
        assert f"• {term.term}" in reply.text


def test_a_glossary_term_without_its_own_entry_is_answered(ask):
    reply = ask("c'est quoi une SCOP ?")
    assert reply.entry_id == "gloss-scop"
    assert "coopérative" in reply.text.lower()
