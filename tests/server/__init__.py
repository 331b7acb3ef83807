"""HQ server tests (a package so module names cannot clash with other test directories)."""
