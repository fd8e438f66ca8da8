#!/usr/bin/env bash
# The project's test command. From anywhere: bash tests/run.sh [extra pytest args]
#   1. cargo build (debug, whole workspace)
#   2. cargo test --workspace
#   3. benchmark smoke: bench/run.sh --smoke (seconds; fails on any error)
#   4. create/refresh .venv (tests/setup-venv.sh; pip only when pins changed)
#   5. black-box suite: .venv/bin/python -m pytest tests -q -rfEs -n 2 --dist loadfile
# Stops at the first failing step and exits non-zero. pytest's summary line is
# the last line printed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "cargo build --workspace"
cargo build --workspace

step "cargo test --workspace"
cargo test --workspace

step "benchmark smoke (bench/run.sh --smoke)"
FERROSTACK_BIN="${FERROSTACK_BIN:-$ROOT/target/debug/ferrostack}" bash bench/run.sh --smoke

step "test virtualenv"
bash tests/setup-venv.sh

step "pytest (black-box suite)"
export PATH="$ROOT/.venv/bin:$PATH"
export FERROSTACK_BIN="${FERROSTACK_BIN:-$ROOT/target/debug/ferrostack}"
export PYTHONDONTWRITEBYTECODE=1
# Two workers, one test file per worker at a time (files share servers
# between their own tests), in collection order (--no-loadscope-reorder:
# tests/conftest.py puts the longest files first; xdist would otherwise
# sort files by test count and leave the one-test tempest runs for last);
# --durations shows where the time goes.
exec "$ROOT/.venv/bin/python" -m pytest tests -q -rfEs -n 2 --dist loadfile --no-loadscope-reorder \
    --durations=15 "$@"
