"""Browser tests: the app served on 127.0.0.1 by a thread, Debian's Chromium driven by Playwright, axe-core."""

import os
import socket
import threading
import time as timer
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from werkzeug.serving import make_server

from booking.extensions import db
from tests.conftest import GEO_FIXTURE, make_app, place_communes

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "demo-rendez-vous"
# The browser world's calendar, whatever day the suite runs: a Thursday morning in March, far from holidays
# and daylight-saving changes. The clock then moves on with real seconds, as the journeys need it to.
E2E_NOW = datetime(2027, 3, 4, 8, 0, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _world(now: datetime) -> None:
    """The demo world, plus what the journeys need: a known elderly patient, a new GP, a past appointment."""
    from werkzeug.security import generate_password_hash

    from booking.appointments.models import Appointment
    from booking.appointments.rules import new_reference
    from booking.auth.models import User
    from booking.demo import build_demo
    from booking.geo.rules import search_key
    from booking.patients.models import Patient
    from booking.sites.models import Practitioner, Room, Site, SitePractitioner
    from booking.slots.models import Slot

    build_demo(now)
    session = db.session
    cabin = session.query(Site).filter_by(kind="teleconsultation").one()
    cabin.rooms.append(Room(name="Bureau"))
    user = User(role="practitioner", email="dr.aymar@demo.test", display_name="Dr Paul Aymar",
                password_hash=generate_password_hash(PASSWORD, method="scrypt"))
    practitioner = Practitioner(first_name="Paul", last_name="Aymar", profession="medecin_generaliste", user=user)
    session.add(SitePractitioner(site=cabin, practitioner=practitioner, status="accepted", accepted_at=now))
    session.add(Patient(first_name="Odette", last_name="Vermenouze", search_last_name=search_key("Vermenouze"),
                        birth_date=date(1944, 11, 2), phone="+33471401234", phone_kind="landline",
                        commune_insee="15174", sms_consent=False))
    yesterday = (now - timedelta(days=1)).date()
    start = datetime.combine(yesterday, time(15), tzinfo=UTC)
    past = Slot(practitioner=practitioner, site=cabin, room=cabin.rooms[-1], starts_at=start,
                ends_at=start + timedelta(minutes=20), booked_count=1)
    patient = session.query(Patient).filter(Patient.phone_kind == "mobile").first()
    session.add(Appointment(reference=new_reference(), slot=past, patient=patient, seat=1, channel="reception",
                            status="booked", created_at=now - timedelta(days=5)))
    # Tomorrow, someone no SMS or call reaches: the desk's call list and the letters show him.
    tomorrow = datetime.combine((now + timedelta(days=1)).date(), time(15), tzinfo=UTC)
    soon = Slot(practitioner=practitioner, site=cabin, room=cabin.rooms[-1], starts_at=tomorrow,
                ends_at=tomorrow + timedelta(minutes=20), booked_count=1)
    unreachable = Patient(first_name="Léon", last_name="Bancarel", search_last_name=search_key("Bancarel"),
                          birth_date=date(1938, 4, 9), phone="+33471409876", phone_kind="landline",
                          calls_refused=True, commune_insee="15174", sms_consent=False)
    session.add(Appointment(reference=new_reference(), slot=soon, patient=unreachable, seat=1, channel="reception",
                            status="booked", created_at=now - timedelta(days=3), reminder_channel="none"))
    session.commit()


@pytest.fixture(scope="session")
def e2e_clock():
    """The browser session's current instant: E2E_NOW when it began, plus the real seconds since."""
    began = timer.monotonic()
    return lambda: E2E_NOW + timedelta(seconds=timer.monotonic() - began)


@pytest.fixture(autouse=True)
def _on_the_e2e_calendar(e2e_clock):
    """Run each browser test, the server thread included, on the e2e calendar (time-machine is process-wide)."""
    with time_machine.travel(e2e_clock(), tick=True):
        yield


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, e2e_clock):
    """Serve a demo world on a free port for the whole browser session."""
    from flask_migrate import upgrade

    from booking.geo.services import import_reference_data

    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.sqlite'}"
    app = make_app(url, TESTING=False, WTF_CSRF_ENABLED=True, SERVER_NAME=None,
                   PUBLIC_BASE_URL="http://127.0.0.1")
    with app.app_context():
        upgrade()
        import_reference_data(db.session, GEO_FIXTURE)
        place_communes()  # as scripts/run does: distances in the search, the département's map
        with time_machine.travel(e2e_clock(), tick=True):
            _world(datetime.now(UTC))
        db.session.remove()
    port = _free_port()
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.base_url = f"http://127.0.0.1:{port}"
    yield app
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install chromium (done by .ci/run)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            # Date fields follow the browser's own locale, as on a mairie's French computer.
            env={**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr_FR:fr"},
            args=["--no-sandbox", "--disable-gpu", "--lang=fr-FR", "--disable-background-networking",
                  "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


CONTRAST_SCRIPT = """minimum => {
  const rgba = text => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = element => {
    for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
      const color = rgba(getComputedStyle(node).backgroundColor);
      if (color.length === 3 || (color.length === 4 && color[3] > 0.5)) return color.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const element of document.querySelectorAll('a[href], button, input[type=submit], .button')) {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    const label = (element.innerText || element.value || '').trim();
    if (!box.width || !box.height || style.visibility === 'hidden' || !label) continue;
    const [l1, l2] = [luminance(rgba(style.color)), luminance(background(element))].sort((a, b) => b - a);
    const ratio = Math.round((l1 + 0.05) / (l2 + 0.05) * 100) / 100;
    if (ratio < minimum) low.push({text: label.slice(0, 40), ratio});
  }
  return low;
}"""


PHONE_WIDTH = 390
# The elements that stick out of a phone's screen, innermost first, to say where an overflow comes from.
WIDEST_SCRIPT = """width => {
  const out = [];
  for (const element of document.querySelectorAll('body *')) {
    const box = element.getBoundingClientRect();
    if (box.right > width + 1 && ![...element.children].some(c => c.getBoundingClientRect().right > width + 1)) {
      out.push(element.tagName.toLowerCase() + (element.className ? '.' + String(element.className).split(' ')[0] : '')
               + ' ' + Math.round(box.right) + 'px');
    }
  }
  return out.slice(0, 5);
}"""


class Visit:
    """A browser page that checks every page it reaches with axe and counts page loads."""

    def __init__(self, page, base_url: str):
        self.page, self.base_url = page, base_url
        self.loads = 0
        self.checked: dict[str, list] = {}
        page.on("load", lambda _page: self._loaded())

    def _loaded(self):
        self.loads += 1

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def axe(self, label: str) -> list:
        """Run axe-core on the current page; return its serious and critical violations."""
        if not AXE.exists():
            pytest.fail("axe-core is missing: scripts/setup installs it with npm")
        self.page.add_script_tag(path=str(AXE))
        violations = self.page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
            .violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))""")
        violations += [f"contraste {c['ratio']}:1 « {c['text']} »" for c in self.low_contrast_controls()]
        violations += self.overflow_on_a_phone()
        self.checked[label] = violations
        return violations

    def overflow_on_a_phone(self, width: int = PHONE_WIDTH) -> list[str]:
        """The page laid out on a 390 px screen: wider than the screen means buttons off to the side."""
        viewport = self.page.viewport_size
        self.page.set_viewport_size({"width": width, "height": viewport["height"]})
        try:  # laid out again (two frames: what resizes itself on a resize, a chart say, has done so)
            scroll_width = self.page.evaluate("""() => new Promise(done => requestAnimationFrame(() =>
                requestAnimationFrame(() => done(document.documentElement.scrollWidth))))""")
            culprits = [] if scroll_width <= width else self.page.evaluate(WIDEST_SCRIPT, width)
        finally:
            self.page.set_viewport_size(viewport)
        return [f"défilement horizontal à {width} px : {scroll_width} px ({', '.join(culprits)})"] \
            if scroll_width > width else []

    def low_contrast_controls(self, minimum: float = 4.5) -> list[dict]:
        """Every visible button and link whose text contrasts less than ``minimum`` with what is behind it.

        axe-core leaves a control out ("incomplete") when it cannot tell the background; this walks up to the
        first opaque background itself, so that a white button on a white page is always caught.
        """
        return self.page.evaluate(CONTRAST_SCRIPT, minimum)

    def shot(self, name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def visit(browser, live_server, request):
    mobile = request.node.get_closest_marker("mobile") is not None
    # bypass_csp only lets axe-core be injected; the pages themselves run under the real policy.
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", accept_downloads=True, bypass_csp=True,
                                  viewport={"width": 390, "height": 844} if mobile else {"width": 1280, "height": 900},
                                  device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield Visit(page, live_server.base_url)
    context.close()


def outbox(app, like: str) -> list:
    """Read messages from the outbox (the SMS the journeys must follow)."""
    from sqlalchemy import select

    from notifications.models import Notification

    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.dedupe_key.like(like))
                                  .order_by(Notification.id)).all()
        result = [(row.recipient, row.body) for row in rows]
        db.session.remove()
    return result
