#!/usr/bin/env bash
# Run gophercloud's acceptance tests (Debian's golang-github-gophercloud-
# gophercloud-dev 0.12.0, built offline in GOPATH mode) against a cloud
# described by the OS_* environment (see tests/blackbox/test_gophercloud.py,
# which starts the server, creates what the tests need and sets it).
#
#   tests/clients/gophercloud/run.sh OUT_DIR [PACKAGE...]
#
# PACKAGE is a path under acceptance/openstack (default: identity/v3
# compute/v2 networking/v2 imageservice/v2 blockstorage/v3). For each, the
# `go test -v` log goes to OUT_DIR/<package with _>.log and one line per
# top-level test to OUT_DIR/results.txt: "<package> <PASS|FAIL|SKIP> <Test>".
# A package whose binary dies (panic, timeout) also gets a line
# "<package> CRASH -". Exit status: 0 when every package ran (failures are
# judged by the caller against baseline.txt), 2 when go or the sources are
# missing.
set -uo pipefail

OUT="${1:?usage: run.sh OUT_DIR [PACKAGE...]}"
shift
PACKAGES=("$@")
[ "${#PACKAGES[@]}" -gt 0 ] || PACKAGES=(identity/v3 compute/v2 networking/v2 imageservice/v2 blockstorage/v3)

GOCODE="${GOPHERCLOUD_GOPATH:-/usr/share/gocode}"
IMPORT=github.com/gophercloud/gophercloud
if ! command -v go >/dev/null 2>&1 || [ ! -d "$GOCODE/src/$IMPORT/acceptance" ]; then
    echo "run.sh: needs golang-go and golang-github-gophercloud-gophercloud-dev" >&2
    exit 2
fi

# Offline: GOPATH mode over Debian's source tree, no module proxy.
export GOPATH="$GOCODE" GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local
# Anything a test would fetch from outside goes to a closed local port
# (Go never proxies loopback, so the cloud itself is reached directly).
export HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=
export http_proxy="$HTTP_PROXY" https_proxy="$HTTPS_PROXY" no_proxy=
export GOCACHE="${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/go-build}"
mkdir -p "$OUT" "$GOCACHE"
: > "$OUT/results.txt"

# Tests left out (Go 1.19's `go test` has no -skip): the `exclude` lines of
# baseline.txt, "exclude <package> <Test> <reason>". The others of the
# package run, named in one -run pattern.
BASELINE="${GOPHERCLOUD_BASELINE:-$(dirname "${BASH_SOURCE[0]}")/baseline.txt}"
TIMEOUT="${GOPHERCLOUD_TIMEOUT:-240s}"

run_pattern() {
    local pkg="$1" dir="$GOCODE/src/$IMPORT/acceptance/openstack/$1"
    local excluded
    excluded="$(awk -v p="$pkg" '$1 == "exclude" && $2 == p {print $3}' "$BASELINE" 2>/dev/null)"
    if [ -z "$excluded" ]; then
        echo .
        return
    fi
    sed -n -E 's/^func (Test[A-Za-z0-9_]*)\(t \*testing\.T\).*/\1/p' "$dir"/*_test.go \
        | grep -v -x -F "$excluded" | paste -s -d '|' | sed 's/^/^(/; s/$/)$/'
}

for pkg in "${PACKAGES[@]}"; do
    log="$OUT/${pkg//\//_}.log"
    echo "run.sh: go test $pkg" >&2
    go test -tags acceptance -count=1 -v -p 1 -timeout "$TIMEOUT" -run "$(run_pattern "$pkg")" \
        "$IMPORT/acceptance/openstack/$pkg" > "$log" 2>&1
    rc=$?
    sed -n -E 's/^--- (PASS|FAIL|SKIP): ([A-Za-z0-9_]+) .*/\1 \2/p' "$log" \
        | while read -r status name; do echo "$pkg $status $name"; done >> "$OUT/results.txt"
    if [ "$rc" -ne 0 ] && ! grep -q -E '^--- FAIL: ' "$log"; then
        echo "$pkg CRASH -" >> "$OUT/results.txt"
    elif grep -q -E '^(panic: |FAIL\s.*\(build failed\))|test timed out' "$log"; then
        echo "$pkg CRASH -" >> "$OUT/results.txt"
    fi
done
exit 0
