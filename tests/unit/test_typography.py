from booking.typography import fix_html, french_spacing


def test_no_break_spaces_before_french_punctuation():
    assert french_spacing("Téléphone : 06 12") == "Téléphone\u00a0: 06 12"
    assert french_spacing("Empêché ? Libérez la place !") == "Empêché\u202f? Libérez la place\u202f!"
    assert french_spacing("« Œuvre »") == "«\u202fŒuvre\u202f»"
    assert french_spacing("9 h 30 ; 10 h") == "9\u202fh\u202f30\u202f; 10\u202fh"


def test_a_time_or_a_phone_number_never_breaks_across_lines():
    assert french_spacing("le 3 mars à 14 h 05, appelez le 04 71 00 00 00") == \
        "le 3 mars à 14\u202fh\u202f05, appelez le 04\u00a071\u00a000\u00a000\u00a000"
    assert french_spacing("+590 590 12 34 56") == "+590\u00a0590\u00a012\u00a034\u00a056"
    assert french_spacing("2026 heures") == "2026 heures" and french_spacing("le h de 12 h") == "le h de 12\u202fh"
    assert french_spacing("http://x:80 a: b") == "http://x:80 a: b"


def test_only_text_between_tags_changes():
    html = '<a title="a : b" href="/x?y=1">Voir : ici</a><textarea>garder : tel quel</textarea>'
    assert fix_html(html) == '<a title="a : b" href="/x?y=1">Voir\u00a0: ici</a><textarea>garder : tel quel</textarea>'


def test_the_first_of_a_month_is_written_as_an_ordinal():
    from datetime import date

    from booking.formatting import format_birth_date, format_day

    assert format_day(date(2026, 12, 1)) == "mardi 1er décembre 2026"
    assert format_day(date(2026, 12, 3), with_year=False) == "jeudi 3 décembre"
    assert format_birth_date(date(1944, 5, 1)) == "1er mai 1944"
