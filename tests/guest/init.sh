#!/bin/sh
# /init of Ferrostack's tiny test guest (busybox sh, PID 1).
#
# Prints one-line markers on the serial console (see README.md) so tests can
# follow a guest: boot, SMBIOS UUID, config drive metadata and user data,
# disks and NICs (again whenever they change: volume hot-plug), power-off.
# Each step is a function so later steps (DHCP, SSH, metadata keys) slot in.

export PATH=/bin:/sbin
CONFIG_MNT=/mnt/config

say() {
    # One marker, one line. Kept as a single write so lines do not interleave.
    printf '%s\n' "$*"
}

setup_base() {
    /bin/busybox --install -s /bin
    mkdir -p /proc /sys /dev /tmp /run /mnt /etc /root
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    mount -t devtmpfs devtmpfs /dev 2>/dev/null
    mount -t tmpfs -o mode=1777 tmpfs /tmp
    mount -t tmpfs -o mode=0755 tmpfs /run
    exec </dev/console >/dev/console 2>&1
    # Keep kernel chatter (hot-plug messages...) off the console: markers
    # must stay whole lines.
    echo 1 >/proc/sys/kernel/printk
    hostname ferro-guest
}

report_identity() {
    say "FERRO-BOOT $(cat /proc/sys/kernel/random/uuid)"
    say "FERRO-UUID $(cat /sys/class/dmi/id/product_uuid 2>/dev/null || echo unknown)"
}

load_modules() {
    # /etc/modules: module files in dependency order (written by build.sh).
    while read -r mod; do
        [ -n "$mod" ] || continue
        insmod "/lib/modules/$mod" 2>/dev/null || say "FERRO-WARN insmod $mod failed"
    done </etc/modules
}

setup_lo() {
    ip link set lo up
    ip addr add 127.0.0.1/8 dev lo 2>/dev/null
}

# "vda:65536 vdb:2097152" (512-byte sectors), sorted; "none" when no disk.
disk_list() {
    out=""
    for d in $(ls /sys/block | sort); do
        case "$d" in loop* | ram* | zram*) continue ;; esac
        out="$out $d:$(cat "/sys/block/$d/size" 2>/dev/null || echo 0)"
    done
    echo "${out# }" | grep . || echo none
}

# "eth0=fa:16:3e:00:00:01 ..." sorted; "none" when no NIC but lo.
nic_list() {
    out=""
    for n in $(ls /sys/class/net | sort); do
        [ "$n" = lo ] && continue
        out="$out $n=$(cat "/sys/class/net/$n/address" 2>/dev/null)"
    done
    echo "${out# }" | grep . || echo none
}

find_config_drive() {
    # A virtio disk or an IDE CD-ROM (sr0); both exist once their modules
    # are loaded. A CD-ROM's medium may take a moment to read: retry briefly
    # only while some CD-ROM drive exists.
    i=0
    while :; do
        findfs LABEL=config-2 2>/dev/null && return 0
        ls /dev/sr* >/dev/null 2>&1 || return 1
        [ $i -lt 5 ] || return 1
        i=$((i + 1))
        sleep 0.1
    done
}

read_config_drive() {
    dev="$(find_config_drive)" || { say "FERRO-CONFIGDRIVE none"; return 0; }
    mkdir -p "$CONFIG_MNT"
    mount -t iso9660 -o ro "$dev" "$CONFIG_MNT" 2>/dev/null \
        || mount -t vfat -o ro "$dev" "$CONFIG_MNT" 2>/dev/null \
        || { say "FERRO-CONFIGDRIVE unreadable $dev"; return 0; }
    say "FERRO-CONFIGDRIVE $dev"
    meta="$CONFIG_MNT/openstack/latest/meta_data.json"
    if [ -f "$meta" ]; then
        say "FERRO-META $(tr -d '\r\n' <"$meta")"
    else
        say "FERRO-META {}"
    fi
}

run_user_data() {
    ud="$CONFIG_MNT/openstack/latest/user_data"
    [ -f "$ud" ] || return 0
    [ "$(head -c 2 "$ud")" = "#!" ] || return 0
    cp "$ud" /tmp/user_data
    chmod +x /tmp/user_data
    /tmp/user_data </dev/null
    say "FERRO-USERDATA-EXIT $?"
}

start_acpid() {
    # ACPI power button (QMP system_powerdown) -> clean power-off.
    mkdir -p /etc/acpi/PWRF
    cat >/etc/acpi/PWRF/00000080 <<'EOF'
#!/bin/sh
echo FERRO-POWEROFF >/dev/console
sync
umount -a -r 2>/dev/null
poweroff -f
EOF
    chmod +x /etc/acpi/PWRF/00000080
    acpid -c /etc/acpi -l /tmp/acpid.log -p /run/acpid.pid
}

# Ticks each second; prints FERRO-DISKS / FERRO-NICS again when they change.
watch_loop() {
    n=0
    disks="$1"
    nics="$2"
    while :; do
        sleep 1
        n=$((n + 1))
        say "FERRO-TICK $n"
        now="$(disk_list)"
        if [ "$now" != "$disks" ]; then
            disks="$now"
            say "FERRO-DISKS $disks"
        fi
        now="$(nic_list)"
        if [ "$now" != "$nics" ]; then
            nics="$now"
            say "FERRO-NICS $nics"
        fi
    done
}

main() {
    setup_base
    report_identity
    load_modules
    setup_lo
    start_acpid
    read_config_drive
    run_user_data
    disks="$(disk_list)"
    nics="$(nic_list)"
    say "FERRO-DISKS $disks"
    say "FERRO-NICS $nics"
    say "FERRO-READY"
    watch_loop "$disks" "$nics"
}

main
# PID 1 must never exit (that panics the kernel).
while :; do sleep 3600; done
