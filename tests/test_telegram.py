"""The Telegram channel end to end: the real PTB Application long-polls a local fake Bot API.

Each test plays a Telegram user: it types, presses buttons by their label, sends a sticker,
then reads what the bot sent — as displayed by Telegram (HTML parsed by the fake server, which
refuses what Telegram refuses).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from telegram import Chat, Message, Update
from telegram.constants import ChatType

from bot.channels.telegram.adapter import PerChatUpdateProcessor, TelegramChannel, split_message
from bot.channels.telegram.settings import Settings
from bot.content import load as content_module
from bot.content.model import MENU_COMMANDS, Content
from bot.core.conversation import Conversation
from bot.ops.logs import TokenScrubber
from bot.storage.db import Store
from tests.support.documents import pdf_text
from tests.support.fake_telegram import TOKEN, FakeTelegram, FakeUser, Sent, polling
from tests.support.founders import POLE_SUD_ARCHER, Founder

LEA = FakeUser(1001, "Léa")
GROUP = -4242


@dataclass
class Bot:
    """A running bot and the fake Telegram it talks to."""

    fake: FakeTelegram
    store: Store
    channel: TelegramChannel

    async def say(self, user: FakeUser, text: str, count: int = 1,
                  chat_id: int | None = None) -> list[Sent]:
        """``user`` types ``text``; the bot's next ``count`` messages in that chat."""
        chat = user.id if chat_id is None else chat_id
        before = len(self.fake.sent)
        self.fake.send_text(user, text, chat_id)
        return await self.fake.replies(chat, count, after=before)

    async def press(self, user: FakeUser, label: str, count: int = 1) -> list[Sent]:
        """``user`` presses the button ``label``; the bot's next ``count`` sends or edits."""
        before = len(self.fake.sent)
        self.fake.press(user, label)
        return await self.fake.replies(user.id, count, after=before)


async def start_bot(content: Content, store: Store, **settings) -> AsyncIterator[Bot]:
    fake = FakeTelegram()
    await fake.start()
    channel = TelegramChannel(
        Conversation(content, store),
        Settings(token=TOKEN, api_root=f"http://127.0.0.1:{fake.port}", rate=0,
                 **settings))
    try:
        async with polling(channel.build()):
            yield Bot(fake, store, channel)
    finally:
        await fake.stop()
        # Telegram refuses nothing the bot sent, and every button press was answered.
        assert not fake.pending_callbacks


@pytest.fixture
async def bot(content: Content, store: Store) -> AsyncIterator[Bot]:
    async for running in start_bot(content, store):
        yield running


async def test_a_burst_from_one_user_does_not_hold_up_another(bot):
    """Chats are served at once, each in its own order, and a message waiting for its chat's
    turn holds no place: Marc's question is answered while Léa's forty are worked through."""
    marc = FakeUser(1003, "Marc")
    for _ in range(40):
        bot.fake.send_text(LEA, "c koi un ptce")
    bot.fake.send_text(marc, "c koi un ptce")
    [answer] = await bot.fake.replies(marc.id)
    before_marc = bot.fake.sent[:bot.fake.sent.index(answer)]
    assert len([s for s in before_marc if s.chat_id == LEA.id]) < 5
    burst = await bot.fake.replies(LEA.id, count=40)
    assert all(s.text.startswith("Qu'est-ce qu'un PTCE ?") for s in burst)


def _update(update_id: int, user: FakeUser) -> Update:
    chat = Chat(user.id, ChatType.PRIVATE)
    return Update(update_id, message=Message(update_id, datetime.now(UTC), chat, text="…"))


async def test_a_chat_waiting_for_its_chart_gives_its_place_to_another():
    """With every place taken by founders whose results wait at the drawing process, the
    others are still served; the waiting founder's own next message still waits for hers."""
    processor = PerChatUpdateProcessor(active=1)
    drawn = asyncio.Event()
    served: list[str] = []

    async def result() -> None:
        async with processor.aside():
            await drawn.wait()
        served.append("Léa's result")

    async def then(name: str) -> None:
        served.append(name)
        drawn.set()

    marc = FakeUser(1003, "Marc")
    lea_result = asyncio.create_task(processor.do_process_update(_update(1, LEA), result()))
    lea_next = asyncio.create_task(processor.do_process_update(_update(2, LEA), then("Léa")))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(processor.do_process_update(_update(3, marc), then("Marc")), 2)
    await asyncio.wait_for(asyncio.gather(lea_result, lea_next), 2)
    assert served == ["Marc", "Léa's result", "Léa"]
    async with processor.aside():  # outside an update: gives no place it does not hold
        served.clear()
    drawn.clear()
    waiting = asyncio.create_task(processor.do_process_update(_update(4, LEA), drawn.wait()))
    other = asyncio.create_task(processor.do_process_update(_update(5, marc), then("Marc")))
    await asyncio.sleep(0.05)
    assert served == []  # still one place: Marc waits for Léa's update to end
    drawn.set()
    await asyncio.wait_for(asyncio.gather(waiting, other), 2)
    assert served == ["Marc"]


# --------------------------------------------------------------------------------------------
# /start, the three paths, deep links, the command menu


async def test_start_greets_by_name_and_offers_three_paths(bot):
    [welcome] = await bot.say(LEA, "/start")
    assert welcome.text.startswith("Bonjour Léa !")
    assert welcome.labels == ["❓ Poser une question", "🧭 Mon projet est-il un PTCE ?",
                              "📍 Contacter ma coordination régionale"]


async def test_each_path_of_the_welcome_leads_somewhere(bot):
    await bot.say(LEA, "/start")
    [ask] = await bot.press(LEA, "❓ Poser une question")
    assert "écrivez votre question" in ask.text
    intro, first = await bot.press(LEA, "🧭 Mon projet est-il un PTCE ?", count=2)
    assert "Une vingtaine de questions" in intro.text
    assert "qui répond à ce questionnaire ?" in first.text and "⏸ Pause" in first.labels
    await bot.press(LEA, "⏸ Pause")
    [coordination] = await bot.press(LEA, "📍 Contacter ma coordination régionale")
    assert "dans quel département est votre projet ?" in coordination.text


@pytest.mark.parametrize(("payload", "expected"), [
    ("diagnostic", "🧭 Mon projet est-il un PTCE ?"),
    ("coordination", "Pour trouver votre coordination régionale"),
    ("q-def-article9", "article 9"),
    ("theme-definition", "choisissez une question"),
    ("lien-inconnu", "Bonjour Léa !"),
])
async def test_a_deep_link_opens_the_path_it_names(bot, payload, expected):
    [reply] = await bot.say(LEA, f"/start {payload}")
    assert expected in reply.text


async def test_the_command_menu_is_registered_with_the_wording_of_messages_yaml(bot):
    assert [c["command"] for c in bot.fake.commands] == list(MENU_COMMANDS)
    menu = {c["command"]: c["description"] for c in bot.fake.commands}
    assert menu["diagnostic"] == "Mon projet est-il un PTCE ? Le questionnaire"
    assert menu["oublier"] == "Effacer vos données"


async def test_an_unknown_command_says_which_exist(bot):
    [reply] = await bot.say(LEA, "/inconnue")
    assert "/inconnue" in reply.text and "/aide" in reply.text


@pytest.mark.parametrize("separator", ["\n", "\t", "\u00a0", "\u200b"])
async def test_a_command_followed_by_a_line_break_or_odd_space_is_understood(bot, separator):
    """Found by fuzzing: "/aide" then a line break was answered "je ne connais pas la
    commande /aide…"."""
    [reply] = await bot.say(LEA, f"/aide{separator}merci")
    assert "Je réponds aux questions" in reply.text
    if separator.isspace():
        [reply] = await bot.say(LEA, f"/start{separator}q-def-article9")
        assert "article 9" in reply.text


# --------------------------------------------------------------------------------------------
# Questions


async def test_a_question_gets_the_answer_its_source_and_buttons(bot):
    [answer] = await bot.say(LEA, "c koi un ptce")
    assert answer.raw.startswith("<b>Qu'est-ce qu'un PTCE\u202f?</b>")  # never wraps before ?
    assert "regroupement d'acteurs" in answer.text
    assert "Source :" in answer.text.splitlines()[-1]
    assert any(label.startswith("➜ ") for label in answer.labels)
    assert answer.buttons[-1][0]["text"] == "👍 Utile"
    assert answer.buttons[-1][1]["text"] == "👎 Pas utile"


async def test_a_see_also_button_opens_the_related_entry(bot):
    [answer] = await bot.say(LEA, "c koi un ptce")
    label = next(label for label in answer.labels if label.startswith("➜ "))
    [related] = await bot.press(LEA, label)
    assert related.method == "sendMessage"
    assert related.text.startswith(label.removeprefix("➜ "))


async def test_an_off_topic_question_is_declined_with_a_way_forward(bot):
    [reply] = await bot.say(LEA, "quel temps fera-t-il demain à Lyon ?")
    assert "Source" not in reply.text
    assert "📚 Parcourir les thèmes" in reply.labels


async def test_close_candidates_are_offered_as_buttons(bot):
    [reply] = await bot.say(LEA, "ptce état")  # several entries talk about the State
    assert reply.text.startswith("Je ne suis pas certain")
    assert reply.labels[-1] == "Aucune de ces questions"
    [answer] = await bot.press(LEA, reply.labels[0])
    assert answer.text.startswith(reply.labels[0])


# --------------------------------------------------------------------------------------------
# Browsing by theme, feedback, stale buttons


async def test_themes_are_browsed_in_place_and_back(bot):
    [themes] = await bot.say(LEA, "/themes")
    assert themes.text == "Choisissez un thème :"
    [questions] = await bot.press(LEA, themes.labels[0])
    assert questions.method == "editMessageText"
    assert questions.message_id == themes.message_id
    assert questions.labels[-1] == "⬅ Retour aux thèmes"
    [back] = await bot.press(LEA, "⬅ Retour aux thèmes")
    assert back.message_id == themes.message_id and back.labels == themes.labels
    [questions] = await bot.press(LEA, themes.labels[0])
    [answer] = await bot.press(LEA, questions.labels[0])
    assert answer.method == "sendMessage" and answer.text.startswith(questions.labels[0])


async def test_feedback_is_stored_and_its_buttons_go_away(bot):
    [answer] = await bot.say(LEA, "c koi un ptce")
    query = bot.fake.press(LEA, "👍 Utile")
    [edited] = await bot.fake.replies(LEA.id, after=len(bot.fake.sent))
    assert edited.method == "editMessageReplyMarkup" and edited.message_id == answer.message_id
    assert "👍 Utile" not in edited.labels
    assert edited.labels == [label for label in answer.labels if label.startswith("➜ ")]
    assert bot.fake.answered_callbacks[query]["text"] == "Merci pour votre retour !"
    assert bot.store.feedback() == [{"entry_id": "def-ptce", "up": 1, "down": 0}]


async def test_a_thumbs_down_asks_what_was_wrong_with_buttons(bot):
    [answer] = await bot.say(LEA, "c koi un ptce")
    query = bot.fake.press(LEA, "👎 Pas utile")
    edited, why = await bot.fake.replies(LEA.id, after=len(bot.fake.sent), count=2)
    assert edited.method == "editMessageReplyMarkup" and edited.message_id == answer.message_id
    assert "👎 Pas utile" not in edited.labels
    assert bot.fake.answered_callbacks[query]["text"] == "Merci, c'est noté."
    assert why.labels == ["Pas la bonne réponse", "Incomplète", "Pas claire"]
    query = bot.fake.press(LEA, "Pas claire")
    [gone] = await bot.fake.replies(LEA.id, after=len(bot.fake.sent))
    assert gone.method == "editMessageReplyMarkup" and gone.labels == []
    assert bot.fake.answered_callbacks[query]["text"].startswith("Merci, c'est noté")
    assert bot.store.feedback_reasons() == [{"entry_id": "def-ptce", "reason": "unclear",
                                             "n": 1}]


async def test_a_stale_button_gets_a_polite_answer(bot):
    [answer] = await bot.say(LEA, "c koi un ptce")
    before = len(bot.fake.sent)
    query = bot.fake.press_data(LEA, answer, "q:entree-supprimee-depuis")
    [reply] = await bot.fake.replies(LEA.id, after=before)
    assert "n'est plus valable" in reply.text
    assert query in bot.fake.answered_callbacks


async def test_a_button_press_after_a_restart_still_works(content, store):
    """Buttons carry self-contained data: a bot restarted in between understands them."""
    async for bot in start_bot(content, store):
        [answer] = await bot.say(LEA, "c koi un ptce")
    async for bot in start_bot(content, store):
        before = len(bot.fake.sent)
        bot.fake.messages[LEA.id][answer.message_id] = answer
        bot.fake.press(LEA, answer.labels[0])
        [reply] = await bot.fake.replies(LEA.id, after=before)
        assert reply.text.startswith(answer.labels[0].removeprefix("➜ "))


# --------------------------------------------------------------------------------------------
# Telegram hygiene: HTML, long texts, other input, errors


async def test_html_characters_in_a_first_name_do_not_break_the_greeting(bot):
    tricky = FakeUser(1002, "<Léa & Co>")
    [welcome] = await bot.say(tricky, "/start")
    assert welcome.text.startswith("Bonjour <Léa & Co> !")
    assert bot.fake.rejected == []


async def test_html_characters_in_a_question_are_harmless(bot):
    [reply] = await bot.say(LEA, "<b>c'est quoi</b> un PTCE & une SCIC ?")
    assert reply.text
    assert bot.fake.rejected == []


@pytest.fixture
def long_glossary(content_copy: Path) -> Content:
    """The content with a glossary grown past one Telegram message."""
    path = content_copy / "knowledge" / "glossary.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for n in range(120):
        data["terms"].append({
            "term": f"Sigle{n:03d}", "id": f"gloss-sigle{n:03d}",
            "full": f"Intitulé développé numéro {n} & sa définition <longue>",
            "definition": "Une définition.", "source": {"ref": "seed-000", "section": "Annexe"}})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return content_module.load(content_copy)


async def test_a_reply_over_4096_characters_is_split_between_lines(long_glossary, store):
    async for bot in start_bot(long_glossary, store):
        before = len(bot.fake.sent)
        bot.fake.send_text(LEA, "/glossaire")
        await bot.fake.idle()
        parts = [s for s in bot.fake.sent[before:] if s.chat_id == LEA.id]
        assert len(parts) >= 2 and bot.fake.rejected == []
        joined = "\n".join(p.text for p in parts)
        for n in (0, 60, 119):
            assert f"• Sigle{n:03d} : Intitulé développé numéro {n} & sa définition <longue>" \
                in joined.splitlines()


def test_splitting_keeps_paragraphs_whole_and_every_piece_valid():
    paragraphs = ["<b>Titre</b>"] + [f"Paragraphe {n} " + "mot &amp; " * 60 for n in range(20)]
    messages = split_message(paragraphs, limit=1000)
    assert all(len(m) <= 1000 for m in messages)
    assert "\n\n".join(messages) == "\n\n".join(paragraphs)
    single = split_message(["<i>" + "x" * 2500 + "</i>"], limit=1000)
    assert all(m.startswith("<i>") and m.endswith("</i>") and len(m) <= 1000 for m in single)


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "location", "document"])
async def test_non_text_messages_get_an_explanation(bot, kind):
    before = len(bot.fake.sent)
    bot.fake.send_content(LEA, kind)
    [reply] = await bot.fake.replies(LEA.id, after=before)
    assert "Je ne lis que le texte" in reply.text


async def test_an_over_long_message_is_refused_kindly(bot):
    [reply] = await bot.say(LEA, "Bonjour, voici mon projet. " * 200)
    assert "trop long" in reply.text


async def test_odd_unicode_gets_a_reply(bot):
    [reply] = await bot.say(LEA, "\u200b\u202e𝕔'𝕖𝕤𝕥 𝕢𝕦𝕠𝕚 🤔\ufeff")
    assert reply.text and bot.fake.rejected == []


async def test_flood_control_429_is_retried_and_the_reply_arrives_once(bot):
    bot.fake.fail_next("sendMessage", 429, retry_after=1, chat_id=LEA.id)
    [answer] = await bot.say(LEA, "c koi un ptce")
    assert answer.text.startswith("Qu'est-ce qu'un PTCE ?")
    assert ("sendMessage", "Too Many Requests: retry after 1") in bot.fake.rejected
    await bot.fake.idle()
    assert [s.text for s in bot.fake.sent if s.chat_id == LEA.id] == [answer.text]


async def test_a_user_who_blocked_the_bot_is_marked_inactive_not_retried(bot):
    await bot.say(LEA, "bonjour")
    assert bot.store.is_active("telegram", str(LEA.id))
    bot.fake.block(LEA.id)
    bot.fake.send_text(LEA, "c koi un ptce")
    await bot.fake.idle()
    attempts = [m for m, p in bot.fake.calls if m == "sendMessage" and p["chat_id"] == str(LEA.id)]
    assert len(attempts) == 2  # the greeting's reply, then one refused attempt
    assert not bot.store.is_active("telegram", str(LEA.id))
    bot.fake.blocked.clear()  # Léa unblocks the bot and writes again
    await bot.say(LEA, "c koi un ptce")
    assert bot.store.is_active("telegram", str(LEA.id))


# --------------------------------------------------------------------------------------------
# Groups


async def test_in_a_group_the_bot_only_answers_when_addressed(bot):
    before = len(bot.fake.sent)
    bot.fake.send_text(LEA, "c'est quoi un ptce ?", chat_id=GROUP)
    await bot.fake.idle()
    assert [s for s in bot.fake.sent[before:] if s.chat_id == GROUP] == []
    [answer] = await bot.say(LEA, "@ptce_test_bot c'est quoi un ptce ?", chat_id=GROUP)
    assert answer.text.startswith("Qu'est-ce qu'un PTCE ?")
    [help_] = await bot.say(LEA, "/aide@ptce_test_bot", chat_id=GROUP)
    assert "Je réponds aux questions" in help_.text


# --------------------------------------------------------------------------------------------
# Logs


async def test_the_token_never_appears_in_logs(content, store, caplog):
    scrubber = TokenScrubber(TOKEN)
    scrubber.install()
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # even if request URLs get logged
    caplog.set_level(logging.DEBUG)
    try:
        async for bot in start_bot(content, store):
            await bot.say(LEA, "c koi un ptce")
            bot.fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
            bot.fake.send_text(LEA, "bonjour")
            await bot.fake.idle()
    finally:
        scrubber.uninstall()
        logging.getLogger("httpx").setLevel(logging.WARNING)
    assert "getUpdates" in caplog.text  # request URLs were logged…
    assert TOKEN not in caplog.text  # …without the token
    assert TOKEN.split(":")[1] not in caplog.text


# --------------------------------------------------------------------------------------------
# The questionnaire on Telegram


async def test_the_questionnaire_sends_its_verdict_chart_and_report(bot):
    await bot.say(LEA, "/start")
    await bot.press(LEA, "🧭 Mon projet est-il un PTCE ?", count=2)
    await bot.press(LEA, "Je porte le projet (ou j'en suis membre)")
    await bot.say(LEA, "<Léa & Co>")  # the project's name, with HTML characters
    [confirm] = await bot.say(LEA, "drome")
    assert confirm.labels[0] == "Drôme (26)"
    await bot.press(LEA, "Drôme (26)")
    await bot.press(LEA, "Un bassin de vie, un pays, une vallée")
    await bot.press(LEA, "Rural")
    await bot.press(LEA, "Un groupement d'employeurs ou un GEIQ")
    [recap] = await bot.press(LEA, "Non, elle agit seule")
    assert recap.text.startswith("📋 Récapitulatif")
    assert "→ <Léa & Co>" in recap.text
    verdict, advice, photo, document = await bot.press(LEA, "✅ Voir le résultat", count=4)
    assert verdict.text.startswith("🧭 Pas (encore) un PTCE en l'état")
    assert advice.text.startswith("Éligible aux appels de l'État")
    # The verdict came at once; the chart and report followed, announced and shown coming.
    assert advice.text.endswith("Votre graphique et votre rapport PDF arrivent dans un "
                                "instant.")
    assert (LEA.id, "upload_photo") in bot.fake.chat_actions
    assert photo.method == "sendPhoto" and photo.file_bytes.startswith(b"\x89PNG")
    assert document.method == "sendDocument" and document.file_name.endswith(".pdf")
    assert "<Léa & Co>" in pdf_text(document.file_bytes)
    assert bot.fake.rejected == []


async def test_a_verdicts_files_lost_with_a_stop_are_sent_at_the_next_start(content, store):
    """The bot stopped between Léa's verdict and its chart and report: they come with the
    next start, once."""
    conversation = Conversation(content, store)
    conversation.defer_drawing()  # as on Telegram
    lea = Founder(conversation, user_id=str(LEA.id), channel="telegram")
    lea.start()
    lea.answer({**POLE_SUD_ARCHER, "project_name": "Pôle du redémarrage"})
    _, advice = lea.result()
    assert advice.files_to_follow and advice.attachments == ()  # the stop came here
    async for running in start_bot(content, store):
        photo, document = await running.fake.replies(LEA.id, count=2)
        assert photo.method == "sendPhoto" and document.method == "sendDocument"
        assert "Pôle du redémarrage" in pdf_text(document.file_bytes)
    async for running in start_bot(content, store):
        await running.fake.idle()
        assert running.fake.by_chat[LEA.id] == []  # sent once


async def test_an_update_sent_again_after_a_crash_is_not_handled_twice(bot):
    """Telegram sends again the updates a crashed bot had not confirmed: the answer typed
    once must not be applied to the next question too."""
    await bot.say(LEA, "/diagnostic", count=2)
    await bot.press(LEA, "Je porte le projet (ou j'en suis membre)")
    before = len(bot.fake.sent)
    update_id = bot.fake.send_text(LEA, "Pôle Sud")  # the project's name
    [department] = await bot.fake.replies(LEA.id, after=before)
    assert "département" in department.text
    before = len(bot.fake.sent)
    bot.fake.redeliver(update_id)
    await bot.fake.idle()
    assert [s for s in bot.fake.sent[before:] if s.chat_id == LEA.id] == []
    [confirm] = await bot.say(LEA, "drome")  # the department question is still the one asked
    assert confirm.labels[0] == "Drôme (26)"
    [session] = bot.store.db.query("SELECT state FROM sessions")
    assert "Pôle Sud" in session["state"] and session["state"].count("Pôle Sud") == 1


def test_an_update_whose_handling_never_finished_is_handled_when_sent_again(tmp_path):
    """The claim of an update is written with what handling it changes, or not at all: after a
    crash in the middle, Telegram's second delivery gets its answer instead of silence."""
    store = Store(tmp_path / "ptce.sqlite3")
    with pytest.raises(RuntimeError), store.transaction():
        assert store.claim_update("telegram", 41)
        store.record_question("telegram", "answer", "definition")
        raise RuntimeError("the process dies here")
    assert list(store.db.query("SELECT * FROM questions")) == []
    assert store.claim_update("telegram", 41)
    assert not store.claim_update("telegram", 41)
