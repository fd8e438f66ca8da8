#!/usr/bin/env python3
"""The test guest on a real L2 network: DHCP, metadata service, SSH.

Usage (as root): python3 tests/guest/smoke_net.py OUTDIR   (OUTDIR from build.sh)

Creates its own network namespace (never touches the host's), with a Linux
bridge 10.77.0.1/24, one tap per guest, dnsmasq as the DHCP server (router,
DNS, MTU 1400, classless static routes; router advertisements for
fd77::/64) and a metadata server on
169.254.169.254:80, then boots two guests with plain QEMU (TCG) inside it:

  vm1  DHCP (a fixed lease for its MAC), no config drive: keys and host
       name come from the metadata service.
  vm2  static IPv4 from the config drive's network_data.json (type "ipv4"),
       keys from the config drive.

Checks the console markers (FERRO-IP, FERRO-METADATA, FERRO-SSH-READY,
FERRO-NET-READY), ping from the namespace, `ssh cirros@IP hostname` and
root@IP, what tempest's scenario tests run over SSH (ip, resolv.conf, MTU,
routes, curl to the metadata service, lsblk, blkid, sudo, udhcpc renew,
nc listen/connect in TCP and UDP between the guests), then removes the
namespace. Needs: ip (iproute2), dnsmasq, ping, ssh and ssh-keygen (OpenSSH
client), qemu-system-x86_64, qemu-img, genisoimage. Stdlib only.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoke import Guest, check, overlay  # noqa: E402

NS = f"ferro-guestnet-{os.getpid()}"
BRIDGE_IP = "10.77.0.1"
VM1 = ("vm1", "fa:16:3e:77:00:05", "10.77.0.5")
VM2 = ("vm2", "fa:16:3e:77:00:06", "10.77.0.6")
MTU = 1400


def ns(*cmd, check_rc=True, timeout=60, **kw):
    return subprocess.run(["ip", "netns", "exec", NS, *cmd], check=check_rc,
                          timeout=timeout, capture_output=True, text=True, **kw)


def setup_namespace():
    subprocess.run(["ip", "netns", "add", NS], check=True)
    for cmd in (["ip", "link", "set", "lo", "up"],
                ["ip", "addr", "add", "169.254.169.254/32", "dev", "lo"],
                ["ip", "link", "add", "br0", "type", "bridge"],
                ["ip", "addr", "add", f"{BRIDGE_IP}/24", "dev", "br0"],
                ["ip", "-6", "addr", "add", "fd77::1/64", "dev", "br0", "nodad"],
                ["ip", "link", "set", "br0", "up"]):
        ns(*cmd)
    for i in (1, 2):
        ns("ip", "tuntap", "add", "dev", f"tapg{i}", "mode", "tap")
        ns("ip", "link", "set", f"tapg{i}", "master", "br0", "up")


def teardown_namespace():
    subprocess.run(["ip", "netns", "delete", NS], check=False)


def start_dnsmasq(tmp):
    name, mac, ip = VM1
    return subprocess.Popen(
        ["ip", "netns", "exec", NS, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
         "--port=0", "--interface=br0", "--bind-interfaces", "--except-interface=lo",
         # Only vm1's MAC gets a lease (vm2 is static).
         "--dhcp-range=10.77.0.0,static,255.255.255.0,2m",
         f"--dhcp-host={mac},{ip},{name}",
         f"--dhcp-option=option:router,{BRIDGE_IP}",
         f"--dhcp-option=option:dns-server,{BRIDGE_IP}",
         "--dhcp-option=option:domain-name,guestnet.test",
         f"--dhcp-option-force=option:mtu,{MTU}",
         "--dhcp-option=option:classless-static-route,"
         f"169.254.169.254/32,{BRIDGE_IP},0.0.0.0/0,{BRIDGE_IP}",
         # IPv6: router advertisements only (SLAAC), for fd77::/64.
         "--enable-ra", "--dhcp-range=::,constructor:br0,ra-only",
         f"--dhcp-leasefile={tmp}/leases", "--log-dhcp",
         f"--log-facility={tmp}/dnsmasq.log"])


METADATA_SERVER = r"""
import http.server, sys
root = sys.argv[1]
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        with open(root + "/posted", "wb") as f:
            f.write(self.rfile.read(n))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("169.254.169.254", 80), H).serve_forever()
"""


def start_metadata(tmp, pubkey):
    root = os.path.join(tmp, "md")
    os.makedirs(os.path.join(root, "openstack", "latest"))
    meta = {"uuid": "11111111-2222-3333-4444-555555555555", "name": "vm1",
            "hostname": "vm1-from-metadata", "public_keys": {"smoke": pubkey}}
    with open(os.path.join(root, "openstack", "latest", "meta_data.json"), "w") as f:
        json.dump(meta, f)
    os.makedirs(os.path.join(root, "latest", "meta-data"))
    with open(os.path.join(root, "latest", "meta-data", "local-ipv4"), "w") as f:
        f.write(VM1[2])
    return subprocess.Popen(["ip", "netns", "exec", NS, sys.executable, "-c",
                             METADATA_SERVER, root])


def config_drive_static(tmp, pubkey):
    """vm2's config drive: keys + a static ipv4 network in network_data.json."""
    name, mac, ip = VM2
    src = os.path.join(tmp, "cd2")
    os.makedirs(os.path.join(src, "openstack", "latest"))
    meta = {"uuid": "66666666-7777-8888-9999-000000000000", "name": name,
            "hostname": name, "public_keys": {"smoke": pubkey}}
    net = {"links": [{"id": "tap-vm2", "type": "phy", "ethernet_mac_address": mac,
                      "mtu": MTU}],
           "networks": [{"id": "network0", "type": "ipv4", "link": "tap-vm2",
                         "ip_address": ip, "netmask": "255.255.255.0",
                         "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0",
                                     "gateway": BRIDGE_IP},
                                    {"network": "169.254.169.254",
                                     "netmask": "255.255.255.255", "gateway": BRIDGE_IP}],
                         "network_id": "n1"}],
           "services": [{"type": "dns", "address": BRIDGE_IP}]}
    d = os.path.join(src, "openstack", "latest")
    with open(os.path.join(d, "meta_data.json"), "w") as f:
        json.dump(meta, f)
    with open(os.path.join(d, "network_data.json"), "w") as f:
        json.dump(net, f)
    iso = os.path.join(tmp, "config2.iso")
    subprocess.run(["genisoimage", "-quiet", "-R", "-J", "-V", "config-2", "-o", iso, src],
                   check=True)
    return iso


class Ssh:
    def __init__(self, key, user, ip):
        self.base = ["ip", "netns", "exec", NS, "ssh", "-i", key, "-o", "BatchMode=yes",
                     "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                     "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", f"{user}@{ip}"]

    def run(self, cmd, timeout=60):
        # tempest's RemoteClient prologue.
        r = subprocess.run(self.base + ["set -eu -o pipefail; PATH=$PATH:/sbin; " + cmd],
                           capture_output=True, text=True, timeout=timeout, check=False)
        if r.returncode != 0:
            raise AssertionError(f"ssh {cmd!r}: rc {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r.stdout


def wait_ssh(ssh, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return ssh.run("hostname", timeout=20).strip()
        except (AssertionError, subprocess.TimeoutExpired):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def boot(tmp, out, vm, tap, extra=()):
    name, mac, _ip = vm
    root = overlay(tmp, os.path.join(out, "guest.qcow2"), f"{name}.qcow2")
    return Guest(tmp, name, ["-drive", f"file={root},if=virtio,format=qcow2",
                             "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
                             "-device", f"virtio-net-pci,netdev=n0,mac={mac}", *extra],
                 wrap=["ip", "netns", "exec", NS])


def markers(g, name, timeout=240):
    """Waits for FERRO-NET-READY; the console (without ticks) and the last
    FERRO-IP line (waiting for an address if the guest said none: a loaded
    machine can make the first DHCP exchange slower than the guest's 10 s)."""
    t0 = g.started
    g.wait("FERRO-READY", timeout=timeout)
    t_ready = time.monotonic() - t0
    g.wait("FERRO-NET-READY", timeout=timeout)
    t_net = time.monotonic() - t0
    print(f"  {name}: FERRO-READY after {t_ready:.1f} s, FERRO-NET-READY after {t_net:.1f} s")
    ips = [l for l in g.lines() if l.startswith("FERRO-IP eth0=")]
    if not ips or ips[-1] == "FERRO-IP eth0=none":
        g.pos = len(g.lines())
        ips.append(g.wait("FERRO-IP eth0=", timeout=60))
    return ips[-1], [l for l in g.lines() if not l.startswith("FERRO-TICK")]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if os.geteuid() != 0:
        sys.exit("smoke_net.py: needs root (network namespace, taps)")
    for tool in ("ip", "dnsmasq", "ping", "ssh", "ssh-keygen", "genisoimage", "qemu-img"):
        if shutil.which(tool) is None:
            sys.exit(f"smoke_net.py: {tool} is missing")
    out = os.path.abspath(sys.argv[1])
    procs, guests = [], []
    with tempfile.TemporaryDirectory(prefix="ferro-guestnet.") as tmp:
        try:
            key = os.path.join(tmp, "key")
            subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", key], check=True)
            with open(key + ".pub") as f:
                pubkey = f.read()
            setup_namespace()
            procs.append(start_dnsmasq(tmp))
            procs.append(start_metadata(tmp, pubkey))
            iso2 = config_drive_static(tmp, pubkey)

            print("vm1: DHCP + metadata service; vm2: static from network_data.json")
            g1 = boot(tmp, out, VM1, "tapg1")
            guests.append(g1)
            g2 = boot(tmp, out, VM2, "tapg2", ["-cdrom", iso2])
            guests.append(g2)

            ip1, con1 = markers(g1, "vm1")
            check(ip1 == f"FERRO-IP eth0={VM1[2]}/24 gw={BRIDGE_IP}", f"vm1 DHCP: {ip1}")
            md = [l for l in con1 if l.startswith("FERRO-METADATA ")]
            check(md and json.loads(md[0][len("FERRO-METADATA "):])["name"] == "vm1",
                  "vm1 FERRO-METADATA is the metadata service's JSON")
            check("FERRO-SSH-READY" in con1, "vm1 FERRO-SSH-READY")
            g1.pos = 0
            ip6 = [g1.wait("FERRO-IP6 eth0=", timeout=30)]
            check(ip6[0].startswith("FERRO-IP6 eth0=fd77::"), f"vm1 SLAAC address: {ip6[0]}")
            ip2, con2 = markers(g2, "vm2")
            check(ip2 == f"FERRO-IP eth0={VM2[2]}/24 gw={BRIDGE_IP}", f"vm2 static: {ip2}")
            check("FERRO-SSH-READY" in con2, "vm2 FERRO-SSH-READY")

            for _name, _mac, ip in (VM1, VM2):
                r = ns("ping", "-c", "3", "-W", "5", ip, check_rc=False)
                if r.returncode != 0:
                    print(r.stdout, r.stderr)
                check(r.returncode == 0, f"{ip} answers ping from the namespace")

            addr6 = ip6[0].split("=", 1)[1].split("/")[0]
            r = ns("ping", "-6", "-c", "3", "-W", "5", addr6, check_rc=False)
            check(r.returncode == 0, f"{addr6} (SLAAC) answers ping from the namespace")

            s1 = Ssh(key, "cirros", VM1[2])
            t = time.monotonic()
            check(wait_ssh(s1) == "vm1-from-metadata",
                  "ssh cirros@vm1 hostname (key and host name from the metadata service)")
            print(f"  first ssh took {time.monotonic() - t:.1f} s")
            check(Ssh(key, "root", VM1[2]).run("id -u").strip() == "0", "ssh root@vm1")
            s2 = Ssh(key, "cirros", VM2[2])
            check(wait_ssh(s2) == "vm2", "ssh cirros@vm2 hostname (config drive keys)")

            check(f"mtu {MTU}" in s1.run("ip link show eth0"), f"vm1 MTU {MTU} (DHCP option 26)")
            check(f"mtu {MTU}" in s2.run("ip link show eth0"), f"vm2 MTU {MTU} (network_data)")
            routes = s1.run("ip route")
            check(f"169.254.169.254 via {BRIDGE_IP}" in routes,
                  "vm1 classless static route (option 121)")
            check(f"default via {BRIDGE_IP}" in routes, "vm1 default route")
            routes2 = s2.run("ip route")
            check(f"default via {BRIDGE_IP}" in routes2
                  and f"169.254.169.254 via {BRIDGE_IP}" in routes2, "vm2 routes (network_data)")
            check(f"nameserver {BRIDGE_IP}" in s1.run("cat /etc/resolv.conf"), "vm1 resolv.conf")
            check(f"nameserver {BRIDGE_IP}" in s2.run("cat /etc/resolv.conf"), "vm2 resolv.conf")
            check(s1.run("curl http://169.254.169.254/latest/meta-data/local-ipv4") == VM1[2],
                  "curl to the metadata service (tempest's verify_metadata)")
            s1.run("curl -X POST -d abc http://169.254.169.254/openstack/2013-10-17/password")
            with open(os.path.join(tmp, "md", "posted")) as f:
                check(f.read() == "abc", "curl -X POST -d")
            check(s1.run("ip -o addr | awk '/%s/ {print $2}'" % VM1[2]).strip() == "eth0",
                  "get_nic_name_by_ip")
            check(s1.run("ip addr | awk '/ether/ {print $2}'").strip() == VM1[1],
                  "get_mac_address")
            disks = s1.run("lsblk -lb --nodeps")
            check("TYPE" in disks.splitlines()[0] and "vda" in disks, "lsblk -lb --nodeps")
            check(s1.run("lsblk --nodeps --noheadings --output NAME").split() == ["vda"],
                  "lsblk --nodeps --noheadings --output NAME")
            check(s2.run("blkid -L config-2 -o device").strip() == "/dev/sr0", "blkid -L config-2")
            s2.run("sudo mount /dev/sr0 /mnt && sudo cat /mnt/openstack/latest/meta_data.json"
                   " && sudo umount /mnt")
            s1.run('sudo sh -c "echo \\"hello console\\" >/dev/console"')
            g1.wait("hello console", timeout=10)
            check(True, "sudo sh -c 'echo ... >/dev/console' (write_to_console)")
            # tempest's _renew_lease_udhcpc
            pid = s1.run("cat /var/run/udhcpc.eth0.pid").strip()
            s1.run(f"sudo /bin/kill -USR1 {pid}")
            time.sleep(2)
            check(VM1[2] in s1.run("ip -o addr"), "udhcpc renew (kill -USR1) keeps the address")

            # Between guests: ping, nc TCP and UDP (tempest's nc_listen_host / nc_host).
            s2.run(f"ping -c1 -w5 -s56 {VM1[2]}")
            check(True, "vm2 pings vm1")
            # Exactly tempest's nc_listen_host commands.
            s2.run("sudo nc  -p 5000 -lk -e echo foolish &", timeout=30)
            s2.run("sudo nc -u -p 5001 -lk -e echo foolish &", timeout=30)
            def nc_host(args):  # like tempest's check_remote_connectivity: retries
                deadline = time.monotonic() + 30
                while True:
                    try:
                        return s1.run(f'echo "bar" | nc -w 1 {args}').strip()
                    except AssertionError:
                        if time.monotonic() > deadline:
                            print(s2.run("ps; netstat -lntu"))
                            raise
                        time.sleep(1)
            r = nc_host(f"{VM2[2]} 5000")
            check(r == "foolish", f"nc TCP between guests: {r!r}")
            r = nc_host(f"{VM2[2]} 5000")
            check(r == "foolish", "nc -lk keeps listening")
            r = nc_host(f"-u {VM2[2]} 5001")
            check(r == "foolish", f"nc UDP between guests: {r!r}")

            print("console of vm1:")
            print("\n".join("  | " + line for line in con1))
        except BaseException:
            for g in guests:
                print(f"console of {os.path.basename(g.log)}:")
                print("\n".join("  | " + l for l in g.lines() if not l.startswith("FERRO-TICK")))
            raise
        finally:
            for g in guests:
                g.kill()
            for p in procs:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
            teardown_namespace()
    print("guest network smoke: all ok")


if __name__ == "__main__":
    main()
