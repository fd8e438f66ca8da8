"""Data-plane scenarios (issue 11): Ferrostack with `[network] dataplane =
"on"` building bridges, taps, DHCP, routers and floating IPs in network
namespaces of its own.

1. create -> SSH login: a server on a tenant network behind a router, a
   floating IP on the external network; the time from the create request
   until `ssh` through the floating IP, from the external network's
   outside-world namespace, runs `hostname`. Reference line: the same guest
   booted by plain QEMU to `FERRO-READY` (no network), alternating round by
   round with the Ferrostack boots.
2. security-group rule change -> effect: with that guest running, the
   tcp/22 rule deleted until a new TCP connection to port 22 fails, then
   created again until one succeeds. A build whose groups do not filter
   (no effect within 10 s) is reported as such, not as a number.
3. port create rate with the data plane on vs off (fake compute driver,
   same binary): N ports sequentially and from 8 clients, and with the
   data plane on the time until the last port's DHCP host entry is in
   dnsmasq's hosts file.

Needs root and ip, nft, dnsmasq (and for 1-2 QEMU and ssh); skipped with the
reason otherwise. Deleting everything through the API must leave only the
bridge namespace (checked); the data plane outlives its ferrostack by design,
so after each stop the harness removes its namespaces and dnsmasq; a QEMU
left after its server's delete, or a namespace left by the run, is a
failure."""

import os
import shutil
import signal
import statistics
import subprocess
import threading
import time
from pathlib import Path

from . import guests, populate, servers
from .client import Client, HttpError, pool_map

COMPUTE_HEADERS = guests.COMPUTE_HEADERS
EXT_CIDR, EXT_GW = "172.24.77.0/24", "172.24.77.1"
TENANT_CIDR = "10.79.1.0/24"
PORTS_CIDR = "10.80.0.0/20"
SG_NO_EFFECT_S = 10.0     # a delete with no effect within this long: groups do not filter
CONNECT_TIMEOUT_S = 0.5   # each probe's TCP connect timeout (scenario 2)
SSH_TIMEOUT_S = 600       # create -> SSH, per round

# Polls TCP connects from inside a namespace until the port is open (or
# closed, argv[3] == "closed"); prints CLOCK_MONOTONIC (shared with the
# harness) at the moment the wanted state was seen: for "open" when the
# connect succeeded, for "closed" when the failing attempt began.
PROBE = r"""
import socket, sys, time
addr, port, want, limit, every = (sys.argv[1], int(sys.argv[2]), sys.argv[3] == "open",
                                  float(sys.argv[4]), float(sys.argv[5]))
end = time.monotonic() + limit
while True:
    t = time.monotonic()
    s = socket.socket()
    s.settimeout(every)
    try:
        s.connect((addr, port))
        ok = True
    except OSError:
        ok = False
    finally:
        s.close()
    if ok == want:
        print(time.monotonic() if ok else t, flush=True)
        sys.exit(0)
    if time.monotonic() > end:
        sys.exit(1)
    rest = every - (time.monotonic() - t)
    if rest > 0:
        time.sleep(rest)
"""


def unavailable(guests_too):
    """Why the data-plane scenarios cannot run here (None: they can)."""
    if os.geteuid() != 0:
        return "not root (the data plane makes network namespaces)"
    need = ["ip", "nft", "dnsmasq"]
    if guests_too:
        need += ["qemu-system-x86_64", "qemu-img", "genisoimage", "ssh", "ssh-keygen"]
    missing = [t for t in need if not shutil.which(t)]
    return f"{', '.join(missing)} not installed" if missing else None


def namespaces():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.strip())


def _prefix(data):
    try:
        return (data / "netplane" / "prefix").read_text().strip() + "-"
    except OSError:
        return None


def _mine(data):
    p = _prefix(data)
    return [n for n in namespaces() if p and n.startswith(p)]


def _cleanup(data, failures, what, log):
    """After ferrostack stopped. The data plane outlives its ferrostack by
    design (a restart adopts it), so its namespaces and dnsmasq are removed
    here; a QEMU still running is a failure (every guest was deleted)."""
    removed = []
    for pid in guests.holders(str(data)):
        cmd = guests._cmdline(pid)
        if not (cmd.startswith("dnsmasq") or "qemu-system" in cmd):
            continue
        if "qemu-system" in cmd:
            failures.append(f"data plane ({what}): QEMU pid {pid} left after every server "
                            "was deleted")
        removed.append(f"{Path(cmd.split(chr(0))[0]).name} {pid}")
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for ns in _mine(data):
        removed.append(ns)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    if removed:
        log(f"  removed after ferrostack stopped ({what}): {', '.join(removed)}")
    return removed


def _summary(values):
    if not values:
        return None
    return {"p50": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values), "all": values}


def _project(target, token):
    ident = Client(target.identity_url, token)
    return ident.get("/auth/tokens", headers={"X-Subject-Token": token})["token"]["project"]["id"]


def _start(binary, data, raw, cfg, log_name, driver="fake", mode="on", env=None):
    """Ferrostack on fresh data with the data plane explicitly `mode` (not
    "auto": that turns it off with the fake driver)."""
    if data.exists():
        shutil.rmtree(data)
    return servers.ferrostack(binary, data, raw, cfg.rounds, driver=driver,
                              env=dict(env or {}, FERROSTACK_NETWORK_DATAPLANE=mode),
                              log_name=log_name)


def run(binary, cfg, work, raw, log, failures, cpus):
    """All data-plane scenarios; a dict for results.json."""
    why = unavailable(guests_too=False)
    if why:
        log(f"== data plane: skipped ({why})")
        return {"skipped": why}
    out = {}
    log("== data plane: port create rate, on vs off")
    out["ports"] = _guarded(lambda: _ports(binary, cfg, work, raw, log, failures),
                            "port create rate", log, failures)
    if cfg.smoke:
        out["guests_skipped"] = ("smoke: create -> SSH and security-group scenarios boot "
                                 "guests (minutes on TCG); run --dataplane-only for them")
        log(f"== data plane: {out['guests_skipped']}")
    else:
        why = unavailable(guests_too=True)
        if why:
            out["guests_skipped"] = why
            log(f"== data plane guests: skipped ({why})")
        else:
            out["guests"] = _guarded(lambda: _guests(binary, cfg, work, raw, log, failures, cpus),
                                     "create -> SSH", log, failures)
    # Other jobs on the machine make namespaces too: only this run's
    # prefixes (one per data directory) count.
    left = sorted(n for d in work.glob("ferro-dp-*") for n in _mine(d))
    left += [n for n in namespaces() if n == f"fsbench{os.getpid()}-plain"]
    out["namespaces_left"] = left
    if left:
        failures.append(f"data plane: namespaces left after the run: {left}")
    log("  namespaces of this run left: " + (", ".join(left) if left else "none"))
    return out


def _guarded(fn, what, log, failures):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - recorded, the run goes on
        failures.append(f"data plane ({what}): {e}")
        log(f"  data plane ({what}) FAILED: {e}")
        return {"error": str(e)}


# ---------------------------------------------------------------- 3. ports

def _ports(binary, cfg, work, raw, log, failures):
    n = 20 if cfg.smoke else 200
    out = {"n": n, "concurrency": 8}
    for mode in ("off", "on"):
        data = work / f"ferro-dp-ports-{mode}"
        target = _start(binary, data, raw, cfg, f"ferrostack-dp-ports-{mode}.log", mode=mode)
        try:
            target.identity_proc.start()
            out[mode] = _ports_side(target, data, n, mode == "on")
            r = out[mode]
            log(f"  data plane {mode}: {n} ports sequential {r['sequential_per_s']:.0f}/s, "
                f"8 clients {r['concurrent_per_s']:.0f}/s"
                + (f"; last port in dnsmasq's hosts file {r['sequential_host_ms']:.0f} ms "
                   f"(sequential) / {r['concurrent_host_ms']:.0f} ms (8 clients) after its "
                   "create returned" if mode == "on" else ""))
        finally:
            target.stop()
            _cleanup(data, failures, f"ports, {mode}", log)
    out["ratio_sequential"] = out["on"]["sequential_per_s"] / out["off"]["sequential_per_s"]
    out["ratio_concurrent"] = out["on"]["concurrent_per_s"] / out["off"]["concurrent_per_s"]
    return out


def _ports_side(target, data, n, on):
    token = populate.admin_token(target)
    net = Client(target.network_url, token)
    project = _project(target, token)
    net.put(f"/v2.0/quotas/{project}", {"quota": {"network": -1, "subnet": -1, "port": -1}})
    net_id = net.post("/v2.0/networks", {"network": {"name": "bench-dp-ports"}})["network"]["id"]
    net.post("/v2.0/subnets", {"subnet": {"network_id": net_id, "ip_version": 4,
                                          "cidr": PORTS_CIDR, "enable_dhcp": True,
                                          "name": "bench-dp-ports"}})
    hosts = data / "netplane" / "dhcp" / net_id / "host"
    if on:   # the DHCP server is up before the clock starts
        _wait(lambda: hosts.exists(), 60, "the network's dnsmasq hosts file")
    out = {}

    def create(i):
        return net.post("/v2.0/ports", {"port": {"network_id": net_id,
                                                 "name": f"p{i}"}})["port"]["mac_address"]

    t0 = time.monotonic()
    macs = [create(i) for i in range(n)]
    t1 = time.monotonic()
    out["sequential_s"] = t1 - t0
    out["sequential_per_s"] = n / (t1 - t0)
    if on:
        out["sequential_host_ms"] = (_wait_host(hosts, macs[-1]) - t1) * 1000
    last = {}

    def create_timed(i):
        mac = create(i)
        last[i] = (time.monotonic(), mac)
        return mac

    t0 = time.monotonic()
    pool_map(create_timed, range(n, 2 * n), workers=8)
    t1 = time.monotonic()
    out["concurrent_s"] = t1 - t0
    out["concurrent_per_s"] = n / (t1 - t0)
    if on:
        t_last, mac = max(last.values())
        out["concurrent_host_ms"] = (_wait_host(hosts, mac) - t_last) * 1000
        lines = hosts.read_text().splitlines()
        if len(lines) != 2 * n:
            raise AssertionError(f"dnsmasq's hosts file has {len(lines)} entries, "
                                 f"{2 * n} ports were made")
    return out


def _wait(pred, timeout, what, every=0.01):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        time.sleep(every)


def _wait_host(path, mac, timeout=60):
    def seen():
        try:
            return mac in path.read_text()
        except OSError:
            return False
    _wait(seen, timeout, f"DHCP host entry for {mac}", every=0.005)
    return time.monotonic()


# ---------------------------------------------------------------- 1-2. guests

def _in_ns(ns, *args, timeout=None):
    return subprocess.run(["ip", "netns", "exec", ns, *args], capture_output=True, text=True,
                          timeout=timeout)


def _probe(ns, addr, want, limit, every=CONNECT_TIMEOUT_S):
    """The monotonic time port 22 of `addr` was seen `want` ("open" or
    "closed") from namespace `ns`; None if not within `limit` seconds."""
    r = _in_ns(ns, "python3", "-c", PROBE, addr, "22", want, str(limit), str(every),
               timeout=limit + 30)
    return float(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip() else None


def _ssh(ns, key, addr, *cmd, timeout=30):
    args = ["ssh", "-i", str(key), "-o", "StrictHostKeyChecking=no", "-o",
            "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "BatchMode=yes",
            "-o", "LogLevel=ERROR", f"cirros@{addr}", *cmd]
    try:
        return _in_ns(ns, *args, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, 255, "", "timed out")


PLAIN_NET = ("10.99.0.1", "10.99.0.2", "255.255.255.0", 24)   # bridge, guest, mask


class PlainNet:
    """The physical limit's network: a namespace of the bench's own making
    with a bridge (holding 10.99.0.1) and a persistent tap on it; plain QEMU
    runs in that namespace on the tap, the guest configured statically from
    its config drive's network_data.json; SSH from the same namespace."""

    def __init__(self, key):
        self.ns = f"fsbench{os.getpid()}-plain"
        self.tap, self.mac = "tap0", "fa:16:3e:00:99:02"
        self.key = key
        gw, guest, mask, plen = PLAIN_NET
        self.guest = guest
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        for cmd in (["link", "set", "lo", "up"],
                    ["link", "add", "br0", "type", "bridge"],
                    ["addr", "add", f"{gw}/{plen}", "dev", "br0"],
                    ["link", "set", "br0", "up"],
                    ["tuntap", "add", "dev", self.tap, "mode", "tap"],
                    ["link", "set", self.tap, "master", "br0", "up"]):
            subprocess.run(["ip", "-n", self.ns, *cmd], check=True, capture_output=True)
        self.spec = {
            "netns": self.ns, "tap": self.tap, "mac": self.mac,
            "public_keys": {"bench": Path(str(key) + ".pub").read_text().strip()},
            "network_data": {
                "links": [{"id": "tap0", "type": "bridge", "mtu": 1500,
                           "ethernet_mac_address": self.mac}],
                "networks": [{"id": "network0", "type": "ipv4", "link": "tap0",
                              "ip_address": guest, "netmask": mask, "routes": []}],
                "services": []}}

    def boot(self, plain, name, failures):
        """Launch -> `hostname` over SSH; (seconds to SSH, seconds to
        FERRO-READY)."""
        b = guests.PlainBoot(plain, name, net=self.spec)
        ready = {}
        try:
            b.launch()
            th = threading.Thread(target=lambda: ready.update(
                guests.wait_ready({b.name: b.console}, SSH_TIMEOUT_S)), daemon=True)
            th.start()
            t = _wait_ssh(self.ns, self.key, self.guest, name, b.t0 + SSH_TIMEOUT_S)
            th.join(SSH_TIMEOUT_S)
            return t - b.t0, (ready[b.name] - b.t0) if b.name in ready else None
        finally:
            b.stop(failures)

    def close(self):
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


def _wait_ssh(ns, key, addr, name, deadline, alive=lambda: True):
    """Port 22 of `addr` open from `ns` (0.5 s connects), then `ssh ...
    hostname` answering `name`; the monotonic time it answered."""
    while True:
        alive()
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no SSH login to {name} at {addr} in time")
        if _probe(ns, addr, "open", min(left, 30)) is None:
            continue
        r = _ssh(ns, key, addr, "hostname")
        if r.returncode == 0:
            if r.stdout.strip() != name:
                raise AssertionError(f"SSH to {addr} answered {r.stdout.strip()!r}, not {name}")
            return time.monotonic()
        time.sleep(0.2)


class Cloud:
    """The network set-up of scenarios 1-2 made through the API."""

    def __init__(self, target, data, token, key):
        self.target = target
        self.data = data
        self.net = Client(target.network_url, token)
        self.comp = Client(target.compute_url, token)
        self.project = _project(target, token)
        net = self.net
        ext = net.post("/v2.0/networks", {"network": {
            "name": "bench-public", "router:external": True,
            "provider:network_type": "flat", "provider:physical_network": "public"}})
        self.ext = ext["network"]["id"]
        net.post("/v2.0/subnets", {"subnet": {
            "network_id": self.ext, "ip_version": 4, "cidr": EXT_CIDR, "gateway_ip": EXT_GW,
            "enable_dhcp": False, "name": "bench-public"}})
        self.tenant = net.post("/v2.0/networks", {"network": {"name": "bench-tenant"}})[
            "network"]["id"]
        sub = net.post("/v2.0/subnets", {"subnet": {
            "network_id": self.tenant, "ip_version": 4, "cidr": TENANT_CIDR,
            "name": "bench-tenant"}})["subnet"]["id"]
        self.router = net.post("/v2.0/routers", {"router": {
            "name": "bench-r", "external_gateway_info": {"network_id": self.ext}}})[
            "router"]["id"]
        net.put(f"/v2.0/routers/{self.router}/add_router_interface", {"subnet_id": sub})
        self.sub = sub
        groups = net.get(f"/v2.0/security-groups?name=default&project_id={self.project}")
        self.sg = groups["security_groups"][0]["id"]
        self.rule = None
        self.add_rule()
        self.comp.post("/os-keypairs", {"keypair": {
            "name": "bench-key", "public_key": Path(str(key) + ".pub").read_text().strip()}},
            headers=COMPUTE_HEADERS)
        self.fip = net.post("/v2.0/floatingips", {"floatingip": {
            "floating_network_id": self.ext}})["floatingip"]
        self.fip_addr = self.fip["floating_ip_address"]

    def add_rule(self):
        self.rule = self.net.post("/v2.0/security-group-rules", {"security_group_rule": {
            "security_group_id": self.sg, "direction": "ingress", "ethertype": "IPv4",
            "protocol": "tcp", "port_range_min": 22, "port_range_max": 22}})[
            "security_group_rule"]["id"]

    def delete_rule(self):
        self.net.call("DELETE", f"/v2.0/security-group-rules/{self.rule}")
        self.rule = None

    def outside(self):
        p = _prefix(self.data)
        want = f"{p}ext-{self.ext}"
        return want if want in namespaces() else None

    def teardown(self, server_ids, failures):
        """Everything made, deleted through the API, in order."""
        net = self.net
        self.delete_servers(server_ids, failures)
        net.call("DELETE", f"/v2.0/floatingips/{self.fip['id']}")
        net.put(f"/v2.0/routers/{self.router}/remove_router_interface", {"subnet_id": self.sub})
        net.call("DELETE", f"/v2.0/routers/{self.router}")
        for n in (self.tenant, self.ext):
            net.call("DELETE", f"/v2.0/networks/{n}")

    def delete_servers(self, ids, failures):
        if not ids:
            return
        for sid in ids:
            self.comp.call("DELETE", f"/servers/{sid}", headers=COMPUTE_HEADERS)
        deadline = time.monotonic() + 60
        left = set(ids)
        while left and time.monotonic() < deadline:
            left = {s for s in left if self.comp.raw("GET", f"/servers/{s}")[0] != 404
                    or guests.holders(f"qemu-{s}")}
            if left:
                time.sleep(0.05)
        for sid in left:
            failures.append(f"data plane: server {sid} not gone (or its QEMU still running) "
                            "60 s after DELETE")


def _guests(binary, cfg, work, raw, log, failures, cpus):
    guest_dir = work / "guest"
    built = subprocess.run(["bash", str(guests.GUEST_BUILD), str(guest_dir)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if built.returncode:
        raise AssertionError(f"tests/guest/build.sh failed: {built.stderr.strip()[-500:]}")
    base = guest_dir / "guest.qcow2"
    keydir = work / "dp-key"
    shutil.rmtree(keydir, ignore_errors=True)
    keydir.mkdir()
    key = keydir / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)

    def confine():
        if cpus:
            os.sched_setaffinity(0, cpus)

    data = work / "ferro-dp-guests"
    old = servers.SERVER_CPUS
    servers.pin_servers(cpus)
    target = _start(binary, data, raw, cfg, "ferrostack-dp-guests.log", driver="qemu",
                    env={"FERROSTACK_COMPUTE_ACCEL": cfg.accel})
    rounds = cfg.dp_rounds
    out = {"rounds": rounds, "accel_setting": cfg.accel, "memory_mb": guests.MEMORY_MB}
    try:
        target.identity_proc.start()
    finally:
        servers.pin_servers(old)
    created, pnet = [], None
    try:
        out["accel"] = guests._accel_from_log(raw / "ferrostack-dp-guests.log") or cfg.accel
        token = populate.admin_token(target)
        image = Client(target.image_url, token)
        img = image.post("/v2/images", {"name": "bench-guest", "disk_format": "qcow2",
                                        "container_format": "bare", "visibility": "public"})
        image.call("PUT", f"/v2/images/{img['id']}/file", base.read_bytes(),
                   headers={"Content-Type": "application/octet-stream"})
        comp = Client(target.compute_url, token)
        flavor = comp.post("/flavors", {"flavor": {
            "name": "bench.guest", "ram": guests.MEMORY_MB, "vcpus": 1,
            "disk": guests.DISK_GB}}, headers=COMPUTE_HEADERS)["flavor"]["id"]
        cloud = Cloud(target, data, token, key)
        outside = _wait(cloud.outside, 60, "outside-world namespace of the external network")
        out["outside_namespace"] = outside
        plain = guests.Plain(base, work / "dp-plain-guests", out["accel"], confine)
        pnet = PlainNet(key)
        out["plain_namespace"] = pnet.ns
        ssh_s, active_s, plain_s, plain_ready_s = [], [], [], []
        for i in range(rounds):
            last = i == rounds - 1
            sides = ("ferro", "plain") if i % 2 == 0 else ("plain", "ferro")
            for side in sides:
                if side == "plain":
                    t, t_ready = pnet.boot(plain, f"dp-plain-{i}", failures)
                    plain_s.append(t)
                    if t_ready:
                        plain_ready_s.append(t_ready)
                    continue
                sid, t_ssh, t_active = _ssh_round(cloud, comp, img["id"], flavor, key,
                                                  outside, i, created)
                ssh_s.append(t_ssh)
                if t_active:
                    active_s.append(t_active)
                if not last:
                    cloud.net.put(f"/v2.0/floatingips/{cloud.fip['id']}",
                                  {"floatingip": {"port_id": None}})
                    cloud.delete_servers([sid], failures)
                    created.remove(sid)
            log(f"  round {i + 1}/{rounds}: create -> SSH `hostname` through the floating IP "
                f"{ssh_s[-1]:.2f} s (ACTIVE {active_s[-1] if active_s else float('nan'):.2f} s); "
                f"plain QEMU launch -> SSH on its own bridge {plain_s[-1]:.2f} s")
        out["create_to_ssh_s"] = _summary(ssh_s)
        out["create_to_active_s"] = _summary(active_s)
        out["plain_to_ssh_s"] = _summary(plain_s)
        out["plain_to_ready_s"] = _summary(plain_ready_s)
        out["ssh_ratio"] = out["create_to_ssh_s"]["p50"] / out["plain_to_ssh_s"]["p50"]
        log(f"  create -> SSH p50 {out['create_to_ssh_s']['p50']:.2f} s "
            f"(min {out['create_to_ssh_s']['min']:.2f}, max {out['create_to_ssh_s']['max']:.2f}); "
            f"plain QEMU launch -> SSH p50 {out['plain_to_ssh_s']['p50']:.2f} s "
            f"({out['ssh_ratio']:.2f}x)")
        out["secgroup"] = _guarded(lambda: _secgroup(cloud, outside, cfg.dp_rounds, log),
                                   "security-group rule change", log, failures)
        cloud.teardown(created, failures)
        created = []
        _wait(lambda: sorted(_mine(data)) == [f"{_prefix(data)}br"], 60,
              "removal of every namespace but the bridges' after the teardown")
    finally:
        if pnet:
            pnet.close()
        target.stop()
        _cleanup(data, failures, "create -> SSH", log)
    return out


def _ssh_round(cloud, comp, image, flavor, key, outside, i, created):
    """One server: create, floating IP associate, SSH; (id, seconds from the
    create request until `hostname` answered, seconds until ACTIVE seen)."""
    name = f"bench-dp-{i}"
    t0 = time.monotonic()
    sid = comp.post("/servers", {"server": {
        "name": name, "imageRef": image, "flavorRef": flavor, "key_name": "bench-key",
        "config_drive": True,
        # Its own address each round: the lowest free one would be the
        # deleted server's, which dnsmasq still holds leased to that MAC
        # (its lease database lives in memory, nothing releases it), so the
        # guest would get no DHCP answer.
        "networks": [{"uuid": cloud.tenant, "fixed_ip": f"10.79.1.{100 + i}"}]}},
        headers=COMPUTE_HEADERS)["server"]["id"]
    created.append(sid)
    port = _wait(lambda: cloud.net.get(f"/v2.0/ports?device_id={sid}")["ports"], 120,
                 f"port of server {sid}", every=0.02)[0]["id"]
    cloud.net.put(f"/v2.0/floatingips/{cloud.fip['id']}", {"floatingip": {"port_id": port}})
    # ACTIVE, watched beside (its own client) while SSH is polled.
    active = {}

    def watch():
        c = Client(cloud.target.compute_url, comp.token)
        deadline = time.monotonic() + SSH_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                st = c.get(f"/servers/{sid}")["server"]["status"]
            except HttpError:
                return
            if st in ("ACTIVE", "ERROR"):
                active[st] = time.monotonic()
                return
            time.sleep(0.05)

    th = threading.Thread(target=watch, daemon=True)
    th.start()

    def alive():
        if "ERROR" in active:
            raise AssertionError(f"server {sid} went to ERROR")

    t = _wait_ssh(outside, key, cloud.fip_addr, name, t0 + SSH_TIMEOUT_S, alive)
    th.join(5)
    return sid, t - t0, (active["ACTIVE"] - t0) if "ACTIVE" in active else None


def _secgroup(cloud, outside, n, log):
    """Delete the tcp/22 rule -> new connects fail; create it -> they succeed."""
    if _probe(outside, cloud.fip_addr, "open", 30) is None:
        raise AssertionError("port 22 not open through the floating IP before the rule change")
    off, on = [], []
    for i in range(n):
        t0 = time.monotonic()
        cloud.delete_rule()
        t = _probe(outside, cloud.fip_addr, "closed", SG_NO_EFFECT_S)
        if t is None:
            cloud.add_rule()
            if _probe(outside, cloud.fip_addr, "open", 30) is None:
                raise AssertionError("port 22 not open again after re-creating the rule")
            why = "no filtering (security groups not enforced in this build)"
            log(f"  security-group rule change: {why}: port 22 still open "
                f"{SG_NO_EFFECT_S:.0f} s after deleting the tcp/22 rule")
            return {"no_filtering": why, "no_effect_within_s": SG_NO_EFFECT_S}
        off.append(t - t0)
        t0 = time.monotonic()
        cloud.add_rule()
        t = _probe(outside, cloud.fip_addr, "open", 60)
        if t is None:
            raise AssertionError("port 22 not open within 60 s of re-creating the tcp/22 rule")
        on.append(t - t0)
        log(f"  security-group rule change {i + 1}/{n}: delete -> connect fails "
            f"{off[-1] * 1000:.0f} ms, create -> connect succeeds {on[-1] * 1000:.0f} ms")
    return {"delete_to_blocked_s": _summary(off), "create_to_open_s": _summary(on),
            "connect_timeout_s": CONNECT_TIMEOUT_S}
