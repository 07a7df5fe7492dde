"""Availability rules, the slots they materialize, and iCalendar feeds."""
