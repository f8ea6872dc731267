"""Where is the project? Regions and departments, and what a user may type to name one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.territory import (
    Territories,
    TerritoryError,
    check_territories,
    load_territories,
    parse_department,
)

TERRITORIES = Path(__file__).resolve().parent.parent / "knowledge" / "territories.yaml"


@pytest.fixture(scope="module")
def territories() -> Territories:
    return load_territories(TERRITORIES)


def codes(text: str, territories: Territories) -> list[str]:
    """The codes of the departments ``text`` may designate, best first."""
    return [d.code for d in parse_department(text, territories)]


# --------------------------------------------------------------------------------------------
# The data


def test_the_shipped_file_is_valid():
    assert check_territories(TERRITORIES) == []


def test_there_are_13_metropolitan_and_5_overseas_regions(territories):
    names = {r.name for r in territories.regions}
    assert names == {
        "Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté", "Bretagne", "Centre-Val de Loire",
        "Corse", "Grand Est", "Hauts-de-France", "Île-de-France", "Normandie",
        "Nouvelle-Aquitaine", "Occitanie", "Pays de la Loire", "Provence-Alpes-Côte d'Azur",
        "Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte",
    }
    assert territories.region("la-reunion").name == "La Réunion"
    assert territories.region("provence-alpes-cote-d-azur").name == "Provence-Alpes-Côte d'Azur"


def test_there_are_the_101_departments(territories):
    expected = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"}
    expected |= {"971", "972", "973", "974", "976"}
    assert {d.code for d in territories.departments} == expected
    assert len(territories.departments) == 101


def test_every_region_has_departments(territories):
    counts = {r.id: len(territories.departments_of(r.id)) for r in territories.regions}
    assert all(counts.values()), counts
    assert sum(counts.values()) == 101
    assert counts["auvergne-rhone-alpes"] == 12
    assert counts["ile-de-france"] == 8
    assert counts["bretagne"] == 4
    assert counts["occitanie"] == 13
    assert counts["nouvelle-aquitaine"] == 12


@pytest.mark.parametrize(
    ("code", "name", "region"),
    [
        ("01", "Ain", "Auvergne-Rhône-Alpes"),
        ("26", "Drôme", "Auvergne-Rhône-Alpes"),
        ("69", "Rhône", "Auvergne-Rhône-Alpes"),  # with the Métropole de Lyon
        ("2A", "Corse-du-Sud", "Corse"),
        ("2B", "Haute-Corse", "Corse"),
        ("21", "Côte-d'Or", "Bourgogne-Franche-Comté"),
        ("90", "Territoire de Belfort", "Bourgogne-Franche-Comté"),
        ("44", "Loire-Atlantique", "Pays de la Loire"),
        ("62", "Pas-de-Calais", "Hauts-de-France"),
        ("64", "Pyrénées-Atlantiques", "Nouvelle-Aquitaine"),
        ("75", "Paris", "Île-de-France"),
        ("93", "Seine-Saint-Denis", "Île-de-France"),
        ("971", "Guadeloupe", "Guadeloupe"),
        ("973", "Guyane", "Guyane"),
        ("974", "La Réunion", "La Réunion"),
        ("976", "Mayotte", "Mayotte"),
    ],
)
def test_departments_have_their_official_name_and_region(territories, code, name, region):
    department = territories.department(code)
    assert (department.name, department.region.name) == (name, region)


def test_a_department_is_found_by_its_code_however_written(territories):
    assert territories.department("1").name == "Ain"
    assert territories.department("2a").name == "Corse-du-Sud"
    assert territories.department("20") is None
    assert territories.department("975") is None


# --------------------------------------------------------------------------------------------
# Codes and postal codes


def test_every_department_is_found_by_its_code(territories):
    for department in territories.departments:
        assert parse_department(department.code, territories) == [department]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("26", "26"),
        ("1", "01"),
        ("01", "01"),
        ("2a", "2A"),
        ("2 A", "2A"),
        ("2B", "2B"),
        ("974", "974"),
        ("dans le 93", "93"),
        ("n°26", "26"),
        ("Drôme (26)", "26"),
    ],
)
def test_a_department_code(territories, typed, code):
    assert codes(typed, territories) == [code]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("26100", "26"),
        ("26 100", "26"),
        ("75011", "75"),
        ("01000", "01"),
        ("20000", "2A"),  # Ajaccio
        ("20090", "2A"),
        ("20100", "2A"),  # Sartène
        ("20200", "2B"),  # Bastia
        ("20600", "2B"),
        ("97400", "974"),  # Saint-Denis de La Réunion
        ("97 400", "974"),
        ("97600", "976"),
        ("97100", "971"),
        ("97300", "973"),
        ("Ajaccio 20000", "2A"),
    ],
)
def test_a_postal_code(territories, typed, code):
    assert codes(typed, territories) == [code]


def test_the_old_corsican_code_20_offers_both_departments(territories):
    assert codes("20", territories) == ["2A", "2B"]


# --------------------------------------------------------------------------------------------
# Names


def test_every_department_is_found_by_its_exact_name(territories):
    for department in territories.departments:
        found = parse_department(department.name, territories)
        assert found[0] == department, department.name
        assert parse_department(department.name.upper(), territories)[0] == department


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("drome", "26"),
        ("DROME", "26"),
        ("pas de calais", "62"),
        ("Pas-de-Calai", "62"),
        ("seine st denis", "93"),
        ("Seine-Saint-Denis", "93"),
        ("cote d'or", "21"),
        ("cote d or", "21"),
        ("val d oise", "95"),
        ("réunion", "974"),
        ("la reunion", "974"),
        ("corse du sud", "2A"),
        ("haute corse", "2B"),
        ("bouche du rhone", "13"),
        ("puy de dome", "63"),
        ("ille et vilaine", "35"),
        ("deux sevres", "79"),
        ("territoire de belfort", "90"),
        ("Belfort", "90"),
        ("Métropole de Lyon", "69"),
        ("Côtes-du-Nord", "22"),  # the old name of Côtes-d'Armor
        ("Guadeloupe", "971"),
        ("mayotte", "976"),
        ("guyane", "973"),
    ],
)
def test_a_name_without_accents_hyphens_or_capitals(territories, typed, code):
    assert codes(typed, territories) == [code]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("giornde", "33"),
        ("morbian", "56"),
        ("finister", "29"),
        ("ardéch", "07"),
        ("haute savoi", "74"),
        ("pyrenees atlantique", "64"),
        ("alpes maritime", "06"),
        ("erault", "34"),  # the silent h forgotten
        ("hute savoie", "74"),
        ("lareunion", "974"),
        ("corse sud", "2A"),
        ("val doise", "95"),
    ],
)
def test_a_name_with_a_typo(territories, typed, code):
    assert codes(typed, territories) == [code]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("dans la drôme", "26"),
        ("je suis en Ardèche", "07"),
        ("en haute savoie", "74"),
        ("Bonjour, je suis en Ardèche", "07"),
        ("mon projet est dans le Finistère", "29"),
        ("Nous sommes basés en Seine-Saint-Denis", "93"),
        ("dans l'Ain", "01"),
        ("la Drôme svp", "26"),
        ("Drôme provençale", "26"),
        ("je suis en haute savoie près d'Annecy", "74"),
        ("on est basés à Valence (Drôme)", "26"),
        ("près de Valence dans la Drôme", "26"),
    ],
)
def test_a_name_inside_a_sentence(territories, typed, code):
    assert codes(typed, territories) == [code]


# --------------------------------------------------------------------------------------------
# Ambiguous answers: candidates for the user to pick from


def test_an_exact_name_comes_first_then_the_names_built_on_it(territories):
    assert codes("savoie", territories) == ["73", "74"]
    assert codes("loire", territories) == ["42", "43", "44"]
    assert codes("vienne", territories) == ["86", "87"]
    assert codes("charente", territories) == ["16", "17"]


def test_an_exact_name_stands_alone_when_no_other_name_is_built_on_it(territories):
    for typed, code in [("haute savoie", "74"), ("loiret", "45"), ("paris", "75"),
                        ("rhone", "69"), ("cher", "18"), ("oise", "60"), ("drôme", "26"),
                        ("lot", "46"), ("eure", "27"), ("tarn", "81")]:
        assert codes(typed, territories) == [code], typed


def test_part_of_several_names_offers_them_all(territories):
    assert codes("rhin", territories) == ["67", "68"]
    assert codes("alpes", territories) == ["04", "05", "06"]
    assert codes("pyrénées", territories) == ["64", "65", "66"]
    assert set(codes("seine", territories)) == {"76", "77", "92", "93"}


def test_corsica_offers_both_departments(territories):
    assert codes("corse", territories) == ["2A", "2B"]
    assert codes("je suis en Corse", territories) == ["2A", "2B"]


def test_a_small_region_offers_its_departments(territories):
    assert codes("Bretagne", territories) == ["22", "29", "35", "56"]
    assert codes("je suis en Bretagne près de Rennes", territories) == ["22", "29", "35", "56"]


def test_a_large_region_is_no_department(territories):
    for typed in ["Auvergne-Rhône-Alpes", "pays de la loire", "Île-de-France",
                  "Nord-Pas-de-Calais"]:
        assert parse_department(typed, territories) == [], typed


def test_never_more_than_four_candidates(territories):
    for typed in ["loir", "seine", "marne", "garonne", "haute", "20"]:
        assert len(parse_department(typed, territories)) <= 4, typed


def test_a_count_in_a_sentence_is_no_code(territories):
    assert codes("nous avons 3 salariés dans la Drôme", territories) == ["26"]
    assert codes("le 1", territories) == ["01"]


def test_a_name_and_a_code_that_agree_give_one_answer(territories):
    assert codes("Drôme 26", territories) == ["26"]
    assert codes("75011 Paris", territories) == ["75"]


# --------------------------------------------------------------------------------------------
# Not a department


@pytest.mark.parametrize(
    "typed",
    ["bonjour", "999", "xyz", "", "   ", "97", "975", "98000", "00100", "123456", "haute",
     "oui", "je ne sais pas", "partout en France", "Lyon", "Rennes", "main", "nous sommes",
     "un lot de", "une heure",
     "Bonjour, nous sommes une association qui veut créer un pôle de coopération."],
)
def test_garbage_is_rejected(territories, typed):
    assert parse_department(typed, territories) == []


# --------------------------------------------------------------------------------------------
# Regions by name


@pytest.mark.parametrize(
    ("typed", "region_id"),
    [
        ("bretagne", "bretagne"),
        ("Auvergne Rhône Alpes", "auvergne-rhone-alpes"),
        ("auvergne", "auvergne-rhone-alpes"),
        ("PACA", "provence-alpes-cote-d-azur"),
        ("cote d'azur", "provence-alpes-cote-d-azur"),
        ("ile de france", "ile-de-france"),
        ("la région Grand Est", "grand-est"),
        ("Alsace", "grand-est"),
        ("hauts de france", "hauts-de-france"),
        ("normandi", "normandie"),
        ("réunion", "la-reunion"),
        ("Corse", "corse"),
        ("guyane", "guyane"),
        ("je suis en Bretagne près de Rennes", "bretagne"),
    ],
)
def test_a_region_by_its_name(territories, typed, region_id):
    assert territories.region_by_name(typed).id == region_id


@pytest.mark.parametrize("typed", ["alpes", "loire", "bonjour", "", "hauts de seine"])
def test_an_unknown_or_ambiguous_region_name(territories, typed):
    assert territories.region_by_name(typed) is None


# --------------------------------------------------------------------------------------------
# A broken file is reported with its line


def _broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """A copy of territories.yaml with ``old`` replaced (past the commented header); the path
    and the line changed."""
    text = TERRITORIES.read_text(encoding="utf-8")
    at = text.index(old, text.index("\nregions:"))
    line = text[:at].count("\n") + 1
    path = tmp_path / "territories.yaml"
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return path, line


def test_a_duplicate_code_is_reported_with_its_line(tmp_path):
    path, line = _broken(tmp_path, '{code: "27", name: Eure,', '{code: "26", name: Eure,')
    (problem,) = check_territories(path)
    assert problem.startswith(f"{path}:{line}: ")
    assert "26" in problem and "déjà utilisé" in problem


def test_an_unknown_region_is_reported_with_its_line(tmp_path):
    path, line = _broken(tmp_path, "name: Drôme, region: auvergne-rhone-alpes",
                         "name: Drôme, region: rhone-alpes")
    (problem,) = check_territories(path)
    assert problem == (f"{path}:{line}: département « 26 » : région inconnue « rhone-alpes » "
                       "(voir la liste « regions »)")


def test_a_missing_field_is_reported_with_its_line(tmp_path):
    path, line = _broken(tmp_path, '{code: "26", name: Drôme, ', '{code: "26", ')
    (problem,) = check_territories(path)
    assert problem == f"{path}:{line}: département « 26 » : champ « name » manquant"


def test_an_unquoted_code_is_reported(tmp_path):
    path, line = _broken(tmp_path, '{code: "01",', "{code: 01,")
    (problem,) = check_territories(path)
    assert problem.startswith(f"{path}:{line}: ")
    assert "guillemets" in problem


def test_a_region_without_departments_is_reported_with_its_line(tmp_path):
    path, line = _broken(tmp_path, "  - id: mayotte\n", "  - id: mayotte\n")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("region: mayotte}", "region: la-reunion}"), encoding="utf-8")
    (problem,) = check_territories(path)
    assert problem == f"{path}:{line}: région « mayotte » : aucun département ne lui est rattaché"


def test_a_yaml_syntax_error_is_reported_with_its_line(tmp_path):
    path, line = _broken(tmp_path, '{code: "26", name: Drôme,', '{code: "26", name: [Drôme,')
    (problem,) = check_territories(path)
    assert problem.startswith(f"{path}:")
    assert line <= int(problem.split(":")[1]) <= line + 1
    assert "YAML invalide" in problem


def test_loading_a_broken_file_fails_with_every_problem(tmp_path):
    path, _ = _broken(tmp_path, "region: auvergne-rhone-alpes}", "region: nulle-part}")
    with pytest.raises(TerritoryError) as error:
        load_territories(path)
    assert len(error.value.problems) == 1
    assert "nulle-part" in str(error.value)


@pytest.mark.parametrize("typed, name", [
    ("97150", "Saint-Martin"), ("Saint-Martin", "Saint-Martin"), ("97133", "Saint-Barthélemy"),
    ("st barth", "Saint-Barthélemy"), ("975", "Saint-Pierre-et-Miquelon"),
    ("97500", "Saint-Pierre-et-Miquelon"),
])
def test_a_collectivity_outside_the_regions_is_recognised_not_mapped(territories, typed, name):
    assert parse_department(typed, territories) == []  # never silently Guadeloupe
    assert territories.outside_region(typed).name == name
    assert territories.outside_region("971") is None
