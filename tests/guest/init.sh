#!/bin/sh
# /init of Ferrostack's tiny test guest (busybox sh, PID 1).
#
# Prints one-line markers on the serial console (see README.md) so tests can
# follow a guest: boot, SMBIOS UUID, config drive metadata and user data,
# disks and NICs (again whenever they change: volume hot-plug), power-off.
# After FERRO-READY, in the background: networking (DHCP or static from the
# config drive's network_data.json), SSH (dropbear) with the metadata's keys,
# the metadata service; FERRO-NET-READY when done.

export PATH=/bin:/sbin
CONFIG_MNT=/mnt/config
NET=/run/net
DHCP_SCRIPT=/usr/share/udhcpc/default.script
METADATA_URL=http://169.254.169.254/openstack/latest/meta_data.json

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
    mkdir -p /dev/pts "$NET"
    mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts 2>/dev/null
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

# --- networking, SSH, metadata (after FERRO-READY) --------------------------

# The values of meta_data.json's public_keys (one key a line).
keys_of() {
    jsonflat "$1" 2>/dev/null | awk -F '\t' 'index($1, "public_keys/") == 1 && $2 != "" { print $2 }'
}

# Installs the keys of meta_data.json $1 for root and cirros; 1 when none.
install_keys() {
    keys="$(keys_of "$1")"
    [ -n "$keys" ] || return 1
    for home in /root /home/cirros; do
        mkdir -p "$home/.ssh"
        printf '%s\n' "$keys" >"$home/.ssh/authorized_keys"
        chmod 700 "$home/.ssh"
        chmod 600 "$home/.ssh/authorized_keys"
    done
    touch "$NET/have-keys"
}

# Host name from meta_data.json $1 ("hostname"), over DHCP's: its first
# label, as cloud-init sets it (Nova appends its dhcp_domain, novalocal).
set_hostname_from() {
    h="$(jsonflat "$1" 2>/dev/null | awk -F '\t' '$1 == "hostname" { print $2; exit }')"
    h="${h%%.*}"
    [ -n "$h" ] || return 0
    hostname "$h" && touch "$NET/hostname-from-metadata"
}

# The static IPv4 setup of NIC $1 in network_data.json (a network of type
# "ipv4" on the link with the NIC's MAC), as lines: "addr IP NETMASK",
# "route NET NETMASK GW", "mtu N", "dns IP". Nothing when DHCP applies.
static_plan() {
    nd="$CONFIG_MNT/openstack/latest/network_data.json"
    [ -f "$nd" ] || return 0
    mac="$(cat "/sys/class/net/$1/address")"
    jsonflat "$nd" | awk -F '\t' -v mac="$mac" '
        { v[$1] = $2 }
        END {
            for (i = 0; ("links/" i "/id") in v; i++)
                if (tolower(v["links/" i "/ethernet_mac_address"]) == tolower(mac)) {
                    ids[v["links/" i "/id"]] = 1
                    mtu = v["links/" i "/mtu"]
                }
            for (i = 0; ("networks/" i "/type") in v; i++) {
                p = "networks/" i "/"
                if (v[p "type"] != "ipv4" || !(v[p "link"] in ids)) continue
                print "addr", v[p "ip_address"], v[p "netmask"]
                for (j = 0; (p "routes/" j "/network") in v; j++)
                    print "route", v[p "routes/" j "/network"], v[p "routes/" j "/netmask"], v[p "routes/" j "/gateway"]
                for (j = 0; (p "dns_nameservers/" j) in v; j++)
                    print "dns", v[p "dns_nameservers/" j]
                found = 1
                break
            }
            if (!found) exit
            if (mtu ~ /^[0-9]+$/) print "mtu", mtu
            for (i = 0; ("services/" i "/type") in v; i++)
                if (v["services/" i "/type"] == "dns" && v["services/" i "/address"] ~ /^[0-9.]+$/)
                    print "dns", v["services/" i "/address"]
        }'
}

# Applies static_plan's lines (stdin) to NIC $1; prints FERRO-IP.
apply_static() {
    nic="$1" addr="" gw="" metric="${1#eth}"
    case "$metric" in '' | *[!0-9]*) metric=0 ;; esac
    : >"$NET/$nic.dns"
    while read -r what a b c; do
        case "$what" in
        addr)
            pfx="$(ipcalc -p "$a" "$b" | sed 's/^PREFIX=//')"
            addr="$a/$pfx"
            ip addr add "$addr" broadcast + dev "$nic"
            ;;
        mtu) ip link set dev "$nic" mtu "$a" ;;
        route)
            if [ "$b" = 0.0.0.0 ]; then
                dest=default
                gw="$c"
            else
                dest="$a/$(ipcalc -p "$a" "$b" | sed 's/^PREFIX=//')"
            fi
            if [ -z "$c" ] || [ "$c" = 0.0.0.0 ]; then
                ip route replace "$dest" dev "$nic" metric "$metric"
            else
                ip route replace "$dest" via "$c" dev "$nic" metric "$metric"
            fi
            ;;
        dns) echo "nameserver $a" >>"$NET/$nic.dns" ;;
        esac
    done
    cat "$NET"/*.dns >/etc/resolv.conf 2>/dev/null
    echo "$addr ${gw:-none}" >"$NET/$nic.ip"
    say "FERRO-IP $nic=$addr gw=${gw:-none}"
}

# Prints FERRO-IP6 when NIC $1 gets a global IPv6 address (SLAAC) within 5 s.
watch_slaac() {
    i=0
    while [ $i -lt 25 ]; do
        a="$(ip -6 -o addr show dev "$1" scope global 2>/dev/null | awk '{ print $4; exit }')"
        [ -n "$a" ] && { say "FERRO-IP6 $1=$a"; return 0; }
        sleep 0.2
        i=$((i + 1))
    done
}

# Brings NIC $1 up: static from network_data.json, else DHCP (udhcpc keeps
# running: renewals, USR1 to renew now). Waits up to 10 s for a lease
# (FERRO-IP NIC=none then; udhcpc keeps trying).
net_nic() {
    nic="$1"
    mkdir "$NET/$nic.claim" 2>/dev/null || return 0
    echo 1 >"/proc/sys/net/ipv6/conf/$nic/accept_ra" 2>/dev/null
    ip link set "$nic" up
    watch_slaac "$nic" &
    plan="$(static_plan "$nic")"
    if [ -n "$plan" ]; then
        echo "$plan" | apply_static "$nic"
        return 0
    fi
    udhcpc -f -i "$nic" -s "$DHCP_SCRIPT" -p "/run/udhcpc.$nic.pid" -t 4 -T 2 -A 3 \
        -O mtu -O staticroutes >"/tmp/udhcpc.$nic.log" 2>&1 </dev/null &
    i=0
    while [ $i -lt 100 ] && [ ! -f "$NET/$nic.ip" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -f "$NET/$nic.ip" ] || say "FERRO-IP $nic=none"
}

# Forgets NICs that are gone (hot-unplug): their udhcpc stops.
forget_gone_nics() {
    for c in "$NET"/*.claim; do
        [ -d "$c" ] || continue
        nic="$(basename "$c" .claim)"
        [ -e "/sys/class/net/$nic" ] && continue
        kill "$(cat "/run/udhcpc.$nic.pid" 2>/dev/null)" 2>/dev/null
        rm -rf "$c" "$NET/$nic.ip" "$NET/$nic.dns" "/run/udhcpc.$nic.pid"
        cat "$NET"/*.dns >/etc/resolv.conf 2>/dev/null || : >/etc/resolv.conf
    done
}

start_ssh() {
    command -v dropbear >/dev/null || { say "FERRO-WARN no dropbear"; return 0; }
    for t in ed25519 ecdsa; do
        f="/etc/dropbear/dropbear_${t}_host_key"
        [ -f "$f" ] || dropbearkey -t "$t" -f "$f" >/dev/null 2>&1
    done
    # -R: an RSA host key is made on the first connection that wants one.
    dropbear -F -E -R -p 22 -P /run/dropbear.pid >>/tmp/dropbear.log 2>&1 </dev/null &
    i=0
    while [ $i -lt 100 ]; do
        if netstat -ltn 2>/dev/null | grep -q ':22 '; then
            say "FERRO-SSH-READY"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    say "FERRO-WARN dropbear is not listening"
}

# One try at the metadata service (into $NET/meta_data.json).
fetch_metadata() {
    # (busybox 1.35's wget -T crashes: timeout(1) instead.)
    timeout "$1" wget -q -O "$NET/meta_data.tmp" "$METADATA_URL" 2>/dev/null \
        && [ -s "$NET/meta_data.tmp" ] && mv "$NET/meta_data.tmp" "$NET/meta_data.json"
}

use_metadata() {
    say "FERRO-METADATA $(tr -d '\r\n' <"$NET/meta_data.json")"
    [ -f "$NET/have-keys" ] || install_keys "$NET/meta_data.json"
    [ -f "$NET/hostname-from-metadata" ] || set_hostname_from "$NET/meta_data.json"
}

# Keeps asking the metadata service (every 5 s, ~5 min) while no keys came.
retry_metadata() {
    n=0
    while [ $n -lt 60 ] && [ ! -f "$NET/have-keys" ]; do
        sleep 5
        n=$((n + 1))
        if fetch_metadata 3; then
            use_metadata
            return 0
        fi
    done
}

start_network() {
    meta="$CONFIG_MNT/openstack/latest/meta_data.json"
    if [ -f "$meta" ]; then
        install_keys "$meta"
        set_hostname_from "$meta"
    fi
    start_ssh &
    ssh_job=$!
    jobs=""
    for nic in $(ls /sys/class/net | sort); do
        case "$nic" in eth*) ;; *) continue ;; esac
        net_nic "$nic" &
        jobs="$jobs $!"
    done
    for j in $jobs; do
        wait "$j"
    done
    got=""
    if ls "$NET"/*.ip >/dev/null 2>&1; then
        for t in 2 3 3; do
            fetch_metadata "$t" && { got=1; break; }
            sleep 0.5
        done
    fi
    if [ -n "$got" ]; then
        use_metadata
    else
        say "FERRO-METADATA none"
        [ -f "$NET/have-keys" ] || retry_metadata &
    fi
    wait "$ssh_job"
    say "FERRO-NET-READY"
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
            # Hot-plugged NICs get networking too; unplugged ones are forgotten.
            forget_gone_nics
            for nic in $(ls /sys/class/net); do
                case "$nic" in eth*) [ -d "$NET/$nic.claim" ] || net_nic "$nic" & ;; esac
            done
        fi
    done
}

# The boot disk's own file system (FAT, label FERROGUEST), read-write at
# /disk: what is written there survives reboots and goes with snapshots of
# the disk (tempest's [scenario] target_dir). The root file system is the
# initramfs, which keeps nothing.
mount_boot_disk() {
    mkdir -p /disk
    dev="$(findfs LABEL=FERROGUEST 2>/dev/null)" || { say "FERRO-PERSIST none"; return 0; }
    if mount -t vfat -o rw "$dev" /disk 2>/dev/null; then
        say "FERRO-PERSIST $dev"
    else
        say "FERRO-PERSIST unmountable $dev"
    fi
}

main() {
    setup_base
    report_identity
    load_modules
    setup_lo
    start_acpid
    read_config_drive
    mount_boot_disk
    run_user_data
    disks="$(disk_list)"
    nics="$(nic_list)"
    say "FERRO-DISKS $disks"
    say "FERRO-NICS $nics"
    say "FERRO-READY"
    start_network &
    watch_loop "$disks" "$nics"
}

main
# PID 1 must never exit (that panics the kernel).
while :; do sleep 3600; done
