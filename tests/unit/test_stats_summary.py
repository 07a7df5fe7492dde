"""The three sentences of the élus' summary, from the key figures alone."""

from datetime import date

from booking.stats.summary import period_phrase, summary_sentences

PLACE = "dans les lieux de soins de Salers"


def _headline(booked, occupancy=62.5, absent=7.1, median=9.0, unmet=0):
    return {"Rendez-vous pris": booked, "Taux d’occupation (%)": occupancy, "Taux d’absence (%)": absent,
            "Délai médian (jours)": median, "Demandes non satisfaites": unmet}


def test_a_calendar_month_is_named_and_another_period_is_spelt_out():
    assert period_phrase(date(2026, 10, 1), date(2026, 11, 1)) == "En octobre 2026"
    assert period_phrase(date(2026, 12, 1), date(2027, 1, 1)) == "En décembre 2026"
    assert period_phrase(date(2026, 10, 1), date(2026, 10, 16)) == "Du jeudi 1er octobre au jeudi 15 octobre 2026"


def test_three_sentences_with_the_figures_written_the_french_way():
    used, came, missing = summary_sentences(_headline(1234, unmet=12), PLACE, date(2026, 10, 1), date(2026, 11, 1))
    assert used == ("En octobre 2026, 1\u202f234 rendez-vous ont été pris dans les lieux de soins de Salers, "
                    "qui ont occupé 62,5 % des créneaux publiés.")
    assert came == ("7,1 % des patients attendus ne sont pas venus, et il a fallu en moyenne (médiane) 9,0 jours "
                    "entre la réservation et la consultation.")
    assert missing.startswith("12 recherches d’habitants sont restées sans créneau libre")


def test_small_counts_stay_hidden_and_nothing_is_said_that_is_not_known():
    used, came, missing = summary_sentences(_headline("< 5", None, None, None, "< 5"), PLACE,
                                            date(2026, 10, 1), date(2026, 11, 1))
    assert used == "En octobre 2026, moins de 5 rendez-vous ont été pris dans les lieux de soins de Salers."
    assert came == "Aucune présence n’a encore été notée pour ces rendez-vous."
    assert missing.startswith("Moins de 5 recherches")
    used, _, missing = summary_sentences(_headline(0, None), PLACE, date(2026, 10, 1), date(2026, 11, 1))
    assert used == "En octobre 2026, aucun rendez-vous n’a été pris dans les lieux de soins de Salers."
    assert missing == "Aucune recherche d’habitant n’est restée sans créneau libre dans les 30 jours."
