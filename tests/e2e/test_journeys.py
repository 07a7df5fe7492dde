"""The four journeys of the pages issue, in a real browser, with axe on every page visited."""

import re
from datetime import UTC, date, timedelta

import pytest

from tests.e2e.conftest import E2E_NOW, PASSWORD, SCREENSHOTS, outbox


def _no_violations(visit, label):
    assert visit.axe(label) == [], f"{label}: {visit.checked[label]}"


def _postal_code_of(live_server, sentence: str) -> str:
    """The postal code of the commune a page names (« … Commune : Ally. »): whoever the demo put first."""
    from booking.extensions import db
    from booking.geo.models import Commune

    plain = sentence.replace("\u00a0", " ").replace("\u202f", " ")
    name = plain.rsplit("Commune :", 1)[1].strip().rstrip(".").strip()
    with live_server.test_request_context():
        commune = db.session.query(Commune).filter_by(name=name, departement_code="15").one()
        code = commune.postal_codes[0].code
        db.session.remove()
    return code


@pytest.mark.mobile
def test_resident_on_a_phone_books_for_her_father_and_cancels_from_the_sms(visit, live_server):
    page = visit.page
    visit.goto("/")
    _no_violations(visit, "accueil")
    visit.shot("1-accueil-mobile")
    page.get_by_label("Votre commune ou code postal").fill("Saint-Bonnet-de-Salers")
    page.get_by_role("button", name="Trouver un rendez-vous").click()
    page.wait_for_selector("text=Dans votre commune")
    # Every other place says how far it is, as the search ranks them: by the drive from her commune.
    trips = page.locator("p.trip").all_inner_texts()
    assert trips[0] == "Dans votre commune" and len(trips) >= 2
    assert all(re.fullmatch(r"À \d+\s?km, environ \d+\s?min", trip.replace("\u202f", " ").replace("\u00a0", " "))
               for trip in trips[1:]), trips
    _no_violations(visit, "recherche")
    visit.shot("2-recherche-mobile")
    page.locator("article", has_text="Cabine de téléconsultation").get_by_role("link").nth(1).click()
    # Not signed in: the booking page sends her to sign in, from there to sign up.
    page.wait_for_selector("text=Se connecter")
    _no_violations(visit, "connexion")
    page.get_by_role("link", name="Créer un compte", exact=True).last.click()
    _no_violations(visit, "inscription")
    page.get_by_label("Prénom").fill("Camille")
    page.get_by_label("Nom", exact=True).fill("Lefèvre-N'Diaye")
    page.get_by_label("Date de naissance").fill("1979-04-12")
    page.get_by_label("Commune de résidence").fill("Saint-Bonnet-de-Salers")
    page.get_by_label("Numéro de mobile").fill("06 00 00 12 34")
    page.get_by_label("Mot de passe (10 caractères au moins)").fill("un mot de passe sûr")
    page.get_by_label("Confirmez le mot de passe").fill("un mot de passe sûr")
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_selector("text=Vérifier mon numéro")
    _no_violations(visit, "code SMS")
    code = re.search(r"(\d{6})", outbox(live_server, "verification:%")[-1][1]).group(1)
    page.get_by_label("Code reçu par SMS").fill(code)
    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_selector("text=Réserver le")
    # For her father, added without leaving the booking: back on the same slot, him chosen.
    booking_url = page.url
    page.get_by_role("link", name="Pour quelqu’un d’autre : ajouter un proche").click()
    _no_violations(visit, "ajouter un proche")
    page.locator("#proche-first_name").fill("Émile")
    page.locator("#proche-last_name").fill("Lefèvre")
    page.locator("#proche-birth_date").fill("03/02/1941")
    page.locator("#proche-commune").fill("15140")  # a postal code several communes share: she picks his
    page.locator("#proche-relationship_label").fill("père")
    page.locator("#proche-phone").fill("04 71 00 00 00")  # his landline: no SMS there, and she is told so
    page.get_by_role("button", name="Ajouter").click()
    page.wait_for_selector("#proche-commune-error")
    _no_violations(visit, "choisir la commune")
    page.get_by_label(re.compile("Saint-Bonnet-de-Salers \\(15140\\) — Cantal")).check()
    page.get_by_role("button", name="Ajouter").click()
    page.wait_for_selector("#proche-phone-error")
    assert page.locator("#proche-commune").input_value() == "Saint-Bonnet-de-Salers (15140)"
    assert "votre mobile" in page.locator("#proche-phone-error").inner_text()
    page.locator("#proche-phone").fill("")
    page.get_by_role("button", name="Ajouter").click()
    page.wait_for_selector("text=Réserver le")
    assert page.url.startswith(booking_url)
    assert "arrivent par SMS sur votre mobile" in page.locator(".flash").first.inner_text()
    assert page.get_by_label("Émile Lefèvre (père)").is_checked()
    _no_violations(visit, "réserver")
    page.get_by_label(re.compile("Motif")).fill("renouvellement d’ordonnance")
    visit.shot("3-reserver-mobile")
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    page.wait_for_selector("text=Rendez-vous confirmé")
    _no_violations(visit, "confirmation")
    facts = page.locator("dl.facts").inner_text()
    assert "Avec" in facts and "Comment" in facts
    visit.shot("4-confirmation-mobile")
    reference = page.locator(".reference strong").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"\.ics")).first.click()
    assert download.value.suggested_filename == f"rendez-vous-{reference}.ics"
    # Later, from the SMS, without being signed in.
    sms = [body for _, body in outbox(live_server, "appointment:%:confirmation") if reference in body][-1]
    assert "renouvellement" not in sms
    link = re.search(r"https?://\S+/a/\S+", sms).group(0)
    page.context.clear_cookies()
    page.goto(link)
    _no_violations(visit, "annuler par SMS")
    page.get_by_role("button", name="Oui, annuler ce rendez-vous").click()
    page.wait_for_selector("text=Votre rendez-vous est annulé")
    _no_violations(visit, "annulé")
    visit.shot("5-annulation-mobile")


def test_reception_agent_books_for_a_known_patient_by_keyboard(visit, live_server):
    page = visit.page
    visit.goto("/connexion")
    keys = 0

    def type_text(text):
        nonlocal keys
        page.keyboard.type(text)
        keys += len(text)

    def press(key):
        nonlocal keys
        page.keyboard.press(key)
        keys += 1

    page.get_by_label("Adresse e-mail ou numéro de mobile").focus()
    type_text("accueil@saint-bonnet.demo.test")
    press("Tab")
    type_text(PASSWORD)
    press("Enter")
    page.wait_for_selector("text=Vous êtes connecté")
    page.wait_for_load_state("load")  # the login's own page load must not count against the desk's journey
    keys_before, loads_before = keys, visit.loads
    visit.goto("/accueil")  # the desk's start page, bookmarked
    _no_violations(visit, "accueil mairie")
    page.get_by_label("Nom").focus()
    type_text("vermenouze")
    press("Tab")
    type_text("02111944")  # the date field takes digits: jj mm aaaa
    press("Enter")
    page.wait_for_selector("text=1 patient trouvé")
    _no_violations(visit, "recherche patient")
    visit.shot("6-accueil-recherche")
    press("Tab")  # the first result is the next focusable element after the search button? go there directly
    page.get_by_role("link", name=re.compile("Odette Vermenouze")).focus()
    press("Enter")
    page.wait_for_selector("text=Réserver pour Odette Vermenouze")
    page.get_by_label("Profession").focus()
    page.get_by_label("Profession").select_option("ophtalmologue")
    keys += 1
    press("Tab")
    press("Enter")
    page.wait_for_selector("text=Consultations avancées du Pays de Salers")
    _no_violations(visit, "choix du créneau")
    page.locator("input[name=slot_id]").first.focus()
    press("Space")
    page.get_by_label("Le patient accepte ce rendez-vous").focus()
    press("Space")
    visit.shot("7-accueil-creneau")
    press("Enter")
    page.wait_for_selector("text=Rendez-vous pris pour Odette Vermenouze")
    _no_violations(visit, "rendez-vous pris")
    assert page.get_by_text("imprimez et remettez-lui la convocation").is_visible()
    assert "la personne pourra confirmer ou annuler au clavier" in page.content()  # Odette: not « il »
    visit.shot("8-accueil-pris")
    press("Enter")  # the convocation link has the focus
    page.wait_for_selector("text=Votre rendez-vous")
    _no_violations(visit, "convocation")
    visit.shot("9-convocation")
    assert "carte Vitale" in page.content()
    # A known patient: at most this many keystrokes and page loads from the desk's start page.
    assert keys - keys_before <= 30, keys - keys_before
    assert visit.loads - loads_before <= 6, visit.loads - loads_before
    # Before closing: whom no SMS or call will remind of tomorrow's appointments, and the letters to post.
    visit.goto("/accueil")
    page.get_by_role("link", name="Patients à appeler (demain et après-demain)").click()
    page.get_by_role("heading", name="Patients à appeler").wait_for()
    _no_violations(visit, "liste d’appels")
    visit.shot("16-accueil-appels")
    row = page.get_by_role("row", name=re.compile("Léon Bancarel"))
    assert "appels refusés" in row.inner_text() and "04\xa071\xa040\xa098\xa076" in row.inner_text()
    row.get_by_role("button", name="Prévenu").click()
    page.get_by_role("heading", name="Patients à appeler").wait_for()
    assert "prévenu" in page.get_by_role("row", name=re.compile("Léon Bancarel")).inner_text()
    page.get_by_role("link", name="Convocations à poster (patients sans téléphone)").click()
    page.get_by_role("heading", name="Convocations à poster").wait_for()
    _no_violations(visit, "courriers")


@pytest.mark.mobile
def test_the_desk_on_a_phone_finds_by_number_corrects_yesterday_and_addresses_the_letters(visit, live_server):
    page = visit.page
    _login(visit, "accueil@saint-bonnet.demo.test")
    visit.goto("/accueil")
    page.get_by_label("Nom ou numéro de téléphone").fill("04.71.40.12.34")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_role("link", name=re.compile("Odette Vermenouze")).click()
    page.get_by_role("heading", name="Ses rendez-vous à venir").wait_for()
    _no_violations(visit, "réserver, téléphone trouvé")
    # Yesterday's sheet: a presence to note, noted wrong, put right.
    visit.goto("/espace")
    page.get_by_role("link", name=re.compile("Journée du lieu « Cabine")).click()
    page.get_by_role("link", name="← Veille").click()
    row = page.locator("tr", has_text="présence à noter").first
    row.get_by_role("button", name="Venu").click()
    page.wait_for_selector("text=Présence enregistrée")
    page.get_by_role("button", name=re.compile("^Corriger")).first.click()
    page.wait_for_selector("text=Correction enregistrée")
    page.locator("tr", has_text="présence à noter").first.get_by_role("button", name="Absent").click()
    page.wait_for_selector("text=Présence enregistrée")
    assert page.locator("td.state-no_show").count() >= 1
    _no_violations(visit, "journée d’hier corrigée")
    visit.shot("21-accueil-journee-corrigee-mobile")
    page.get_by_role("button", name=re.compile("^Corriger")).first.click()  # as found: the practitioner marks it
    page.wait_for_selector("text=Correction enregistrée")
    # The letters: nothing printed without an address; the address completed, the letter is there.
    visit.goto("/accueil/courriers")
    page.get_by_role("heading", name=re.compile("Adresse à compléter")).wait_for()
    _no_violations(visit, "courriers : adresses à compléter")
    page.get_by_role("link", name="compléter l’adresse").first.click()
    page.get_by_label("Adresse : numéro et rue, ou lieu-dit").fill("3 place de l’Église")
    page.get_by_label("Code postal").fill(_postal_code_of(live_server, page.get_by_text("Commune :").inner_text()))
    page.get_by_role("button", name="Enregistrer l’adresse").click()
    page.wait_for_selector("text=Adresse enregistrée")
    visit.goto("/accueil/courriers")
    assert page.locator("section.letter").count() >= 1
    assert any("3 place de l’Église" in letter for letter in page.locator("section.letter").all_inner_texts())
    assert page.get_by_role("button", name=re.compile("^Imprimer (la convocation|les \\d+ convocations)$")).count()
    visit.shot("22-accueil-courriers-mobile")


def _login(visit, email):
    page = visit.page
    visit.goto("/connexion")
    page.get_by_label("Adresse e-mail ou numéro de mobile").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector("text=Vous êtes connecté")


def test_practitioner_publishes_tuesday_mornings_blocks_a_day_and_marks_attendance(visit, live_server):
    page = visit.page
    _login(visit, "dr.aymar@demo.test")
    visit.goto("/praticien/disponibilites/nouvelle")
    _no_violations(visit, "publier")
    page.get_by_label("Lieu de soins").select_option(label="Cabine de téléconsultation de Saint-Bonnet")
    page.get_by_label("Rythme", exact=True).select_option("weekly")
    page.get_by_label("Mardi").check()
    page.get_by_label("De", exact=True).fill("09:00")
    page.get_by_label("À", exact=True).fill("12:00")
    assert page.get_by_label("Modalité").input_value() == "remote"  # a téléconsultation cabin: remote first
    page.get_by_label(re.compile("Lien de votre outil")).fill("https://visio.example.test/dr-aymar")
    visit.shot("10-praticien-publier")
    page.get_by_role("button", name="Publier").click()
    page.wait_for_selector("text=Disponibilités publiées")
    _no_violations(visit, "agenda")
    visit.shot("11-praticien-agenda")
    assert "chaque mardi" in page.content()
    page.get_by_role("link", name="Semaine suivante →").click()
    _no_violations(visit, "agenda semaine suivante")
    first_day = page.locator("input#first_day")
    monday = re.search(r"semaine=(\d{4}-\d{2}-\d{2})", page.url).group(1)
    day_off = (date.fromisoformat(monday) + timedelta(days=1)).isoformat()
    first_day.fill(day_off)
    page.locator("input#last_day").fill(day_off)
    page.get_by_role("button", name="Bloquer").click()
    page.wait_for_selector("text=créneaux libres bloqués")
    _no_violations(visit, "jour bloqué")
    assert "bloqué" in page.content()
    # After yesterday's session: mark attendance on the site's day sheet.
    yesterday = (E2E_NOW.date() - timedelta(days=1)).isoformat()
    visit.goto("/espace")
    _no_violations(visit, "espace praticien")
    page.get_by_role("link", name=re.compile("Journée du lieu")).first.click()
    page.goto(page.url + f"?jour={yesterday}")
    _no_violations(visit, "journée")
    page.get_by_role("button", name="Venu").first.click()
    page.wait_for_selector("text=Présence enregistrée")
    assert "venu" in page.content()
    visit.shot("12-praticien-presences")
    # Her agenda in her phone's calendar: the private link, copied with one button.
    visit.goto("/praticien/agenda")
    page.get_by_role("button", name=re.compile("lien de calendrier")).click()
    page.wait_for_selector("text=Votre lien de calendrier privé")
    _no_violations(visit, "lien de calendrier")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copier le lien").click()
    page.wait_for_selector("#copy-feed-done:has-text('copié')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#feed-url").input_value() and copied.endswith(".ics")


def test_commune_admin_reads_the_dashboard_and_downloads_the_report(visit, live_server):
    page = visit.page
    _login(visit, "referente@saint-bonnet.demo.test")
    visit.goto("/espace")
    _no_violations(visit, "espace référent")
    # Accept a registered practitioner at the cabin: the button must be seen to be pressed.
    page.get_by_role("link", name="Cabine de téléconsultation de Saint-Bonnet", exact=True).click()
    page.get_by_label("Nom ou numéro RPPS").fill("Delmas")
    page.get_by_role("button", name="Chercher").click()
    accept = page.get_by_role("button", name="Accepter ici")
    accept.wait_for()
    _no_violations(visit, "lieu : accepter un praticien")
    accept.click()
    page.wait_for_selector("text=peut désormais publier")
    # Elections next week: the cabin closes for the day; who was booked is shown before anything is cancelled.
    page.get_by_role("link", name="Calendrier du lieu : horaires, fermetures, jours fériés").click()
    page.get_by_role("heading", name="Calendrier du lieu").wait_for()
    _no_violations(visit, "calendrier du lieu")
    today = E2E_NOW.date()
    election_day = today + timedelta(days=(1 - today.weekday()) % 7 + 7)  # Tuesday week
    page.get_by_label("Premier jour de fermeture").fill(election_day.strftime("%d/%m/%Y"))
    page.get_by_label("Dernier jour (inclus)").fill(election_day.strftime("%d/%m/%Y"))
    page.get_by_label("Raison (affichée au public)").select_option("elections")
    page.get_by_role("button", name="Fermer", exact=True).click()
    page.wait_for_selector("text=Fermeture enregistrée")
    _no_violations(visit, "fermeture")
    visit.shot("15-fermeture")
    cancel = page.get_by_role("button", name=re.compile("^Annuler ce"))
    if cancel.count():
        cancel.click()
        page.wait_for_selector("text=Rendez-vous annulés")
        _no_violations(visit, "rendez-vous annulés pour fermeture")
    visit.goto("/espace")
    page.get_by_role("link", name="Statistiques de Saint-Bonnet-de-Salers").click()
    page.wait_for_selector("text=En bref")
    page.wait_for_function("() => document.querySelectorAll('canvas.chart').length === 2")
    _no_violations(visit, "tableau de bord")
    visit.shot("13-tableau-de-bord")
    # A hidden count (« < 5 ») is never drawn as a number: the chart has a gap where the table says « < 5 ».
    drawn = page.evaluate("""() => [...document.querySelectorAll('canvas.chart')].map((canvas) => {
        const table = document.querySelector(`table[data-table="${canvas.dataset.chart}"]`);
        return {cells: [...table.querySelectorAll('tbody td')].map((td) => td.textContent),
                data: Chart.getChart(canvas).data.datasets.map((d) => d.data)}; })""")
    outcome = next(chart for chart in drawn if len(chart["data"]) == 1)
    hidden = [i for i, cell in enumerate(outcome["cells"][:-1]) if "<" in cell]
    assert hidden and all(outcome["data"][0][i] is None for i in hidden), outcome
    assert 5 not in [outcome["data"][0][i] for i in hidden]
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le rapport (PDF)").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"


def test_error_pages_are_french_and_accessible(visit, live_server):
    # The pages a public service owes its users, reached from every page's footer.
    visit.goto("/")
    for link, heading in (("Mentions légales", "Mentions légales"),
                          ("Données personnelles et cookies", "Vos données personnelles"),
                          (re.compile("^Accessibilité"), "Déclaration d’accessibilité")):
        visit.page.locator("footer").get_by_role("link", name=link).click()
        visit.page.get_by_role("heading", name=heading, level=1).wait_for()
        _no_violations(visit, heading)
    visit.shot("17-accessibilite")
    response = visit.goto("/cette-page-n-existe-pas")
    assert response.status == 404 and "Page introuvable" in visit.page.content()
    _no_violations(visit, "404")
    _login(visit, "usager@demo.test")
    response = visit.goto("/accueil")
    assert response.status == 403 and "Accès refusé" in visit.page.content()
    _no_violations(visit, "403")


def _page_under_the_real_policy(browser):
    """A page without bypass_csp, and the list that collects its policy violations."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return context, page, violations


def test_pages_run_under_the_real_content_security_policy(browser, live_server):
    context, page, violations = _page_under_the_real_policy(browser)
    page.goto(live_server.base_url + "/connexion")
    page.get_by_label("Adresse e-mail ou numéro de mobile").fill("referente@saint-bonnet.demo.test")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.goto(live_server.base_url + "/gestion/communes/15174/statistiques")
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 2")
    assert violations == []
    context.close()


def test_the_api_reference_renders_offline_under_its_policy(browser, live_server):
    context, page, problems = _page_under_the_real_policy(browser)
    page.on("request", lambda request: problems.append(request.url)
            if not request.url.startswith(live_server.base_url) and not request.url.startswith("data:") else None)
    page.goto(live_server.base_url + "/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/appointments" in " ".join(paths) and len(paths) >= 13
    assert problems == []
    page.screenshot(path=str(SCREENSHOTS / "14-api-docs.png"), full_page=False)
    context.close()


@pytest.mark.mobile
def test_resident_resets_her_password_books_from_the_site_page_and_cancels_with_confirmation(visit, live_server):
    page = visit.page
    visit.goto("/connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    _no_violations(visit, "mot de passe oublié")
    page.get_by_label(re.compile("Adresse e-mail ou numéro de mobile")).fill("usager@demo.test")
    page.get_by_role("button", name="Recevoir le lien").click()
    page.wait_for_selector("text=Regardez vos messages")
    _no_violations(visit, "lien envoyé")
    link = re.search(r"https?://\S+(/mot-de-passe/\S+)", outbox(live_server, "password-reset:%")[-1][1]).group(1)
    visit.goto(link)
    _no_violations(visit, "nouveau mot de passe")
    page.get_by_label("Mot de passe (10 caractères au moins)").fill("le chemin des crêtes")
    page.get_by_label("Confirmez le mot de passe").fill("le chemin des crêtes")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    page.wait_for_selector("text=Votre mot de passe est changé")
    page.get_by_label("Adresse e-mail ou numéro de mobile").fill("usager@demo.test")
    page.get_by_label("Mot de passe").fill("le chemin des crêtes")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector("text=Vous êtes connecté")
    # The cabin's public page: its free slots are booked online.
    visit.goto("/")
    page.get_by_role("link", name=re.compile("Cabine de téléconsultation")).first.click()
    page.wait_for_selector("text=Prochains créneaux libres")
    _no_violations(visit, "lieu public")
    page.locator("a.slot.free").first.click()
    page.wait_for_selector("text=Confirmer le rendez-vous")
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    page.wait_for_selector("text=Rendez-vous confirmé")
    reference = page.locator(".reference strong").inner_text()
    # Cancelling asks first; keeping it changes nothing.
    visit.goto("/compte")
    page.get_by_role("link", name="Annuler ce rendez-vous").first.click()
    page.wait_for_selector("text=Annuler votre rendez-vous ?")
    _no_violations(visit, "confirmer l’annulation")
    assert reference in page.content()
    page.get_by_role("link", name="Non, je le garde").click()
    assert reference in page.content()
    page.get_by_role("link", name="Annuler ce rendez-vous").first.click()
    page.get_by_role("button", name="Oui, annuler ce rendez-vous").click()
    page.wait_for_selector("text=Rendez-vous annulé")
    line = page.locator("li.card", has_text=reference)
    assert "annulé par le patient" in line.inner_text() and "à venir" not in line.inner_text()
    assert line.get_by_role("link", name="Annuler ce rendez-vous").count() == 0


def test_the_desk_cannot_check_in_days_ahead(visit, live_server):
    page = visit.page
    _login(visit, "accueil@saint-bonnet.demo.test")
    visit.goto("/espace")
    page.get_by_role("link", name=re.compile("Journée du lieu « Cabine")).click()
    for _ in range(21):  # the next day with patients expected
        page.get_by_role("link", name="Lendemain →").click()
        if page.locator("td", has_text="à venir").count():
            break
    assert page.locator("td", has_text="à venir").count() > 0
    _no_violations(visit, "journée à venir")
    assert page.get_by_role("button", name="Arrivé").count() == 0  # no check-in before the day


def _website(html: str):
    """A commune's own website on another origin (another port), serving one page."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_the_widget_shows_on_the_communes_website_and_nowhere_else(browser, live_server):
    from booking.extensions import db
    from booking.sites.models import Site

    with live_server.app_context():
        cabin = db.session.query(Site).filter_by(kind="teleconsultation").one()
        cabin_id = cabin.id
    snippet = (f'<!doctype html><html lang="fr"><title>Mairie</title><h1>Mairie de Saint-Bonnet</h1>'
               f'<iframe src="{live_server.base_url}/integrer/lieu/{cabin_id}" title="Rendez-vous santé" '
               f'width="600" height="400" sandbox="allow-popups allow-popups-to-escape-sandbox"></iframe></html>')
    declared, declared_url = _website(snippet)
    stranger, stranger_url = _website(snippet)
    try:
        with live_server.app_context():
            db.session.get(Site, cabin_id).embed_origins = [declared_url]  # what the referent declared
            db.session.commit()
        context = browser.new_context(locale="fr-FR")
        page = context.new_page()
        refused = []
        page.on("console", lambda message: refused.append(message.text) if "Refused" in message.text else None)
        page.goto(declared_url)
        frame = page.frame_locator("iframe")
        frame.get_by_text("Prochains créneaux libres").wait_for()
        assert frame.get_by_role("link", name="Tous les créneaux et la réservation").get_attribute("target") == "_blank"
        assert refused == []
        page.goto(stranger_url)  # a website the commune never declared: the browser refuses to show the widget
        page.wait_for_timeout(500)
        blocked = page.query_selector("iframe").content_frame()
        assert blocked is not None and "Prochains créneaux" not in blocked.content()
        page.goto(declared_url)  # the same page, framed where declared, still shows it: the test can fail
        page.frame_locator("iframe").get_by_text("Prochains créneaux libres").wait_for()
        context.close()
    finally:
        for server in (declared, stranger):
            server.shutdown()
            server.server_close()


def test_the_departement_reads_an_epcis_figures_and_nothing_personal(visit, live_server):
    page = visit.page
    _login(visit, "observatoire@cantal.demo.test")
    # The département's observers open on its map: each commune's drive to the nearest generalist.
    page.wait_for_selector("svg.map")
    assert page.url.endswith("/gestion/departements/15/acces")
    assert page.locator("svg.map circle").count() > 100 and page.locator("svg.map polygon.site").count() >= 1
    _no_violations(visit, "carte du département")
    visit.shot("23-carte-du-departement")
    page.get_by_text(re.compile("^Le tableau des \\d+ communes")).click()  # the map's text alternative
    assert page.locator("table[data-table=communes] tbody tr").count() > 100
    page.get_by_label("Carte", exact=True).select_option("demande")
    page.get_by_role("button", name="Afficher").click()
    page.get_by_role("heading", name=re.compile("^Recherches restées sans créneau")).wait_for()
    _no_violations(visit, "carte de la demande sans réponse")
    visit.goto("/espace")
    _no_violations(visit, "espace département")
    page.get_by_role("link", name="Statistiques de CC du Pays de Salers").click()
    page.wait_for_selector("text=En bref")
    _no_violations(visit, "statistiques intercommunalité")
    assert page.get_by_role("link", name="Télécharger le rapport (PDF)").is_visible()
    assert visit.goto("/accueil").status == 403  # no desk, no patient


def test_the_new_pages_of_every_role_pass_the_accessibility_checks(visit, live_server):
    """Pages a journey above does not reach: each one checked with axe and the contrast check."""
    from datetime import datetime

    from booking.appointments.models import Appointment
    from booking.extensions import db
    from booking.feedback.services import feedback_token
    from booking.sites.models import Practitioner, Site, SitePractitioner

    page = visit.page
    with live_server.test_request_context():
        cabin = db.session.query(Site).filter_by(kind="teleconsultation").one()
        vidal = db.session.query(Practitioner).filter_by(last_name="Vidal").one()
        db.session.get(SitePractitioner, (cabin.id, vidal.id)).delegated_at = datetime.now(UTC)
        from booking.slots.models import Slot

        attended = (db.session.query(Appointment).join(Slot).filter(Appointment.status == "attended",
                                                                    Slot.site_id == cabin.id)
                    .order_by(Slot.starts_at.desc()).first())  # the cabin's latest consultation: a valid link
        token = feedback_token(attended)
        db.session.commit()
        cabin_id, vidal_id, patient_id = cabin.id, vidal.id, attended.patient_id
        db.session.remove()
    visit.goto(f"/avis/{token}")
    _no_violations(visit, "avis")
    page.get_by_label("5 — tout à fait").check()
    page.get_by_label("Aller consulter plus loin").check()
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_selector("text=sans votre nom")
    visit.goto("/donnees-ouvertes")
    _no_violations(visit, "données ouvertes")
    _login(visit, "accueil@saint-bonnet.demo.test")
    for path, label in ((f"/gestion/sites/{cabin_id}/praticiens/{vidal_id}/disponibilites", "délégation"),
                        (f"/gestion/sites/{cabin_id}/calendrier", "calendrier (accueil)"),
                        (f"/gestion/patients/{patient_id}", "fiche patient"),
                        ("/accueil/patients/nouveau", "nouveau patient")):
        assert visit.goto(path).status == 200, path
        _no_violations(visit, label)
    visit.page.context.clear_cookies()
    _login(visit, "admin@demo.test")
    visit.goto("/admin/professions")
    _no_violations(visit, "professions")
    visit.goto(f"/gestion/sites/{cabin_id}/modifier")
    _no_violations(visit, "modifier le lieu")


@pytest.mark.mobile
def test_a_resident_signed_up_by_email_is_promised_emails_and_gets_them(visit, live_server):
    page = visit.page
    visit.goto("/inscription")
    page.get_by_label("Prénom").fill("Odile")
    page.get_by_label("Nom", exact=True).fill("Vernhes")
    page.get_by_label("Date de naissance").fill("1950-06-21")
    page.get_by_label("Commune de résidence").fill("Saint-Bonnet-de-Salers")
    page.get_by_label(re.compile("Adresse e-mail")).fill("odile.vernhes@example.org")
    page.get_by_label("Mot de passe (10 caractères au moins)").fill("les gentianes du puy")
    page.get_by_label("Confirmez le mot de passe").fill("les gentianes du puy")
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_selector("text=Mon compte")
    assert "Vos rappels arrivent par e-mail (odile.vernhes@example.org)" in page.content()
    visit.goto("/")
    page.get_by_role("link", name=re.compile("Cabine de téléconsultation")).first.click()
    page.locator("a.slot.free").first.click()
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    page.wait_for_selector("text=Rendez-vous confirmé")
    _no_violations(visit, "confirmation par e-mail")
    promise = page.locator("main p", has_text="par e-mail").inner_text()
    assert "par e-mail (odile.vernhes@example.org)" in promise and "notez bien" not in page.content()
    visit.shot("6-confirmation-par-e-mail-mobile")
    reference = page.locator(".reference strong").inner_text()
    sent = [body for recipient, body in outbox(live_server, "appointment:%:email-confirmation:%")
            if recipient == "odile.vernhes@example.org"]
    assert len(sent) == 1 and reference in sent[0]
    visit.goto("/compte")
    page.get_by_role("link", name="E-mail et rappels").first.click()
    _no_violations(visit, "e-mail et rappels")
    visit.shot("7-e-mail-et-rappels-mobile")


@pytest.mark.mobile
def test_a_practitioner_reserves_thursday_late_mornings_to_the_sas_and_residents_do_not_see_them(visit, live_server):
    page = visit.page

    def published_slots() -> int:
        return len(page.request.get(f"{visit.base_url}/fhir/Slot.ndjson").text().splitlines())

    before = published_slots()
    _login(visit, "dr.aymar@demo.test")
    visit.goto("/praticien/disponibilites/nouvelle")
    page.get_by_label("Lieu de soins").select_option(label="Cabine de téléconsultation de Saint-Bonnet")
    page.get_by_label("Rythme", exact=True).select_option("weekly")
    page.get_by_label("Jeudi").check()
    page.get_by_label("De", exact=True).fill("11:00")
    page.get_by_label("À", exact=True).fill("12:00")
    page.get_by_label(re.compile("Lien de votre outil")).fill("https://visio.example.test/dr-aymar")
    page.get_by_label("Qui peut réserver ces créneaux").select_option("snp")
    visit.shot("13-praticien-creneaux-sas-mobile")
    # (A full-page screenshot while a number field has the focus leaves Chromium's next click without effect:
    # the number is typed after it.)
    page.get_by_label(re.compile("ouverts à tous, s’ils sont encore libres")).fill("1")
    page.get_by_role("button", name="Publier").click()
    page.wait_for_selector("text=Disponibilités publiées")
    _no_violations(visit, "agenda avec créneaux SAS")
    assert "réservé au SAS jusqu’à" in page.content().replace("\u202f", " ")
    visit.shot("14-praticien-agenda-sas-mobile")
    # Reserved to the SAS until an hour before: not one more slot offered to residents anywhere in the feed.
    assert published_slots() == before
