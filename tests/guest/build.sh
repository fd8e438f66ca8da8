#!/usr/bin/env bash
# Builds Ferrostack's tiny test guest from Debian packages, without root:
#   OUTDIR/guest.qcow2  self-booting disk (FAT + syslinux + kernel + initramfs),
#                       what a test uploads to Glance
#   OUTDIR/vmlinuz, OUTDIR/initrd.gz  the same kernel and initramfs, for
#                       booting with -kernel/-initrd
# Usage: tests/guest/build.sh OUTDIR
# The .debs are cached in ${FERRO_GUEST_CACHE:-~/.cache/ferrostack-guest};
# nothing but Debian packages (apt-get download) is fetched. The build is
# skipped when OUTDIR/guest.qcow2 is newer than this script, init.sh and
# every file under rootfs/ (copied as is into the initramfs).
# Needs: apt-get, dpkg, mkfs.fat (dosfstools), syslinux, mcopy (mtools),
# qemu-img.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out="$1"
init="$here/init.sh"

rootfs="$here/rootfs"
# One build at a time per output directory (parallel test workers ask for
# the same guest): the others wait, then find it up to date.
mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9
if [ -f "$out/guest.qcow2" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.gz" ] \
    && [ "$out/guest.qcow2" -nt "$0" ] && [ "$out/guest.qcow2" -nt "$init" ] \
    && [ -z "$(find "$rootfs" -newer "$out/guest.qcow2" | head -n 1)" ]; then
    exit 0
fi

for tool in apt-get dpkg mkfs.fat syslinux mcopy qemu-img; do
    command -v "$tool" >/dev/null 2>&1 || { echo "build.sh: $tool is missing" >&2; exit 1; }
done

cache="${FERRO_GUEST_CACHE:-${HOME:-/tmp}/.cache/ferrostack-guest}"
mkdir -p "$cache/debs" "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/ferro-guest.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Modules the guest loads (their dependencies are added, in order).
# virtio: disks and NICs; ata_piix + sr_mod: a config drive as IDE CD-ROM;
# isofs/vfat: config drive file systems; evdev + button: ACPI power button
# for acpid; qemu_fw_cfg: QEMU's fw_cfg in sysfs.
want_modules="virtio_pci virtio_blk virtio_net ata_piix sr_mod sd_mod isofs vfat
nls_cp437 nls_ascii nls_utf8 evdev button qemu_fw_cfg"

# --- 1. the .debs (cached) -------------------------------------------------
# `apt-get download` as the invoking user; when running as root, tell apt not
# to drop privileges to _apt (which cannot write to the cache directory).
apt_opts=()
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)

latest_deb() { # newest cached .deb of package $1
    ls -t "$cache/debs/$1"_*.deb 2>/dev/null | head -n 1 || true
}

kernel_pkg_file="$cache/kernel-package"
kernel_deb=""
if [ -f "$kernel_pkg_file" ]; then
    kernel_deb="$(latest_deb "$(cat "$kernel_pkg_file")")"
fi
busybox_deb="$(latest_deb busybox-static)"
# The SSH server (dropbear, dynamically linked: its libraries and glibc come
# along) and netcat-traditional (nc -u/-l/-e, for tempest's checks).
user_pkgs="dropbear-bin libtomcrypt1 libtommath1 libgmp10 zlib1g libcrypt1 libc6 netcat-traditional"
missing_user=""
for p in $user_pkgs; do
    [ -n "$(latest_deb "$p")" ] || missing_user="$missing_user $p"
done
if [ -n "$missing_user" ]; then
    (cd "$cache/debs" && apt-get "${apt_opts[@]}" download -q $missing_user >&2)
fi
if [ -z "$kernel_deb" ] || [ -z "$busybox_deb" ]; then
    # linux-image-cloud-amd64 is a metapackage: its dependency names the real
    # kernel package (linux-image-X.Y.Z-N-cloud-amd64).
    kernel_pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n 1)"
    [ -n "$kernel_pkg" ] || {
        echo "build.sh: cannot resolve linux-image-cloud-amd64 (run apt-get update?)" >&2
        exit 1
    }
    (cd "$cache/debs" && apt-get "${apt_opts[@]}" download -q "$kernel_pkg" busybox-static >&2)
    echo "$kernel_pkg" >"$kernel_pkg_file"
    kernel_deb="$(latest_deb "$kernel_pkg")"
    busybox_deb="$(latest_deb busybox-static)"
fi

# --- 2. kernel and modules (extracted once per kernel and module list) -----
# Module file by module name ("-" and "_" are the same in module names).
module_file() {
    find "$kdir/kernel" -name "$(echo "$1" | tr '_-' '??').ko" | head -n 1
}
# A module's dependencies, from its .modinfo section ("depends=a,b").
module_depends() {
    tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' '
}
seen=" "
add_module() { # copies $1 and its dependencies to $parts/modules, in load order
    local name="$1" file dep
    case "$seen" in *" $name "*) return 0 ;; esac
    seen="$seen$name "
    file="$(module_file "$name")"
    if [ -z "$file" ]; then
        # Built into the kernel: nothing to load.
        grep -Eq "/${name//[_-]/[_-]}\.ko\$" "$kdir/modules.builtin" 2>/dev/null \
            || echo "build.sh: warning: module $name not found" >&2
        return 0
    fi
    for dep in $(module_depends "$file"); do
        add_module "$dep"
    done
    cp "$file" "$parts.tmp/modules/"
    basename "$file" >>"$parts.tmp/modules.order"
}
key="$(basename "$kernel_deb" .deb)-$(echo $want_modules | cksum | cut -d' ' -f1)"
parts="$cache/parts/$key"
if [ ! -f "$parts/vmlinuz" ]; then
    rm -rf "$parts.tmp"
    mkdir -p "$parts.tmp/modules"
    dpkg-deb --fsys-tarfile "$kernel_deb" | tar -x -C "$work" --wildcards \
        './boot/vmlinuz-*' './lib/modules/*/kernel/*' './lib/modules/*/modules.builtin'
    kdir="$(ls -d "$work"/lib/modules/*)"
    : >"$parts.tmp/modules.order"
    for m in $want_modules; do
        add_module "$m"
    done
    cp "$work"/boot/vmlinuz-* "$parts.tmp/vmlinuz"
    rm -rf "$parts" "$work/lib" "$work/boot"
    mv "$parts.tmp" "$parts"
fi
cp "$parts/vmlinuz" "$out/vmlinuz"

# --- 2b. userland beyond busybox (extracted once per set of .debs) ---------
# /bin: dropbear dropbearkey nc.traditional; /lib/x86_64-linux-gnu: their
# libraries; /lib64: the dynamic loader (the binaries' PT_INTERP).
user_debs=""
for p in $user_pkgs; do
    user_debs="$user_debs $(latest_deb "$p")"
done
ukey="userland-$(for d in $user_debs; do basename "$d"; done | cksum | cut -d' ' -f1)"
uparts="$cache/parts/$ukey"
if [ ! -x "$uparts/bin/dropbear" ]; then
    rm -rf "$uparts.tmp"
    mkdir -p "$uparts.tmp/bin" "$uparts.tmp/lib/x86_64-linux-gnu" "$uparts.tmp/lib64" "$work/u"
    for d in $user_debs; do
        dpkg -x "$d" "$work/u"
    done
    cp "$work/u/usr/sbin/dropbear" "$work/u/usr/bin/dropbearkey" "$work/u/bin/nc.traditional" \
        "$uparts.tmp/bin/"
    for lib in libc.so.6 libcrypt.so.1 libz.so.1 libtomcrypt.so.1 libtommath.so.1 libgmp.so.10; do
        f="$(find "$work/u" -name "$lib" | head -n 1)"
        [ -n "$f" ] || { echo "build.sh: $lib not found in$user_debs" >&2; exit 1; }
        cp -L "$f" "$uparts.tmp/lib/x86_64-linux-gnu/$lib"
    done
    cp -L "$work/u/lib64/ld-linux-x86-64.so.2" "$uparts.tmp/lib64/"
    rm -rf "$uparts" "$work/u"
    mv "$uparts.tmp" "$uparts"
fi

dpkg -x "$busybox_deb" "$work/bb"
busybox="$work/bb/bin/busybox"
root="$work/root"
mkdir -p "$root/bin" "$root/etc" "$root/lib/modules" "$root/proc" "$root/sys" \
    "$root/dev" "$root/tmp" "$root/run" "$root/mnt" "$root/root"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$init" "$root/init"
chmod 755 "$root/init" "$root/bin/busybox"
cp "$parts"/modules/*.ko "$root/lib/modules/"
cp "$parts/modules.order" "$root/etc/modules"
cp -a "$uparts/." "$root/"
# Our own files: udhcpc script, users, shims (sudo, curl, lsblk, blkid,
# mkfs, nc), jsonflat. See README.md.
cp -a "$rootfs/." "$root/"
ln -s bin "$root/sbin"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"
mkdir -p "$root/var/log" "$root/home/cirros" "$root/etc/dropbear" "$root/etc/udhcpc"
ln -s ../run "$root/var/run"
ln -s /usr/share/udhcpc/default.script "$root/etc/udhcpc/default.script"
# Password "password" for root and cirros (tempest's image_ssh_password);
# a fixed salt keeps the initramfs reproducible.
hash="$("$busybox" mkpasswd -m sha512 password ferroguestsalt)"
printf 'root:%s:19000:0:99999:7:::\ncirros:%s:19000:0:99999:7:::\n' "$hash" "$hash" \
    >"$root/etc/shadow"
chmod 600 "$root/etc/shadow"

# --- 3. initramfs (busybox's cpio: newc, owned by root) ---------------------
(cd "$root" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 --ignore-devno --renumber-inodes 2>/dev/null) \
    | gzip -n >"$out/initrd.gz"

# --- 4. self-booting disk: FAT "superfloppy" + syslinux ---------------------
# The whole disk is one FAT file system (no partition table), so growing the
# qcow2 (qemu-img resize) leaves it untouched.
cmdline="console=ttyS0 no_timer_check quiet"
cat >"$work/syslinux.cfg" <<CFG
DEFAULT ferro
PROMPT 0
TIMEOUT 0
LABEL ferro
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND $cmdline
CFG
raw="$work/disk.raw"
rm -f "$raw"
mkfs.fat -C -n FERROGUEST "$raw" 32768 >/dev/null   # 32 MiB (1 KiB blocks)
syslinux --install "$raw"
mcopy -i "$raw" "$out/vmlinuz" "$out/initrd.gz" "$work/syslinux.cfg" ::/
echo "$cmdline" >"$out/cmdline"
qemu-img convert -f raw -O qcow2 "$raw" "$out/guest.qcow2.tmp"
mv "$out/guest.qcow2.tmp" "$out/guest.qcow2"
echo "build.sh: $out/guest.qcow2 ($(basename "$kernel_deb" .deb))" >&2
