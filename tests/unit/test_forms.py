import wtforms
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from booking.forms import SelectField, options


class _Form(wtforms.Form):
    profession = SelectField("Profession", choices=options([("", "Tous"), ("a&b", "Sage-femme <libérale>"),
                                                            ("infirmier", "Infirmier")]))
    special = SelectField("Particulier", choices=[SelectChoice("x", "X", render_kw={"disabled": True}),
                                                  SelectChoice("y", "Y")])


def test_the_select_writes_the_same_options_as_wtforms():
    form = _Form(MultiDict({"profession": "infirmier", "special": "y"}))
    ours = str(form.profession(**{"aria-describedby": "aide"})), str(form.special())
    form.profession.widget = form.special.widget = wtforms.widgets.Select()
    assert ours == (str(form.profession(**{"aria-describedby": "aide"})), str(form.special()))
    assert '<option selected value="infirmier">Infirmier</option>' in ours[0]
    assert '<option value="a&amp;b">Sage-femme &lt;libérale&gt;</option>' in ours[0]
    assert "disabled" in ours[1]


def test_french_words_sort_as_a_french_reader_expects():
    from booking.text import french_order

    words = ["Psychologue", "Gynécologue", "Pédiatre", "Gériatre", "Œnologue", "infirmier", "Écrivain"]
    assert sorted(words, key=french_order) == ["Écrivain", "Gériatre", "Gynécologue", "infirmier", "Œnologue",
                                               "Pédiatre", "Psychologue"]


def test_links_follow_the_port_the_local_server_listens_on(monkeypatch, tmp_path):
    from booking.config import from_environment

    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "5055")
    assert from_environment(str(tmp_path))["PUBLIC_BASE_URL"] == "http://127.0.0.1:5055"
    monkeypatch.delenv("PORT")
    assert from_environment(str(tmp_path))["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://rdv.example.fr/")
    assert from_environment(str(tmp_path))["PUBLIC_BASE_URL"] == "https://rdv.example.fr"
