#!/usr/bin/env bash
# Build the officer's app bundle dist/desmig/ (packaging/desmig.spec) with the venv's PyInstaller
# (the `bundle` extra). Skips the build when dist/desmig was built from the same sources:
# dist/desmig.stamp holds a hash of desmig_desktop/, resources/, packaging/, pyproject.toml and
# the venv's package versions. `--force` rebuilds anyway. CI is a clean clone, so it always builds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
exe=dist/desmig/desmig
case "$(uname -s)" in MINGW*|MSYS*|CYGWIN*) exe=dist/desmig/desmig.exe ;; esac
stamp=dist/desmig.stamp
sources_hash() {
  { find desmig_desktop resources packaging pyproject.toml -type f ! -name '*.pyc' ! -path '*/__pycache__/*' \
      -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    "$PY" -m pip freeze --exclude-editable 2>/dev/null; } | sha256sum | cut -d' ' -f1
}
want=$(sources_hash)
if [ "${1:-}" != "--force" ] && [ -x "$exe" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "bundle: $exe is up to date (built from the same sources)"
  exit 0
fi
"$PY" -c "import PyInstaller" 2>/dev/null || "$PY" -m pip install -q -e ".[desktop,bundle]"
rm -f "$stamp"
start=$(date +%s)
# PYTHONPATH: the spec analyses this checkout's packages, whatever the venv's editable install points at.
PYTHONPATH="$PWD" "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/desmig.spec
echo "$want" > "$stamp"
echo "bundle: built $exe in $(( $(date +%s) - start )) s, $(du -sm dist/desmig | cut -f1) MB"
