"""French as people type it folds to the same tokens as French written carefully."""

from bot.core.text import Normalizer, fold


def test_fold_removes_case_accents_elisions_and_punctuation():
    assert fold("Qu’est-ce qu'un PÔLE territorial ?!") == "est ce un pole territorial"
    assert fold("L'ESS, c'est l'économie… «sociale»") == "ess est economie sociale"
    assert fold("Cœur d'activité") == "coeur activite"


def test_odd_unicode_is_folded_not_rejected():
    assert fold("ＰＴＣＥ") == "ptce"  # full-width letters
    assert fold("e\u0301conomie") == "economie"  # decomposed accent
    assert fold("🙂🙂") == ""


def test_sms_spellings_and_abbreviations_reach_the_same_tokens(content):
    normalizer = Normalizer(content.sms, content.synonyms)
    careful = normalizer.tokens("C'est quoi un pôle territorial de coopération économique ?")
    assert normalizer.tokens("c koi un ptce") == careful == ["ptce"]
    assert normalizer.tokens("un GE peut il etre un ptce") == \
        normalizer.tokens("Un groupement d'employeurs peut-il être un PTCE ?")
    assert normalizer.tokens("pk une scic") == normalizer.tokens(
        "pourquoi une société coopérative d'intérêt collectif")


def test_stemming_matches_singular_and_plural():
    normalizer = Normalizer()
    assert normalizer.tokens("les financements") == normalizer.tokens("le financement")


def test_an_acronym_that_is_also_a_word_counts_only_in_capitals(content):
    normalizer = Normalizer(content.sms, content.synonyms)
    assert normalizer.tokens("c'est quoi le MES ?") == ["mes-reseau"]
    assert "mes-reseau" not in normalizer.tokens("comment déclarer mes impôts")


def test_french_typography_keeps_punctuation_with_its_word():
    from bot.core.text import typeset

    assert typeset("C'est quoi un PTCE ? Réponse : « un pôle » ; voilà !") == (
        "C'est quoi un PTCE\u202f? Réponse\u00a0: «\u00a0un pôle\u00a0»\u202f; voilà\u202f!")
    assert typeset("Demande n° 12 : https://exemple.fr/a:b à 10 h 29") == (
        "Demande n°\u00a012\u00a0: https://exemple.fr/a:b à 10 h 29")


def test_dates_are_french_and_times_are_those_of_paris():
    from bot.core.text import french_date, french_datetime

    assert french_date("2026-12-02") == "2 décembre 2026"
    assert french_date("2021-05-01") == "1er mai 2021"
    assert french_date("2023-05") == "mai 2023"
    assert french_date("s.d.") == "page non datée"
    assert french_datetime("2026-12-02T09:29:00+00:00") == "2 décembre 2026 à 10 h 29"
    assert french_datetime("2026-07-02T09:29:00") == "2 juillet 2026 à 11 h 29"  # UTC+2
