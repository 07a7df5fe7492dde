"""Public pages that belong to no single feature: home, health."""
