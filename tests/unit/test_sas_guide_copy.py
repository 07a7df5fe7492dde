"""The guide's files the tests read are unchanged copies of the team's reference copy."""

import pytest

from tests.sas_guide import COPY, REFERENCE


@pytest.mark.skipif(not REFERENCE.exists(), reason="the reference copy of the guide is not on this machine")
def test_the_copied_files_are_the_guides_own():
    copied = sorted(path for path in COPY.rglob("*") if path.suffix in (".fsh", ".md") and path.name != "README.md")
    assert len(copied) == 9
    for path in copied:
        original = next(REFERENCE.rglob(path.name))
        assert path.read_bytes() == original.read_bytes(), path.name


def test_the_rules_of_the_slot_profile_are_read_from_its_fsh():
    from tests.sas_guide import example_search_request, rules

    slot_rules = {(rule.path, rule.fixed) for rule in rules("FrSlotAgregateur") if rule.fixed}
    assert ("status", "#free") in slot_rules
    assert "schedule.actor:Practitioner.identifier" in example_search_request()


def test_made_up_rpps_numbers_are_valid_distinct_and_never_a_real_practitioners():
    from booking.sites.rules import made_up_rpps, rpps_is_valid

    numbers = [made_up_rpps(n) for n in range(1000)]
    assert all(rpps_is_valid(number) and number.startswith("9") for number in numbers)
    assert len(set(numbers)) == 1000
