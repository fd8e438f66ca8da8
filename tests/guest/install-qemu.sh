#!/usr/bin/env bash
# Installs QEMU (qemu-system-x86 and qemu-utils) from bookworm-backports when
# qemu-system-x86_64 is missing. Idempotent; never edits /etc/apt: the
# backports suite is read through a private sources list and lists directory.
#
# Why backports: such machines often ship qemu-utils from bookworm-backports,
# which conflicts with bookworm's own qemu-system-common (a plain
# `apt-get install qemu-system-x86` then fails with "held broken packages").
set -euo pipefail

if command -v qemu-system-x86_64 >/dev/null 2>&1 && command -v qemu-img >/dev/null 2>&1; then
    exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

mirror="${FERRO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
state="$(mktemp -d /tmp/ferro-apt.XXXXXX)"
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$state/sources.list" <<SRC
deb [signed-by=$keyring] $mirror bookworm main
deb [signed-by=$keyring] $mirror bookworm-updates main
deb [signed-by=$keyring] $mirror bookworm-backports main
deb [signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main
SRC
chmod -R a+rX "$state"   # apt's sandbox user (_apt) writes into lists/partial
$SUDO chown -R _apt "$state/lists/partial" 2>/dev/null || true

apt_opts=(
    -o "Dir::Etc::SourceList=$state/sources.list"
    -o "Dir::Etc::SourceParts=/nonexistent"
    -o "Dir::State::Lists=$state/lists"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
)
echo "install-qemu: qemu-system-x86 and qemu-utils from bookworm-backports"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get "${apt_opts[@]}" update -q
$SUDO apt-get "${apt_opts[@]}" install -y -q --no-install-recommends \
    -t bookworm-backports qemu-system-x86 qemu-utils
qemu-system-x86_64 --version | head -1
