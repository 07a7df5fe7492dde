"""Open slots for the ecosystem: SMART Scheduling Links (FHIR Location, Schedule, Slot) and an embeddable widget."""
