#!/usr/bin/env bash
# Run the whole test suite headless. Starts the machine's PostgreSQL (if installed) so the
# server tests also run on PostgreSQL; without it those variants are skipped with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
# Lint first, so a finding fails the run before the long part: ruff with the rule set in
# pyproject.toml [tool.ruff], then mypy --strict on desmig_desktop, desmig_server and desmig_testing
# ([tool.mypy] files; its cache in .mypy_cache keeps a re-run to a few seconds).
.venv/bin/ruff check .
.venv/bin/mypy
# Disk: the run keeps only failing tests' databases (pyproject: tmp_path_retention_policy), about
# 0.6 GB at its peak in the temp dir; say so up front when the disk is nearly full, because a full
# disk shows up later as hundreds of unrelated errors.
free_mb=$(df -Pm "${TMPDIR:-/tmp}" 2>/dev/null | awk 'NR == 2 {print $4}' || true)
if [ -n "$free_mb" ] && [ "$free_mb" -lt 2048 ]; then
  echo "warning: only ${free_mb} MB free in ${TMPDIR:-/tmp}; the tests need about 1 GB there" >&2
fi
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -u postgres bash -c "$1"; fi; }
if [ -z "${DESMIG_TEST_PG_URL:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$ver" ]; then
    if [ "$(id -u)" = 0 ]; then pg_ctlcluster "$ver" main start 2>/dev/null || true
    else sudo pg_ctlcluster "$ver" main start 2>/dev/null || true; fi
    for _ in $(seq 1 60); do as_postgres "psql -qAtc 'select 1'" >/dev/null 2>&1 && break; sleep 0.5; done
    me=$(id -un)
    as_postgres "psql -qAtc \"select 1 from pg_roles where rolname='$me'\" | grep -q 1 || createuser -s $me"
    psql -d postgres -qAtc "select 1 from pg_database where datname='desmig_test'" | grep -q 1 \
      || createdb desmig_test
    export DESMIG_TEST_PG_URL="postgresql+psycopg:///desmig_test?host=/var/run/postgresql"
    echo "PostgreSQL $ver running; server tests run on SQLite and PostgreSQL."
  fi
fi
# Benchmark smoke run (~2k households, HQ load 10 × 200; under 90 s): keeps the benchmarks from
# rotting. Missed speed targets are reported, not failed; errors, lost or duplicated records fail.
# First the officer's app bundle (dist/desmig, ~25 s to build; skipped when built from the same
# sources): the smoke tests in tests/bundle run it in a clean environment, the bench times its start.
if [ "$#" -eq 0 ]; then
  bash scripts/bundle.sh
  .venv/bin/python -m bench.run --smoke
fi
# One test process per core, at most four (pytest-xdist; whole files per worker, so a module's
# fixtures are built once): 7 min instead of 13 on the 2-core CI machine. Each worker has its own
# temp dir, HQ templates, PostgreSQL schemas (suffixed by its pid) and ports.
# DESMIG_TEST_WORKERS=0 runs everything in this one process (e.g. under a debugger); "-n" or
# "--dist" given to this script win over these. Lines tests record for the end of the run (seeds,
# fuzz counts) come through the run_summary fixture (tests/support/run_summary.py).
cores=$(nproc 2>/dev/null || echo 1)
workers=${DESMIG_TEST_WORKERS:-$(( cores < 4 ? cores : 4 ))}
exec .venv/bin/python -m pytest -p no:cacheprovider -n "$workers" --dist loadfile "$@"
