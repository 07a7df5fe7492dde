"""Residents' feedback after a consultation: two questions, anonymous in the figures."""
