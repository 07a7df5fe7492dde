"""Communes, EPCI and départements: reference data and lookup."""
