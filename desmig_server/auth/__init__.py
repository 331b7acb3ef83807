"""Users, roles and scopes; argon2id passwords; per-device bearer tokens; login lockout."""
