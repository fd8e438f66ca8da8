#!/usr/bin/env bash
# Create or refresh the test virtualenv at .venv (repo root).
# Idempotent: pip runs only when requirements.txt/constraints.txt (or the
# Python interpreter) changed since the last successful install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQ="$ROOT/tests/requirements.txt"
CON="$ROOT/tests/constraints.txt"
STAMP="$VENV/.ferrostack-requirements.sha256"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "setup-venv: creating $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi

want="$(cat "$REQ" "$CON" | sha256sum | cut -d' ' -f1) $("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])')"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" = "$have" ]; then
    echo "setup-venv: $VENV is up to date"
    exit 0
fi

echo "setup-venv: installing test requirements into $VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" -c "$CON"
printf '%s\n' "$want" > "$STAMP"
echo "setup-venv: done"
