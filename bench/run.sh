#!/usr/bin/env bash
# Benchmark entry point. From anywhere:
#   bash bench/run.sh            full run: upstream Keystone + Glance, then
#                                ferrostack (release build); ~10-15 min
#   bash bench/run.sh --smoke    ferrostack only, tiny data set, seconds;
#                                exits non-zero when any scenario errors
# Other flags: --no-upstream (ferrostack only, full data set),
#   --duration SECONDS (per measurement, default 5; smoke 1), --out DIR,
#   --guests-only / --no-guests (the real-guest scenarios: ferrostack's qemu
#   driver vs plain qemu-system-x86_64; skipped when QEMU is absent),
#   --accel auto|kvm|tcg (theirs; default $FERROSTACK_COMPUTE_ACCEL or tcg),
#   --dataplane-only / --no-dataplane (the data-plane scenarios: SSH through
#   a floating IP, security-group changes, port rate with the data plane on
#   vs off; root, ip, nft, dnsmasq; skipped otherwise; smoke: ports only).
# Installs what it needs: wrk (apt), the upstream venv in bench/.work/venv
# (pinned by bench/upstream/constraints.txt), the ferrostack binary.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
smoke=0
upstream=1
for arg in "$@"; do
    case "$arg" in
        --smoke) smoke=1; upstream=0 ;;
        --no-upstream|--guests-only|--dataplane-only) upstream=0 ;;
    esac
done

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: installing wrk"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -q --no-install-recommends wrk >/dev/null 2>&1 || {
        $SUDO apt-get update -q
        $SUDO apt-get install -y -q --no-install-recommends wrk
    }
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if [ "$smoke" -eq 1 ]; then
    # The smoke checks the harness and the scenarios, not speed: the debug
    # binary tests/run.sh has just built is enough.
    BIN="${FERROSTACK_BIN:-$ROOT/target/debug/ferrostack}"
    [ -x "$BIN" ] || (cd "$ROOT" && cargo build -p ferrostack)
else
    (cd "$ROOT" && nice -n 10 cargo build --release -p ferrostack)
    BIN="$ROOT/target/release/ferrostack"
fi

if [ "$upstream" -eq 1 ]; then
    VENV="$BENCH/.work/venv"
    stamp="$VENV/.installed"
    want="$(cat "$BENCH/upstream/requirements.txt" "$BENCH/upstream/constraints.txt" | sha256sum)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "bench: installing upstream Keystone and Glance into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q -r "$BENCH/upstream/requirements.txt" \
            -c "$BENCH/upstream/constraints.txt"
        echo "$want" > "$stamp"
    fi
fi

exec python3 -u "$BENCH/bench.py" --binary "$BIN" "$@"
