"""SMS length, transliteration, send times, backoff and signed links: pure rules."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from booking.appointments.links import cancel_token, read_cancel_token
from booking.appointments.rules import in_quiet_hours, morning_after, reminder_due
from notifications.dispatcher import backoff
from notifications.gsm import is_gsm7, segments, to_gsm7

PARIS = ZoneInfo("Europe/Paris")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def test_french_letters_in_and_out_of_gsm7():
    assert is_gsm7("é è à ù É Ç")
    for letter in ["ê", "â", "î", "ô", "û", "ë", "ï", "ç", "œ", "«", "»", "’"]:
        assert not is_gsm7(letter), letter


def test_one_character_outside_gsm7_switches_the_whole_message_to_ucs2():
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 70 + "ê") == 2
    assert segments("a" * 69 + "ê") == 1
    assert segments("{" * 80) == 1 and segments("{" * 81) == 2  # extension characters count twice


def test_transliteration_keeps_what_gsm7_has():
    assert to_gsm7("Fête à l’Hôtel-Dieu «Œuvre» ça") == 'Fete à l\'Hotel-Dieu "OEuvre" ca'
    assert to_gsm7("Réf. Ç É") == "Réf. Ç É"
    assert is_gsm7(to_gsm7("Saint-Étienne-de-Lugdarès, île, naïve, ŷ"))


def test_reminder_the_day_before_keeps_the_wall_clock_across_daylight_saving():
    # Sunday 28 March 2027: clocks go forward at 02:00. A slot at 09:00 that day is
    # reminded on Saturday at 09:00 (08:00 UTC), not at 08:00 local.
    assert reminder_due(paris(2027, 3, 28, 9, 0), 24, "Europe/Paris") == datetime(2027, 3, 27, 8, 0,
                                                                                  tzinfo=UTC)
    # Autumn: Sunday 31 October, slot 10:00 (09:00 UTC) → Saturday 10:00 CEST (08:00 UTC).
    assert reminder_due(paris(2027, 10, 31, 10, 0), 24, "Europe/Paris") == datetime(2027, 10, 30, 8, 0,
                                                                                    tzinfo=UTC)


def test_a_reminder_that_would_fall_at_night_goes_out_before():
    early_slot = paris(2027, 3, 10, 7, 30)  # 24 h before is 07:30: too early
    assert reminder_due(early_slot, 24, "Europe/Paris") == paris(2027, 3, 8, 20, 0)
    late_slot = paris(2027, 3, 10, 22, 0)
    assert reminder_due(late_slot, 24, "Europe/Paris") == paris(2027, 3, 9, 20, 0)


def test_two_hour_reminder_for_an_early_slot_moves_to_the_evening_before():
    assert reminder_due(paris(2027, 3, 10, 9, 0), 2, "Europe/Paris") == paris(2027, 3, 9, 20, 0)


def test_overseas_quiet_hours_use_the_site_zone():
    moment = datetime(2027, 3, 10, 1, 30, tzinfo=UTC)  # 21:30 in Guadeloupe, 02:30 in Paris
    assert in_quiet_hours(moment, "America/Guadeloupe") and in_quiet_hours(moment, "Europe/Paris")
    noon_paris = paris(2027, 3, 10, 12, 0)
    assert not in_quiet_hours(noon_paris, "Europe/Paris") and in_quiet_hours(noon_paris, "Pacific/Noumea")


def test_confirmations_booked_at_night_wait_for_the_morning():
    assert morning_after(paris(2027, 3, 10, 23, 15), "Europe/Paris") == paris(2027, 3, 11, 8, 0)
    assert morning_after(paris(2027, 3, 10, 6, 0), "Europe/Paris") == paris(2027, 3, 10, 8, 0)
    assert morning_after(paris(2027, 3, 10, 14, 0), "Europe/Paris") == paris(2027, 3, 10, 14, 0)


def test_backoff_grows_and_is_capped():
    assert [backoff(n).seconds // 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_cancel_token_is_short_signed_and_bound_to_its_appointment():
    token = cancel_token("secret", 42, "K7P-3QX")
    assert len(token) <= 20
    assert read_cancel_token("secret", token, lambda i: "K7P-3QX" if i == 42 else None) == 42
    assert read_cancel_token("other secret", token, lambda i: "K7P-3QX") is None
    assert read_cancel_token("secret", token.replace("42-", "43-"), lambda i: "K7P-3QX") is None
    assert read_cancel_token("secret", "nonsense", lambda i: "K7P-3QX") is None
    assert read_cancel_token("secret", token, lambda i: None) is None


def test_an_appointment_is_to_come_only_when_booked_and_ahead():
    from datetime import datetime, timedelta

    from booking.appointments.rules import state_label

    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    ahead, past = now + timedelta(days=7), now - timedelta(days=1)
    assert state_label("booked", ahead, now) == "à venir"
    assert state_label("booked", past, now) == "passé, présence à noter"
    assert state_label("cancelled", ahead, now, "site") == "annulé par le lieu (fermeture)"
    assert state_label("cancelled", ahead, now, "patient") == "annulé par le patient"
    assert state_label("cancelled", ahead, now) == "annulé"
    assert state_label("attended", past, now) == "venu" and state_label("no_show", past, now) == "absent"
