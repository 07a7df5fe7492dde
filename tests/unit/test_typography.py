from booking.typography import _fix_html, french_spacing


def test_no_break_spaces_before_french_punctuation():
    assert french_spacing("Téléphone : 06 12") == "Téléphone\u00a0: 06 12"
    assert french_spacing("Empêché ? Libérez la place !") == "Empêché\u202f? Libérez la place\u202f!"
    assert french_spacing("« Œuvre »") == "«\u202fŒuvre\u202f»"
    assert french_spacing("9 h 30 ; 10 h") == "9 h 30\u202f; 10 h"
    assert french_spacing("http://x:80 a: b") == "http://x:80 a: b"


def test_only_text_between_tags_changes():
    html = '<a title="a : b" href="/x?y=1">Voir : ici</a><textarea>garder : tel quel</textarea>'
    assert _fix_html(html) == '<a title="a : b" href="/x?y=1">Voir\u00a0: ici</a><textarea>garder : tel quel</textarea>'


def test_the_first_of_a_month_is_written_as_an_ordinal():
    from datetime import date

    from booking.formatting import format_birth_date, format_day

    assert format_day(date(2026, 12, 1)) == "mardi 1er décembre 2026"
    assert format_day(date(2026, 12, 3), with_year=False) == "jeudi 3 décembre"
    assert format_birth_date(date(1944, 5, 1)) == "1er mai 1944"
