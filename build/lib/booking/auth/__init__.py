"""Users, roles, login and the permission layer."""
