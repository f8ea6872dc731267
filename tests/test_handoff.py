"""A founder is put in touch with their regional coordination — with consent — and the
coordination works the lead; the founder sees and erases their data. Through the core."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from bot.core.conversation import COORDINATION, Conversation
from bot.core.messages import Input
from bot.ops.config import Channels, Config
from bot.storage.db import Store
from tests.support.founders import POLE_SUD_ARCHER, Founder

ARA = Channels((-1001,), ("ptce@cress-ara.exemple",), "http://127.0.0.1:9/hook")
FALLBACK = Channels((-999,), (), None)
ADMIN = 4242


@pytest.fixture
def conversation(content, store: Store) -> Conversation:
    config = Config(coordinations={"auvergne-rhone-alpes": ARA}, fallback=FALLBACK,
                    admins=frozenset({ADMIN}), retention_days=365)
    return Conversation(content, store, config=config)


def deliveries(store: Store) -> list[tuple[str, str, str, int]]:
    return [(d["purpose"], d["kind"], d["target"], d["fallback"])
            for d in store.db.query("SELECT * FROM deliveries ORDER BY id")]


def finished(conversation: Conversation, user_id: str = "founder",
             channel: str = "test") -> Founder:
    founder = Founder(conversation, user_id, channel)
    founder.start()
    founder.answer(POLE_SUD_ARCHER)
    founder.result()
    return founder


def give_contact(founder: Founder) -> list:
    founder.press("✅ J'accepte")
    founder.type("Léa Martin")
    founder.type("Association Pôle Sud")
    founder.type("lea.martin@exemple.fr")
    founder.type("06 12 34 56 78")
    founder.press("Par e-mail")
    founder.type("Nous voulons lancer une filière locale de la chaussure.")
    return founder.press("📨 Envoyer")


def test_the_founder_sees_who_receives_what_and_why_before_consenting(conversation):
    founder = finished(conversation)
    [consent] = founder.press("📍 Contacter ma coordination régionale")
    text = consent.text
    assert "CRESS Auvergne-Rhône-Alpes (Auvergne-Rhône-Alpes)" in text  # Drôme → ARA
    assert "le résumé de votre questionnaire" in text and "coordonnées" in text
    assert "365 jours" in text and "/oublier" in text
    assert [b.label for row in consent.buttons for b in row] == ["✅ J'accepte", "✖ Non merci"]


def test_without_consent_nothing_is_stored_or_sent(conversation, store):
    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    [refused] = founder.press("✖ Non merci")
    assert "rien n'a été transmis ni conservé" in refused.text
    assert list(store.db.query("SELECT * FROM leads")) == []
    assert list(store.db.query("SELECT * FROM handoffs")) == []
    assert deliveries(store) == []


def test_reprendre_asks_again_the_step_of_a_hand_off_in_progress(conversation):
    """A reply went missing (or the founder came back later): /reprendre shows where the
    hand-off stands, and the details already given are kept."""
    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    founder.press("✅ J'accepte")
    founder.type("Léa Martin")
    resumed, question = founder.type_command("reprendre")
    assert resumed.text.startswith("▶ Reprenons votre demande")
    assert question.text.startswith("Votre structure")
    founder.type("Association Pôle Sud")
    founder.type("lea.martin@exemple.fr")
    founder.type("06 12 34 56 78")
    [ask_message] = founder.press("Par e-mail")
    assert ask_message.text.startswith("Un mot pour la coordination ?")
    [confirm] = founder.press("Passer")
    assert "Nom : Léa Martin" in confirm.text and "Message : —" in confirm.text


def test_with_consent_the_lead_is_committed_and_queued_for_every_channel(conversation, store):
    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    [receipt] = give_contact(founder)
    assert receipt.text.startswith("✅ Votre demande n° 1 a été transmise à la CRESS "
                                   "Auvergne-Rhône-Alpes le ")
    [lead] = store.db.query("SELECT * FROM leads")
    assert lead["consent_version"] == "2026-11-consentement-1"
    assert lead["consent_at"] and lead["consent_recipient"] == "CRESS Auvergne-Rhône-Alpes"
    assert json.loads(lead["contact"])["phone"] == "06 12 34 56 78"
    assert lead["report"].startswith(b"%PDF-") and lead["verdict"] == "PTCE"
    assert deliveries(store) == [("lead", "telegram", "-1001", 0),
                                 ("lead", "email", "ptce@cress-ara.exemple", 0),
                                 ("lead", "webhook", "http://127.0.0.1:9/hook", 0)]
    assert list(store.db.query("SELECT * FROM handoffs")) == []  # the draft is gone


def test_contact_details_are_validated_and_asked_again(conversation):
    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    founder.press("✅ J'accepte")
    founder.type("Léa")
    founder.type("Pôle Sud")
    [error] = founder.type("lea.martin@")
    assert "ne semble pas valide" in error.text
    founder.type("lea@exemple.fr")
    [error] = founder.type("12")
    assert "Tapez un numéro français" in error.text
    founder.press("Passer")  # the e-mail is enough
    labels = [b.label for r in founder.replies for row in r.buttons for b in row]
    assert "Par e-mail" in labels and "Par téléphone" not in labels


def test_a_shared_telegram_contact_fills_the_phone(conversation, store):
    from bot.core.messages import Input

    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    founder.press("✅ J'accepte")
    founder.type("Léa")
    founder.type("Pôle Sud")
    [ask_phone] = founder.press("Passer")
    assert ask_phone.request_contact == "📱 Partager mon numéro"
    founder._got(conversation.handle(Input(founder.user, contact="+33612345678")))
    founder.press("Ici, sur Telegram")
    founder.press("Passer")
    founder.press("📨 Envoyer")
    [lead] = store.db.query("SELECT contact FROM leads")
    assert json.loads(lead["contact"])["phone"] == "06 12 34 56 78"


@pytest.mark.parametrize(("typed", "pick", "coordination"), [
    ("2A", "Corse-du-Sud (2A)", "cress-corse"),
    ("974", "La Réunion (974)", "ess-france-la-reunion"),
    ("35000", "Ille-et-Vilaine (35)", "cress-bretagne"),
])
def test_a_region_without_any_channel_names_the_national_fallback(conversation, store, typed,
                                                                    pick, coordination):
    """The consent and the receipt name who really receives the lead: these regions have no
    channel configured nor linked, so the national fallback does."""
    founder = Founder(conversation, f"direct-{typed}")
    [ask] = founder.press_data(COORDINATION)
    assert "dans quel département" in ask.text
    founder.type(typed)
    [consent] = founder.press(pick)
    assert "Qui recevra votre demande : l'équipe nationale de l'assistant PTCE" in consent.text
    [receipt] = give_contact(founder)
    assert "transmise à l'équipe nationale de l'assistant PTCE" in receipt.text
    [lead] = store.db.query("SELECT coordination_id, consent_recipient, flagged FROM leads")
    assert lead == {"coordination_id": coordination, "flagged": 1,
                    "consent_recipient": "l'équipe nationale de l'assistant PTCE"}
    assert deliveries(store) == [("lead", "telegram", "-999", 1)]


def test_a_region_whose_coordination_linked_its_group_names_it(conversation, store):
    """Linking a chat with a code is how a coordination joins: it then receives its region's
    leads, and the founder is told it is the one."""
    linked(conversation, "bretagne", "-3003")
    founder = Founder(conversation, "direct-35")
    founder.press_data(COORDINATION)
    founder.type("35000")
    [consent] = founder.press("Ille-et-Vilaine (35)")
    assert "Qui recevra votre demande : la CRESS Bretagne (Bretagne)" in consent.text
    [receipt] = give_contact(founder)
    assert "transmise à la CRESS Bretagne" in receipt.text
    assert deliveries(store) == [("lead", "telegram", "-3003", 0)]


def test_a_stale_button_while_the_department_is_asked_asks_for_it_again(conversation):
    """Found by fuzzing: "Passer" from an earlier hand-off, pressed while the department is
    asked, crashed (no coordination known yet)."""
    founder = Founder(conversation, "stale-department")
    founder.press_data(COORDINATION)
    [again] = founder.press_data("ks")
    assert "dans quel département" in again.text
    assert [b.label for row in again.buttons for b in row] == ["✖ Annuler"]


def test_typing_instead_of_consenting_asks_for_consent_again(conversation, store):
    """The same cause: a message typed while consent is asked showed the summary to send
    ("J'envoie ?", with empty details) instead of asking for consent again."""
    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    [again] = founder.type("d'accord")
    assert "Acceptez-vous cette transmission ?" in again.text
    assert [b.label for row in again.buttons for b in row] == ["✅ J'accepte", "✖ Non merci"]
    founder.press("✅ J'accepte")
    assert "votre nom" in founder.replies[0].text.lower()
    assert list(store.db.query("SELECT * FROM leads")) == []


def test_in_a_group_no_contact_data_is_asked(conversation):
    from bot.core.messages import Input, User

    [reply] = conversation.handle(Input(User("test", "-5:7"), button=COORDINATION,
                                        private=False))
    assert "message privé" in reply.text


def test_my_data_shows_and_exports_everything_then_forget_erases_it(conversation, store):
    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    give_contact(founder)
    [mine] = founder.type_command("mes_donnees")
    assert "Demande n° 1 à CRESS Auvergne-Rhône-Alpes" in mine.text
    exported = json.loads(mine.attachments[0].data)
    assert exported["demandes"][0]["contact"]["email"] == "lea.martin@exemple.fr"
    assert exported["questionnaires"][0]["reponses"]["project_name"] == "Pôle Sud Archer"

    [confirm] = founder.type_command("oublier")
    assert "C'est définitif" in confirm.text
    [done] = founder.press("🗑 Oui, tout effacer")
    assert "1 demande(s) retirée(s)" in done.text
    [lead] = store.db.query("SELECT * FROM leads")
    assert lead["status"] == "retiré" and lead["contact"] == "{}" and lead["report"] is None
    assert ("withdrawal", "email", "ptce@cress-ara.exemple", 0) in deliveries(store)
    assert list(store.db.query("SELECT * FROM sessions")) == []
    [nothing] = founder.type_command("mes_donnees")
    assert nothing.text == "Je ne garde aucune donnée personnelle vous concernant."


# --------------------------------------------------------------------------------------------
# The coordination's side


def linked(conversation: Conversation, region_id: str, chat: str) -> Founder:
    desk = conversation.coordinations
    assert desk is not None
    code = desk.new_invite(conversation.content.directory.for_region(region_id))
    coordinator = Founder(conversation, chat, channel="telegram")
    [reply] = coordinator.type_command("coordination", code)
    assert reply.text.startswith("✅ Cette discussion est reliée à")
    return coordinator


def test_a_coordinator_sees_and_works_only_their_regions_leads(conversation, store):
    founder = finished(conversation, "555", channel="telegram")
    founder.press("📍 Contacter ma coordination régionale")
    give_contact(founder)
    ara = linked(conversation, "auvergne-rhone-alpes", "-2001")
    bretagne = linked(conversation, "bretagne", "-2002")

    [listing] = ara.type_command("leads")
    assert "Demandes ouvertes pour Auvergne-Rhône-Alpes (1)" in listing.text
    [empty] = bretagne.type_command("leads")
    assert empty.text == "Aucune demande ouverte pour Bretagne."
    [refused] = bretagne.type_command("lead", "1")
    assert "introuvable" in refused.text and "Léa" not in refused.text

    [detail] = ara.type_command("lead", "1")
    assert "Léa Martin" in detail.text and detail.attachments[0].filename.endswith(".pdf")
    ara.press("🙋 Prendre en charge")
    [saved] = ara.type("Rendez-vous fixé le 3 décembre")
    assert saved.text == "Demande n° 1 : prise en charge."
    # The founder is told, on Telegram, that their request was taken in charge.
    [notice] = store.db.query("SELECT * FROM deliveries WHERE purpose = 'notice' AND "
                              "text LIKE '%a été prise en charge par%'")
    assert notice["target"] == "555" and "a été prise en charge par" in notice["text"]


@pytest.mark.parametrize("number", ["²", "١٢", "99999999999999999999999"])
def test_an_odd_lead_number_is_refused_politely(conversation, number):
    """Found by fuzzing: "²" passes ``str.isdigit`` but not ``int``, and a number past SQLite's
    integers overflowed — typed after /lead or forged into a button, both crashed."""
    coordinator = linked(conversation, "bretagne", "-2003")
    [usage] = coordinator.type_command("lead", number)
    assert usage.text.startswith("Tapez /lead suivi du numéro")
    for data in (f"lv:{number}", f"lp:{number}", f"lc:{number}"):
        [reply] = coordinator.press_data(data)
        assert reply.text.startswith(("Tapez /lead", "Demande introuvable")), data


def test_strangers_get_a_polite_refusal_and_nothing_else(conversation):
    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    give_contact(founder)
    stranger = Founder(conversation, "stranger")
    for command, args in (("leads", ""), ("lead", "1"), ("export", ""), ("stats", "")):
        [reply] = stranger.type_command(command, args)
        assert reply.text.startswith("Cette commande est réservée aux coordinations")
        assert not reply.attachments
    [bad] = stranger.type_command("coordination", "ZZZZ-9999")
    assert "n'est pas valable" in bad.text


def test_an_invitation_code_works_once(conversation):
    desk = conversation.coordinations
    code = desk.new_invite(conversation.content.directory.for_region("bretagne"))
    Founder(conversation, "-3001").type_command("coordination", code)
    [again] = Founder(conversation, "-3002").type_command("coordination", code)
    assert "n'est pas valable" in again.text


def test_the_csv_export_has_the_columns_and_neutralises_formulas(conversation):
    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    founder.press("✅ J'accepte")
    founder.type("=HYPERLINK(\"http://evil\")")
    founder.type("@SUM(A1)")
    founder.type("lea@exemple.fr")
    founder.type("+44 20 7946 0958")
    founder.press("Par e-mail")
    founder.press("Passer")
    founder.press("📨 Envoyer")
    ara = linked(conversation, "auvergne-rhone-alpes", "-2001")
    [export] = ara.type_command("export")
    data = export.attachments[0].data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data), delimiter=";"))
    assert rows[0][:4] == ["numero", "date", "region", "departement"]
    name, structure, phone = rows[1][7], rows[1][8], rows[1][10]
    assert name.startswith("'=") and structure.startswith("'@") and phone == "'+442079460958"


def test_an_admin_sees_statistics_of_every_region(conversation):
    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    give_contact(founder)
    admin = Founder(conversation, str(ADMIN), channel="telegram")
    [stats] = admin.type_command("stats")
    assert "• Auvergne-Rhône-Alpes — nouvelle : 1" in stats.text


def test_an_unacknowledged_lead_is_reminded_then_escalated(conversation, store):
    from datetime import UTC, datetime, timedelta

    from bot.handoff.outbox import Outbox

    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    give_contact(founder)
    outbox = Outbox(store, conversation.config, conversation.content.directory)
    now = datetime.now(UTC)
    assert outbox.remind(now + timedelta(hours=1)) == 0  # too early
    assert outbox.remind(now + timedelta(hours=73)) == 3  # the coordination's three channels
    assert outbox.remind(now + timedelta(hours=74)) == 0  # once
    assert outbox.remind(now + timedelta(hours=145)) == 1  # then the national fallback
    reminders = [d for d in deliveries(store) if d[0] == "reminder"]
    assert reminders[-1] == ("reminder", "telegram", "-999", 1)
    [lead] = store.db.query("SELECT flagged FROM leads")
    assert lead["flagged"] == 1


def test_a_lead_taken_in_charge_is_not_reminded(conversation, store):
    from datetime import UTC, datetime, timedelta

    from bot.handoff.leads import TAKEN, set_status
    from bot.handoff.outbox import Outbox

    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    give_contact(founder)
    set_status(store, 1, TAKEN, "")
    outbox = Outbox(store, conversation.config, conversation.content.directory)
    assert outbox.remind(datetime.now(UTC) + timedelta(days=30)) == 0


def test_old_personal_data_is_purged(conversation, store):
    from bot.handoff.leads import purge_older_than

    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    give_contact(founder)
    assert purge_older_than(store, "2000-01-01") == 0
    assert purge_older_than(store, "2999-01-01") == 1
    [lead] = store.db.query("SELECT contact, report FROM leads")
    assert lead["contact"] == "{}" and lead["report"] is None


def test_in_a_group_personal_data_is_neither_shown_nor_erased(conversation):
    """/mes_donnees in a group would post the member's file to everyone: refused, and so is
    /oublier; both point to the private chat."""
    founder = finished(conversation, "-42:7", channel="telegram")  # member 7 of group -42
    for command in ("mes_donnees", "oublier"):
        [reply] = conversation.handle(Input(founder.user, command=command, private=False))
        assert "message privé" in reply.text
        assert reply.attachments == () and reply.buttons == ()


# --------------------------------------------------------------------------------------------
# What a coordination needs, and what a founder is owed


def test_a_lead_says_how_to_reach_the_founder_and_carries_their_message(conversation, store):
    founder = finished(conversation, "777", channel="telegram")
    [consent] = founder.press("📍 Contacter ma coordination régionale")
    assert "elle recevra votre nom d'utilisateur Telegram" in consent.text
    give_contact(founder)
    [lead] = store.db.query("SELECT * FROM leads")
    contact = json.loads(lead["contact"])
    assert contact["telegram"] == "tg://user?id=777"  # no @username on this channel
    assert contact["message"] == "Nous voulons lancer une filière locale de la chaussure."
    ara = linked(conversation, "auvergne-rhone-alpes", "-2101")
    [listing] = ara.type_command("leads")
    assert [b.label for row in listing.buttons for b in row] == [
        "n° 1 — Pôle Sud Archer — Drôme — nouvelle"]
    [detail] = ara.type_command("lead", "1")
    assert "Message : Nous voulons lancer une filière locale" in detail.text
    assert "sur Telegram : tg://user?id=777" in detail.text


def test_the_receipt_is_queued_with_the_lead_and_settled_once_shown(conversation, store):
    """A crash between the commit and the chat's reply must not leave the founder without a
    receipt: it is in the outbox, due a minute later, unless the channel says it was shown."""
    founder = finished(conversation, "778", channel="telegram")
    founder.press("📍 Contacter ma coordination régionale")
    [receipt] = give_contact(founder)
    [queued] = store.db.query("SELECT * FROM deliveries WHERE purpose = 'notice'")
    assert queued["text"] == receipt.text and queued["target"] == "778"
    assert queued["status"] == "pending" and queued["next_attempt"] > queued["created"]
    assert receipt.settles == queued["id"]
    from bot.handoff import outbox
    outbox.settle(store, receipt.settles)
    [settled] = store.db.query("SELECT status FROM deliveries WHERE purpose = 'notice'")
    assert settled["status"] == "sent"


def test_contact_fields_lose_invisible_and_bidirectional_characters(conversation, store):
    founder = finished(conversation)
    founder.press("📍 Contacter ma coordination régionale")
    founder.press("✅ J'accepte")
    [refused] = founder.type("\u200b\u202e\u2066 \u200d")
    assert refused.kind == "error"  # a name made of nothing visible
    founder.type("Léa\u202e Martin\x00")
    founder.type("Pôle\u2067 Sud")
    founder.type("lea@exemple.fr")
    founder.press("Passer")
    founder.press("Par e-mail")
    founder.press("Passer")
    founder.press("📨 Envoyer")
    [lead] = store.db.query("SELECT contact FROM leads")
    contact = json.loads(lead["contact"])
    assert contact["name"] == "Léa Martin" and contact["structure"] == "Pôle Sud"


def test_after_forgetting_no_byte_of_the_contact_remains_in_the_files(conversation, store):
    founder = finished(conversation, "779", channel="telegram")
    founder.press("📍 Contacter ma coordination régionale")
    give_contact(founder)
    founder.type_command("oublier")
    [done] = founder.press("🗑 Oui, tout effacer")
    assert done.text.startswith("🗑 C'est fait : vos données ont été effacées et 1 demande")
    path = store.path
    for secret in (b"lea.martin@exemple.fr", b"06 12 34 56 78", "Léa Martin".encode(),
                   "filière locale de la chaussure".encode()):
        for file in (path, path.with_name(path.name + "-wal")):
            data = file.read_bytes() if file.exists() else b""
            assert secret not in data, (secret, file.name)


def test_admin_powers_stay_out_of_groups(conversation, store):
    founder = finished(conversation, "780", channel="telegram")
    founder.press("📍 Contacter ma coordination régionale")
    give_contact(founder)
    admin_in_group = Founder(conversation, f"-5005:{ADMIN}", channel="telegram")
    for command, args in (("leads", ""), ("lead", "1"), ("export", ""), ("stats", "")):
        [reply] = admin_in_group._got(conversation.handle(Input(
            admin_in_group.user, command=command, args=args, private=False)))
        assert "réservée aux coordinations" in reply.text and "Léa" not in reply.text
    admin = Founder(conversation, str(ADMIN), channel="telegram")
    [listing] = admin.type_command("leads")
    assert "(1)" in listing.text


def test_a_note_for_a_lead_rerouted_meanwhile_is_refused(conversation, store):
    from bot.handoff import leads as lead_store

    founder = finished(conversation, "781", channel="telegram")
    founder.press("📍 Contacter ma coordination régionale")
    give_contact(founder)
    ara = linked(conversation, "auvergne-rhone-alpes", "-2201")
    ara.type_command("lead", "1")
    ask, offer = ara.press("🙋 Prendre en charge")
    assert ask.force_reply and [b.label for row in offer.buttons for b in row] == ["Sans note"]
    lead_store.reroute(store, 1, "bretagne", "Bretagne", "cress-bretagne", "CRESS Bretagne")
    [refused] = ara.type("Appel prévu jeudi")
    assert "introuvable pour votre région" in refused.text
    [lead] = store.db.query("SELECT status FROM leads")
    assert lead["status"] == "nouveau"


def test_a_linked_chat_can_stop_and_an_old_code_expires(conversation, store):
    ara = linked(conversation, "auvergne-rhone-alpes", "-2301")
    [stopped] = ara.type_command("coordination", "stop")
    assert stopped.text.startswith("Cette discussion n'est plus reliée")
    desk = conversation.coordinations
    code = desk.new_invite(conversation.content.directory.for_region("bretagne"))
    store.db.execute("UPDATE invites SET created = '2020-01-01T00:00:00+00:00'")
    [expired] = ara.type_command("coordination", code)
    assert "expiré" in expired.text


def test_after_a_reload_that_brings_the_hand_off_a_typed_department_goes_to_it(content, store):
    """Deployed first without coordinations, the bot answered a question; a reload (SIGHUP)
    then brought the hand-off. « Drôme » typed when the hand-off asks for the department
    must go to the hand-off — it got an FAQ answer when the store had learnt, at the first
    message, which steps could ever be pending."""
    without = dataclasses.replace(content, directory=None)
    Founder(Conversation(without, store), "early").type("c'est quoi un ptce ?")
    reloaded = Conversation(content, store, config=Config(
        coordinations={"auvergne-rhone-alpes": ARA}, fallback=FALLBACK))
    founder = Founder(reloaded, "drome")
    [ask] = founder.press_data(COORDINATION)
    assert "dans quel département" in ask.text
    founder.type("Drôme")  # the hand-off asks which department is meant: Drôme (26)
    [consent] = founder.press("Drôme (26)")
    assert "CRESS Auvergne-Rhône-Alpes" in consent.text and "Acceptez-vous" in consent.text
