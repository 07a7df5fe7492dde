"""Places of care, their rooms, and the practitioners they accept."""
