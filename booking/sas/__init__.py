"""The Service d'Accès aux Soins (SAS): its regulators search our practitioners' slots and book them, as the ANS
implementation guide ``ans.fhir.fr.sas`` describes (FHIR R4, mutual TLS)."""
