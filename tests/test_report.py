"""The founder's report: a radar chart and an HTML page that reads on a phone and on paper."""

from __future__ import annotations

import re
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from bot.report import draw_radar_png, radar_png, report_filename, report_html
from bot.results import (
    IN_THE_MAKING,
    MET,
    MISSING,
    PARTIAL,
    AnswerLine,
    CriterionResult,
    ObjectiveScore,
    Result,
)

LAW = "Loi du 31 juillet 2014, article 9"
TERRITORY = "Cultiver et servir le territoire"
COOPERATION = "Conduire un projet global basé sur la coopération"
ECONOMY = "Développer une économie intégrée au territoire"


@pytest.fixture(scope="module")
def result() -> Result:
    """A project in the making, named in a way that would break careless HTML."""
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
    )


@pytest.fixture(scope="module")
def chart(result: Result) -> bytes:
    return radar_png(result.objectives)


@pytest.fixture(scope="module")
def page(result: Result, chart: bytes) -> str:
    return report_html(result, chart)


@pytest.fixture(scope="module")
def text(page: str) -> str:
    return visible_text(page)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()  # character references are decoded: we read what the user reads
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script", "title")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script", "title")

    def handle_data(self, data):
        if not self.skip:
            self.chunks.append(data)


def visible_text(markup: str) -> str:
    """The text a reader sees, whitespace collapsed (cells and list items separated by a space)."""
    parser = _Text()
    parser.feed(markup.replace("><", "> <"))
    parser.close()
    return re.sub(r"\s+", " ", "".join(parser.chunks)).strip()


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
    again = draw_radar_png(result.objectives)  # drawn anew, not the kept copy
    assert len(chart) > 1000 and len(again) > 1000
    assert again == chart  # same answers, same picture (no timestamp in the file)


def test_charts_can_be_drawn_from_several_threads_at_once(result, chart):
    with ThreadPoolExecutor(max_workers=4) as pool:
        charts = list(pool.map(lambda _: draw_radar_png(result.objectives), range(4)))
    assert all(drawn == chart for drawn in charts)


def test_a_radar_needs_at_least_three_objectives(result):
    with pytest.raises(ValueError):
        radar_png(result.objectives[:2])


# --- The HTML report -------------------------------------------------------------------------


def test_the_report_is_a_french_mobile_friendly_page(page):
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "Mon projet est-il un PTCE ? — rapport" in page


def test_the_verdict_maturity_and_eligibility_are_shown(text):
    assert "PTCE en devenir" in text
    assert "Il reste à associer une entreprise hors ESS." in text
    assert "Maturité : Émergent : la coopération a commencé" in text
    assert "Éligible aux appels de l'État en l'état : pas encore, parce qu'aucune entreprise " \
           "hors ESS n'est membre." in text


def test_each_criterion_shows_its_icon_label_level_quote_and_source(page, result):
    rows = [visible_text(row) for row in re.findall(r"<tr class=\"status-.*?</tr>", page, re.S)]
    assert len(rows) == 8
    for row, criterion in zip(rows, result.criteria, strict=True):
        assert row.startswith(f"{criterion.icon} {criterion.id} {criterion.label}")
        assert ("(bloquant)" if criterion.blocking else "(attendu)") in row
        assert criterion.explanation in row
        assert row.endswith(f"» {LAW}")  # the quote, then its source
    assert "«\u00a0une stratégie commune et continue\u00a0»" in page  # guillemets not doubled
    assert "««" not in page
    assert [row[0] for row in rows].count("❌") == 1


def test_the_date_is_written_in_french_with_the_questionnaire_version(text):
    assert "Date 26 novembre 2026" in text
    assert "2026-11-26" not in text
    assert "Version du questionnaire 1.2" in text


def test_the_project_and_its_territory_appear(text):
    assert "Projet <Léa & Co>" in text
    assert "Territoire Drôme (26), Auvergne-Rhône-Alpes" in text


def test_a_project_name_with_markup_is_shown_literally(page):
    assert "&lt;Léa &amp; Co&gt;" in page
    assert "<Léa" not in page


def test_every_answer_is_listed_under_its_section(text, result):
    for line in result.answers:
        assert f"{line.question} {line.answer}" in text
    assert text.index("Qui répond Vous êtes…") < text.index("Territoire Département(s)") \
        < text.index("Membres Combien de structures")


def test_strengths_next_steps_and_adviser_notes_are_there(text):
    assert "Vos points forts Éthique et valeurs : vos valeurs communes" in text
    assert "Vos prochaines étapes Associez une PME locale" in text
    assert "Notes de l'accompagnement Membres : Relancer la scierie de Die en janvier." in text


def test_the_chart_is_embedded_and_nothing_is_loaded_from_the_network(page):
    assert '<img src="data:image/png;base64,' in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "@import" not in page and "url(" not in page


def test_without_a_chart_the_scores_are_still_listed(result):
    page = report_html(result)
    assert "data:image/png" not in page
    text = visible_text(page)
    assert "Développer une économie intégrée au territoire Recherche et développement 0" in text
    assert "Conduire un projet global basé sur la coopération Éthique et valeurs 100" in text


def test_the_footer_says_it_is_not_the_official_referentiel(text):
    assert text.endswith("Outil inspiré du référentiel des PTCE — ce n'est pas le référentiel "
                         "officiel ; ce rapport n'est pas un label.")


VOID_TAGS = frozenset({"meta", "img", "br", "hr", "link", "input"})


class _TagBalance(HTMLParser):
    """Collects parse problems: closing tags that do not match the open one."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.seen: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.seen.add(tag)
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '?'}>")
        else:
            self.stack.pop()


def test_the_page_parses_with_balanced_tags(page):
    parser = _TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    assert {"html", "head", "body", "main", "section", "table", "footer", "img"} <= parser.seen


# --- The file name ---------------------------------------------------------------------------


def test_the_file_name_is_ascii_and_safe(result):
    name = report_filename(result)
    assert name == "rapport-ptce-lea-co-2026-11-26.html"
    assert name.isascii() and name.endswith(".html")
    assert re.fullmatch(r"[a-z0-9.-]+", name)


def test_a_project_without_a_usable_name_gets_a_generic_file_name(result):
    assert report_filename(replace(result, project="")) == "rapport-ptce-projet-2026-11-26.html"
    assert report_filename(replace(result, project="../../Œuvre/∞")) == \
        "rapport-ptce-oeuvre-2026-11-26.html"
