"""The founder's report: a radar chart readable on a phone and a PDF people can send."""

from __future__ import annotations

import io
import re
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from bot.channels.telegram.drawing import Drawings
from bot.content import load as content_module
from bot.content.model import Content
from bot.qualification.radar import draw_radar_png
from bot.qualification.report import (
    chart_filename,
    radar_png,
    report_filename,
    report_pdf,
)
from bot.qualification.results import (
    IN_THE_MAKING,
    MET,
    MISSING,
    PARTIAL,
    AnswerLine,
    CriterionResult,
    ObjectiveScore,
    Result,
)
from bot.qualification.rules import document_words
from tests.support.content_edits import edit
from tests.support.documents import pdf_pages, pdf_text

LAW = "Loi du 31 juillet 2014, article 9"
TERRITORY = "Cultiver et servir le territoire"
COOPERATION = "Conduire un projet global basé sur la coopération"
ECONOMY = "Développer une économie intégrée au territoire"


@pytest.fixture(scope="module")
def result(content: Content) -> Result:
    """A project in the making, named in a way that would break careless HTML; the words of
    its chart and report are the shipped ones."""
    assert content.dialog is not None
    return Result(
        verdict=IN_THE_MAKING,
        verdict_label="PTCE en devenir",
        verdict_text=(
            "Votre projet a les bases d'un PTCE : plusieurs structures de l'ESS, un territoire "
            "et une stratégie commune. Il reste à associer une entreprise hors ESS."
        ),
        maturity="Émergent : la coopération a commencé, sans être encore formalisée.",
        criteria=(
            CriterionResult("L1", "Plusieurs entreprises de l'ESS, à l'origine et au cœur du pôle",
                            True, MET, "Quatre structures de l'ESS portent le projet.",
                            "« un regroupement sur un même territoire d'entreprises de l'ESS »",
                            LAW),
            CriterionResult("L2", "Un territoire défini par les membres", True, MET,
                            "Le Diois, dans la Drôme.", "« sur un même territoire »", LAW),
            CriterionResult("L3", "Des entreprises hors ESS associées", False, MISSING,
                            "Aucune entreprise classique n'est encore associée.",
                            "« qui s'associent à des entreprises »", LAW),
            CriterionResult("L4", "En lien avec collectivités, recherche, formation", False,
                            PARTIAL, "La communauté de communes est en discussion.",
                            "« en liaison avec des collectivités territoriales »", LAW),
            CriterionResult("L5", "Une stratégie commune et continue", True, MET,
                            "Une convention signée il y a deux ans.",
                            "« une stratégie commune et continue »", LAW),
            CriterionResult("L6", "Mutualisation, coopération ou partenariat", False, MET,
                            "Vous mutualisez des compétences et un local.",
                            "« de mutualisation, de coopération ou de partenariat »", LAW),
            CriterionResult("L7", "Des projets économiques et sociaux innovants", True, PARTIAL,
                            "Une activité économique existe ; l'innovation reste à préciser.",
                            "« projets économiques et sociaux innovants »", LAW),
            CriterionResult("L8", "Un développement local durable", False, MET,
                            "Six emplois locaux créés.", "« développement local durable »", LAW),
        ),
        eligible=False,
        eligibility_text="pas encore, parce qu'aucune entreprise hors ESS n'est membre.",
        objectives=(
            ObjectiveScore("ancrage", "Ancrage territorial", TERRITORY, 85),
            ObjectiveScore("developpement", "Développement local durable", TERRITORY, 70),
            ObjectiveScore("partenariats", "Partenariats (dont public/privé)", TERRITORY, 40),
            ObjectiveScore("ethique", "Éthique et valeurs", COOPERATION, 100),
            ObjectiveScore("cooperer", "Coopérer, mutualiser", COOPERATION, 65),
            ObjectiveScore("gouvernance", "Gouvernance citoyenne", COOPERATION, 30),
            ObjectiveScore("dynamisme", "Dynamisme économique", ECONOMY, 55),
            ObjectiveScore("recherche", "Recherche et développement", ECONOMY, 0),
            ObjectiveScore("transversalite",
                           "Transversalité économique, sociale et environnementale", ECONOMY, 60),
        ),
        strengths=("Éthique et valeurs : vos valeurs communes sont écrites et partagées.",),
        next_steps=(
            "Associez une PME locale à votre prochain projet commun.",
            "Prenez contact avec un laboratoire ou une école pour la recherche et développement.",
        ),
        answers=(
            AnswerLine("Qui répond", "Vous êtes…", "Porteuse du projet"),
            AnswerLine("Qui répond", "Nom du projet", "<Léa & Co>"),
            AnswerLine("Territoire", "Département(s)", "Drôme (26)"),
            AnswerLine("Membres", "Combien de structures de l'ESS ?", "2 à 4"),
        ),
        project="<Léa & Co>",
        department="Drôme (26)",
        region="Auvergne-Rhône-Alpes",
        date="2026-11-26",
        version="1.2",
        notes=(AnswerLine("Membres", "", "Relancer la scierie de Die en janvier."),),
        description="Une filière bois locale, de la forêt du Diois aux menuisiers.",
        coordination="CRESS Auvergne-Rhône-Alpes",
        words=document_words(content.dialog),
    )


@pytest.fixture(scope="module")
def chart(result: Result) -> bytes:
    return radar_png(result)


@pytest.fixture(scope="module")
def document(result: Result, chart: bytes) -> bytes:
    return report_pdf(replace(result, notes=()), chart)


@pytest.fixture(scope="module")
def text(document: bytes) -> str:
    return pdf_text(document)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, read from its IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --- The chart -------------------------------------------------------------------------------


def test_the_chart_is_a_png_large_enough_for_a_phone(chart):
    width, height = png_size(chart)
    assert width >= 800 and height >= 800


def test_the_chart_can_be_drawn_again_and_again(result, chart):
    # drawn anew, not the kept copy
    again = draw_radar_png(result.objectives, result.project, result.date, result.words)
    assert len(chart) > 1000 and len(again) > 1000
    assert again == chart  # same answers, same picture (no timestamp in the file)


def test_charts_can_be_drawn_from_several_threads_at_once(result, chart):
    with ThreadPoolExecutor(max_workers=4) as pool:
        charts = list(pool.map(
            lambda _: draw_radar_png(result.objectives, result.project, result.date,
                                     result.words), range(4)))
    assert all(drawn == chart for drawn in charts)


def test_a_radar_needs_at_least_three_objectives(result):
    with pytest.raises(ValueError):
        radar_png(replace(result, objectives=result.objectives[:2]))


def test_an_objective_not_examined_is_drawn_as_such(result, chart):
    unexamined = tuple(replace(o, score=0, examined=False) if o.id == "recherche" else o
                       for o in result.objectives)
    other = draw_radar_png(unexamined, result.project, result.date, result.words)
    assert other != chart and png_size(other) == png_size(chart)
    grey = (0x8A, 0x8A, 0x85)  # its name and « (non examiné) »
    assert colour_count(other, grey, tolerance=3) > 200
    assert colour_count(chart, grey, tolerance=3) == 0


def test_higher_scores_cover_more_of_the_chart(result):
    """The polygon is the founder's profile: a project strong everywhere fills the circle,
    a weak one a small part of it."""
    def tinted(score: int) -> int:
        objectives = tuple(replace(o, score=score) for o in result.objectives)
        chart = draw_radar_png(objectives, result.project, result.date, result.words)
        return colour_count(chart, (218, 207, 230), tolerance=6)  # the polygon's light purple

    weak, middle, strong = tinted(25), tinted(50), tinted(100)
    assert 0 < weak < middle < strong
    assert strong > 3 * middle > 9 * weak * 0.9  # the area grows with the square of the score


def test_a_long_project_name_is_cut_and_stays_in_the_picture(result):
    from PIL import Image

    chart = draw_radar_png(result.objectives, "Coopérative " * 20, result.date, result.words)
    title = Image.open(io.BytesIO(chart)).convert("RGB").crop((0, 15, 1000, 75))
    margins = [title.getpixel((x, y)) for x in (*range(15), *range(985, 1000))
               for y in range(60)]
    assert all(min(pixel) >= 250 for pixel in margins)  # white


def colour_count(png: bytes, colour: tuple[int, int, int], tolerance: int = 0) -> int:
    """How many pixels of the picture have ``colour`` (each channel within ``tolerance``)."""
    from PIL import Image

    colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 24) or []
    return sum(count for count, pixel in colours
               if all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True)))


# --- The PDF report --------------------------------------------------------------------------


def test_the_report_is_a_pdf_whose_first_page_holds_the_essentials(document, result):
    first = pdf_pages(document)[0]
    assert first.startswith("Mon projet est-il un PTCE ? — rapport <Léa & Co>")
    for essential in ("Une filière bois locale, de la forêt du Diois aux menuisiers.",
                      "Coordination régionale CRESS Auvergne-Rhône-Alpes",
                      "Verdict : PTCE en devenir", "Prochaines étapes"):
        assert essential in first
    assert first.index("Une filière bois locale") < first.index("Verdict")


def test_the_verdict_maturity_and_eligibility_are_shown(text):
    assert "Il reste à associer une entreprise hors ESS." in text
    assert "Stade de maturité : Émergent : la coopération a commencé" in text
    # The same words as the chat's (the decree named).
    assert ("Éligible aux appels de l'État en l'état (décret n° 2015-431 du 15 avril 2015) : "
            "pas encore, parce qu'aucune entreprise "
            "hors ESS n'est membre.") in text


def test_each_criterion_shows_its_status_label_level_and_explanation(text, result):
    for criterion in result.criteria:
        level = "bloquant" if criterion.blocking else "attendu"
        assert f"{criterion.id} " in text
        assert f"({level})" in text
        assert criterion.explanation in text
    assert "✘ manquant" in text and "⚠ en partie" in text and "✔ rempli" in text
    assert "Texte de chaque critère : Loi du 31 juillet 2014, article 9." in text


def test_the_date_is_written_in_french_with_the_questionnaire_version(text):
    assert "Date 26 novembre 2026 · questionnaire 1.2" in text
    assert "2026-11-26" not in text


def test_the_territory_appears(text):
    assert "Territoire Drôme (26), Auvergne-Rhône-Alpes" in text


def test_every_answer_is_listed_under_its_section(text, result):
    for line in result.answers:
        assert f"{line.question} {line.answer}" in text
    assert text.index("Qui répond Vous êtes…") < text.index("Territoire Département(s)") \
        < text.index("Membres Combien de structures")


def test_strengths_and_next_steps_are_there(text):
    assert "Points forts • Éthique et valeurs : vos valeurs communes" in text
    assert "Prochaines étapes 1. Associez une PME locale" in text


def test_the_scores_are_listed_and_an_objective_not_examined_says_so(result, chart):
    text = pdf_text(report_pdf(result))  # without a chart, the scores are still there
    assert "Recherche et développement 0/100" in text
    assert "Éthique et valeurs 100/100" in text
    unexamined = replace(result, objectives=tuple(
        replace(o, examined=False) if o.id == "recherche" else o for o in result.objectives))
    assert "Recherche et développement non examiné" in pdf_text(report_pdf(unexamined, chart))


def test_the_founders_report_has_no_notes_and_the_advisers_is_confidential(result, chart,
                                                                           text):
    assert "Relancer la scierie" not in text and "Confidentiel" not in text
    advisers = pdf_text(report_pdf(replace(result, adviser="DLA de la Drôme"), chart))
    assert advisers.startswith("Confidentiel — notes de l'accompagnateur (DLA de la Drôme) : à "
                               "ne pas transmettre au porteur du projet")
    assert "Notes de l'accompagnateur (privées) Membres Relancer la scierie de Die en janvier." \
        in advisers
    assert advisers.index("Notes de l'accompagnateur (privées)") < advisers.index("Vos réponses")


def test_the_footer_says_it_is_not_the_official_referentiel(document):
    for number, page in enumerate(pdf_pages(document), 1):
        assert page.endswith("Outil inspiré du référentiel des PTCE — ce n'est pas le "
                             f"référentiel officiel ; ce rapport n'est pas un label. Page "
                             f"{number}/{len(pdf_pages(document))}")


def test_the_same_result_gives_the_same_document(result, chart, document):
    assert report_pdf(replace(result, notes=()), chart) == document


def test_emoji_and_odd_characters_in_a_name_do_not_break_the_document(result, chart):
    odd = replace(result, project="Pôle 🌱 « Bois » \u202eZ", description="Léa & Co 🧭")
    text = pdf_text(report_pdf(odd, chart))
    assert "Pôle « Bois »" in text and "« Léa & Co »" in text


# --- The file name ---------------------------------------------------------------------------


def test_the_file_name_is_ascii_and_safe(result):
    name = report_filename(result)
    assert name == "rapport-ptce-lea-co-2026-11-26.pdf"
    assert chart_filename(result) == "profil-ptce-lea-co-2026-11-26.png"
    assert name.isascii()
    assert re.fullmatch(r"[a-z0-9.-]+", name)


def test_a_project_without_a_usable_name_gets_a_generic_file_name(result):
    assert report_filename(replace(result, project="")) == "rapport-ptce-projet-2026-11-26.pdf"
    assert report_filename(replace(result, project="../../Œuvre/∞")) == \
        "rapport-ptce-oeuvre-2026-11-26.pdf"


def test_the_drawing_process_serves_a_waiting_lead_before_the_files_in_turn(result):
    """Four founders' verdicts are shown and their files queue at the drawing process; a
    lead, whose receipt waits on its files, is drawn right after the drawing in progress.
    A result asked for twice is drawn once, for both."""
    drawings = Drawings()
    finished: list[str] = []

    def draw(project: str, urgent: bool = False) -> tuple[bytes, bytes]:
        files = drawings.draw(replace(result, project=project), urgent=urgent)
        finished.append(project)
        return files

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            first = pool.submit(draw, "Premier")
            in_turn = [pool.submit(draw, name) for name in ("Deux", "Trois", "Quatre")]
            time.sleep(0.3)  # "Premier" is being drawn, the three others wait
            lead = pool.submit(draw, "Quatre", True)  # already queued: moves up
            chart, report = lead.result(timeout=120)
            for future in (first, *in_turn):
                future.result(timeout=120)
    finally:
        drawings.close()
    assert finished[:3] == ["Premier", "Quatre", "Quatre"]
    assert sorted(finished[3:]) == ["Deux", "Trois"]
    assert chart.startswith(b"\x89PNG") and "Quatre" in pdf_text(report)


def test_stopping_the_drawing_process_releases_whoever_waits(result):
    """On SIGTERM with results queued: the callers waiting for them are told at once (the
    channel then makes the files itself, or the bot stops) instead of hanging."""
    drawings = Drawings()
    with ThreadPoolExecutor(max_workers=3) as pool:
        waiting = [pool.submit(drawings.draw, replace(result, project=name))
                   for name in ("Un", "Deux", "Trois")]
        time.sleep(0.3)  # "Un" is being drawn, the two others wait
        started = time.monotonic()
        drawings.close()
        outcomes = []
        for future in waiting:
            try:
                outcomes.append(future.result(timeout=30)[0][:4])
            except RuntimeError as error:
                outcomes.append(str(error))
    assert time.monotonic() - started < 30
    assert outcomes[1:] == ["drawing stopped", "drawing stopped"]
    with pytest.raises(RuntimeError):
        drawings.draw(result)


def test_an_editor_rewords_the_report_and_the_chart_in_the_yaml(result, content_copy):
    """The documents' words are content: edited in dialogs/qualification.yaml, they change
    the PDF and the chart without touching Python."""
    dialog_file = content_copy / "dialogs" / "qualification.yaml"
    edit(dialog_file, 'report_answers: "Vos réponses"', 'report_answers: "Réponses du porteur"')
    edit(dialog_file, 'chart_legend: "Objectifs généraux"', 'chart_legend: "Les trois axes"')
    edited = content_module.load(content_copy)
    assert edited.dialog is not None
    reworded = replace(result, words=document_words(edited.dialog))
    text = pdf_text(report_pdf(reworded, None))
    assert "Réponses du porteur" in text and "Vos réponses" not in text
    assert draw_radar_png(result.objectives, result.project, result.date, reworded.words) != \
        draw_radar_png(result.objectives, result.project, result.date, result.words)
