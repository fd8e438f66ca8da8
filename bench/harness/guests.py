"""Real guests: Ferrostack with the qemu compute driver side by side with the
physical limit, the same test guest booted by plain `qemu-system-x86_64`
with an equivalent command line, in the same run.

Scenarios (each Ferrostack boot is a server create through the compute API;
each plain boot does by hand what the driver does: qcow2 overlay, config
drive ISO, QEMU with the same flags, QMP handshake):

1. sequential boots, Ferrostack and plain alternating (so a change in the
   machine's load hits both sides alike): create -> ACTIVE, the QEMU process's
   start time against ACTIVE, create -> `FERRO-READY` on the serial console,
   and each QEMU's RSS at that moment; every guest deleted before the next;
2. K guests at once on each side: wall time until all are ready;
3. memory: QEMU RSS per guest on each side, Ferrostack's own RSS growth.

After every delete no process may still carry the guest's name
(`qemu-<uuid>` in its command line): a leftover is a failure."""

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time
import uuid as uuidlib
from pathlib import Path

from . import populate, procs, servers
from .client import Client

REPO = Path(__file__).resolve().parent.parent.parent
GUEST_BUILD = REPO / "tests" / "guest" / "build.sh"
COMPUTE_HEADERS = {"OpenStack-API-Version": "compute 2.1"}
READY = b"FERRO-READY"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MEMORY_MB = 128   # both sides; the flavor `bench.guest`
DISK_GB = 1       # the flavor's root disk: the overlay is grown to it on both sides
POLL_S = 0.02     # console and status polling interval, both sides


def unavailable(guest_built):
    """Why the real-guest scenarios cannot run here (None: they can)."""
    need = ["qemu-system-x86_64", "qemu-img", "genisoimage"]
    if not guest_built:
        need += ["apt-get", "dpkg", "mkfs.fat", "syslinux", "mcopy"]
    missing = [t for t in need if not shutil.which(t)]
    if missing:
        return f"{', '.join(missing)} not installed"
    return None


def _boottime():
    """Seconds since boot, the clock /proc/<pid>/stat's starttime counts in."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def process_start(pid):
    """The process's start, seconds since boot (10 ms resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return int(text[text.rindex(")") + 2:].split()[19]) / CLK_TCK


def holders(name):
    """Pids whose command line contains `name` (pgrep -f, without pgrep)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if name.encode() in f.read():
                    out.append(int(d))
        except OSError:
            pass
    return out


def rss(pid):
    return procs.rss_bytes([pid]) if pid else 0


class Console:
    """Watches a console log (CRLF lines, appended) for the ready marker."""

    def __init__(self, path):
        self.path = Path(path)
        self.offset = 0
        self.tail = b""

    def ready(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return False
        self.offset += len(chunk)
        data = self.tail + chunk
        if READY in data:
            return True
        self.tail = data[-len(READY):]
        return False


def wait_ready(consoles, timeout):
    """Poll every console until each shows the marker; {key: monotonic time}.
    Raises TimeoutError naming the keys still waiting."""
    done = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(consoles):
        for key, c in consoles.items():
            if key not in done and c.ready():
                done[key] = time.monotonic()
        if len(done) == len(consoles):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {READY.decode()} within {timeout:.0f} s: "
                               f"{sorted(set(consoles) - set(done))}")
        time.sleep(POLL_S)
    return done


# ---------------------------------------------------------------- plain QEMU

class PlainBoot:
    """One guest booted by hand the way the driver boots it."""

    def __init__(self, plain, name, net=None):
        """`net` (the data-plane scenarios): {"netns", "tap", "mac",
        "network_data", "public_keys"}: QEMU runs in that namespace with a
        virtio NIC on the tap, the config drive carries the network and the
        keys."""
        self.plain = plain
        self.name = name
        self.net = net
        self.dir = plain.work / name
        self.pid = None
        self.t0 = None
        self.qmp_ready_s = None
        self.console = Console(self.dir / "console.log")

    def launch(self):
        """Overlay, config drive, QEMU, QMP handshake; the clock starts here."""
        p = self.plain
        self.t0 = time.monotonic()
        if self.dir.exists():
            shutil.rmtree(self.dir)
        (self.dir / "cd" / "openstack" / "latest").mkdir(parents=True)
        disk = self.dir / "disk"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(p.base), "-F",
                        "qcow2", str(disk), f"{DISK_GB}G"], check=True)
        uuid = str(uuidlib.uuid4())
        meta = {"uuid": uuid, "name": self.name, "hostname": self.name,
                "availability_zone": "nova", "launch_index": 0, "meta": {}}
        net = self.net
        latest = self.dir / "cd" / "openstack" / "latest"
        if net:
            meta["public_keys"] = net["public_keys"]
            (latest / "network_data.json").write_text(json.dumps(net["network_data"]))
        (latest / "meta_data.json").write_text(json.dumps(meta))
        iso = self.dir / "disk.config"
        subprocess.run(["genisoimage", "-o", str(iso), "-ldots", "-allow-lowercase",
                        "-allow-multidot", "-l", "-quiet", "-J", "-r", "-V", "config-2",
                        str(self.dir / "cd")], check=True, stderr=subprocess.DEVNULL)
        args = [p.qemu, "-name", f"guest={self.name},process=bench-plain-{self.name}",
                "-uuid", uuid, "-smbios",
                f"type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,serial={uuid},"
                "family=Virtual Machine", "-machine", "pc", *p.accel_args, "-m", str(MEMORY_MB),
                "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
                "-no-shutdown", "-qmp", "unix:qmp.sock,server=on,wait=off",
                "-chardev", f"file,id=serial0,path={self.dir / 'console.log'},append=on",
                "-serial", "chardev:serial0",
                "-blockdev", json.dumps({"driver": "qcow2", "node-name": "root",
                                         "read-only": False,
                                         "file": {"driver": "file", "filename": str(disk),
                                                  "read-only": False}}),
                "-device", json.dumps({"driver": "virtio-blk-pci", "drive": "root",
                                       "id": "dev-root", "bootindex": 0}),
                "-drive", f"file={iso},format=raw,if=ide,media=cdrom,readonly=on"]
        if net:
            args = ["ip", "netns", "exec", net["netns"], *args,
                    "-netdev", f"tap,id=net0,ifname={net['tap']},script=no,downscript=no",
                    "-device", f"virtio-net-pci,netdev=net0,mac={net['mac']},id=nic0"]
        t_exec = time.monotonic()
        # -daemonize as the driver does: QEMU's parent exits once the guest's
        # devices and sockets are set up.
        with open(self.dir / "qemu.err", "wb") as err:
            at = args.index(p.qemu) + 1
            subprocess.run([*args[:at], "-daemonize", "-pidfile", str(self.dir / "qemu.pid"),
                            *args[at:]], cwd=self.dir, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=err, preexec_fn=p.confine,
                           check=True, timeout=60)
        self.pid = int((self.dir / "qemu.pid").read_text())
        _qmp_handshake(self.dir / "qmp.sock", self.pid)
        self.qmp_ready_s = time.monotonic() - t_exec
        return self

    def stop(self, failures):
        """SIGTERM (QEMU exits at once); a process left after 30 s is a failure."""
        if self.pid and _alive(self.pid):
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while _alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
        left = holders(f"process=bench-plain-{self.name}\0")
        if left:
            failures.append(f"real guests: plain QEMU {self.name} still running (pids {left})")
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def _alive(pid):
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return False
    return text[text.rindex(")") + 2:][:1] != "Z"


def _qmp_handshake(path, pid, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        if not _alive(pid):
            raise RuntimeError(f"plain QEMU (pid {pid}) exited")
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(str(path))
            f = s.makefile("rwb")
            f.readline()  # greeting
            f.write(b'{"execute": "qmp_capabilities"}\n')
            f.flush()
            f.readline()
            f.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)
        finally:
            s.close()


class Plain:
    def __init__(self, base, work, accel, confine):
        self.qemu = shutil.which("qemu-system-x86_64")
        self.base = base
        self.work = work
        self.confine = confine
        self.accel_args = (["-accel", "kvm", "-cpu", "host"] if accel == "kvm"
                           else ["-accel", "tcg,tb-size=16"])
        work.mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------- ferrostack

class Ferro:
    def __init__(self, target, data_dir, image_id, flavor_id, token):
        self.target = target
        self.data_dir = data_dir
        self.image_id = image_id
        self.flavor_id = flavor_id
        self.comp = Client(target.compute_url, token)

    def create(self, name):
        t0 = time.monotonic()
        b0 = _boottime()
        sid = self.comp.post("/servers", {"server": {
            "name": name, "imageRef": self.image_id, "flavorRef": self.flavor_id,
            "config_drive": True}}, headers=COMPUTE_HEADERS)["server"]["id"]
        return {"id": sid, "t0": t0, "boot0": b0,
                "console": Console(self.data_dir / "instances" / sid / "console.log")}

    def wait_active(self, server, timeout=120):
        comp = self.comp
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = comp.get(f"/servers/{server['id']}")["server"]
            if s["status"] == "ACTIVE":
                server["active"] = time.monotonic()
                server["active_boot"] = _boottime()
                return
            if s["status"] == "ERROR":
                raise AssertionError(f"server {server['id']} went to ERROR: {s.get('fault')}")
            time.sleep(POLL_S / 2)
        raise AssertionError(f"server {server['id']} not ACTIVE within {timeout} s")

    def qemu_pid(self, server):
        try:
            return int((self.data_dir / "instances" / server["id"] / "qemu.pid").read_text())
        except (OSError, ValueError):
            return None

    def delete(self, server_ids, failures, timeout=60):
        """Delete, wait for 404s, and check no QEMU process is left."""
        for sid in server_ids:
            self.comp.call("DELETE", f"/servers/{sid}", headers=COMPUTE_HEADERS)
        deadline = time.monotonic() + timeout
        left = set(server_ids)
        while left and time.monotonic() < deadline:
            left = {s for s in left
                    if self.comp.raw("GET", f"/servers/{s}")[0] != 404
                    or holders(f"qemu-{s}")}
            if left:
                time.sleep(0.05)
        for sid in left:
            pids = holders(f"qemu-{sid}")
            failures.append(f"real guests: server {sid} deleted, QEMU still running "
                            f"(pids {pids})" if pids else
                            f"real guests: server {sid} not gone {timeout} s after DELETE")
            for pid in pids:   # leave the machine clean
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


# ---------------------------------------------------------------- the run

def _pct(values, p):
    s = sorted(values)
    if not s:
        return None
    return s[min(len(s) - 1, int(round((len(s) - 1) * p / 100)))]


def _summary(values):
    if not values:
        return None
    return {"p50": statistics.median(values), "p95": _pct(values, 95), "min": min(values),
            "max": max(values), "n": len(values), "all": values}


def _accel_from_log(path):
    text = Path(path).read_text(errors="replace")
    marker = "accelerator "
    i = text.rfind(marker)
    if i < 0:
        return None
    return text[i + len(marker):].split()[0].strip(",;()")


def run(binary, cfg, work, raw, log, failures, cpus):
    """The real-guest scenarios; a dict for results.json ({"skipped": why}
    when they cannot run here)."""
    guest_dir = work / "guest"
    built = (guest_dir / "guest.qcow2").exists()
    why = unavailable(built)
    if why:
        log(f"== real guests: skipped ({why})")
        return {"skipped": why}
    log(f"== real guests (qemu driver vs plain qemu-system-x86_64, accel {cfg.accel})")
    t_build = time.monotonic()
    built = subprocess.run(["bash", str(GUEST_BUILD), str(guest_dir)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, check=False)
    if built.returncode:
        why = f"tests/guest/build.sh failed: {built.stderr.strip()[-500:]}"
        failures.append(f"real guests: {why}")
        log(f"  real guests FAILED: {why}")
        return {"error": why}
    base = guest_dir / "guest.qcow2"
    log(f"  test guest {base} ({base.stat().st_size >> 20} MiB) ready in "
        f"{time.monotonic() - t_build:.1f} s")

    def confine():
        if cpus:
            os.sched_setaffinity(0, cpus)

    old_cpus = servers.SERVER_CPUS
    servers.pin_servers(cpus)   # QEMU inherits ferrostack's CPUs: give it them all
    data = work / "ferro-guests"
    if data.exists():
        shutil.rmtree(data)
    target = servers.ferrostack(binary, data, raw, cfg.rounds, driver="qemu",
                                env={"FERROSTACK_COMPUTE_ACCEL": cfg.accel},
                                log_name="ferrostack-guests.log")
    out = {"accel_setting": cfg.accel, "memory_mb": MEMORY_MB, "disk_gb": DISK_GB,
           "sequential_n": cfg.guest_boots, "concurrent_n": cfg.guest_concurrency,
           "concurrent_rounds": cfg.guest_rounds,
           "cpus": cpus}
    try:
        target.identity_proc.start()
    finally:
        servers.pin_servers(old_cpus)
    fpid = target.identity_proc.pid
    try:
        accel = _accel_from_log(raw / "ferrostack-guests.log") or cfg.accel
        out["accel"] = accel
        if accel not in ("tcg", "kvm"):
            raise AssertionError(f"cannot tell which accelerator ferrostack chose ({accel})")
        token = populate.admin_token(target)
        image = Client(target.image_url, token)
        img = image.post("/v2/images", {"name": "bench-guest", "disk_format": "qcow2",
                                        "container_format": "bare", "visibility": "public"})
        image.call("PUT", f"/v2/images/{img['id']}/file", base.read_bytes(),
                   headers={"Content-Type": "application/octet-stream"})
        comp = Client(target.compute_url, token)
        flavor = comp.post("/flavors", {"flavor": {
            "name": "bench.guest", "ram": MEMORY_MB, "vcpus": 1, "disk": DISK_GB}},
            headers=COMPUTE_HEADERS)["flavor"]["id"]
        ferro = Ferro(target, data, img["id"], flavor, token)
        plain = Plain(base, work / "plain-guests", accel, confine)
        time.sleep(1.0)
        out["ferrostack_rss"] = {"baseline": rss(fpid)}
        cpu0, t_seq = procs.cpu_seconds([fpid]), time.monotonic()
        out["sequential"] = _sequential(ferro, plain, cfg.guest_boots, log, failures)
        cpu = procs.cpu_seconds([fpid]) - cpu0
        out["ferrostack_cpu"] = {"sequential_s": cpu, "wall_s": time.monotonic() - t_seq,
                                 "per_boot_s": cpu / cfg.guest_boots}
        out["ferrostack_rss"]["after_sequential"] = rss(fpid)
        out["concurrent"] = _concurrent(ferro, plain, cfg.guest_concurrency,
                                        cfg.guest_rounds, fpid, log, failures)
        out["ferrostack_rss"]["with_guests"] = out["concurrent"]["ferrostack"]["ferrostack_rss"]
        out["ferrostack_rss"]["after_all_deleted"] = rss(fpid)
        r = out["ferrostack_rss"]
        r["growth"] = max(r["after_sequential"], r["with_guests"], r["after_all_deleted"]) \
            - r["baseline"]
        log(f"  ferrostack RSS: {r['baseline'] / 2**20:.1f} MiB before the guests, "
            f"{r['with_guests'] / 2**20:.1f} MiB with {cfg.guest_concurrency} running, "
            f"{r['after_all_deleted'] / 2**20:.1f} MiB after deleting them all")
    except Exception as e:  # noqa: BLE001 - any failure is recorded, the run goes on
        failures.append(f"real guests: {e}")
        log(f"  real guests FAILED: {e}")
        out["error"] = str(e)
    finally:
        target.stop()
    left = holders("process=qemu-")
    left = [p for p in left if str(data) in _cmdline(p)]
    if left:
        failures.append(f"real guests: QEMU processes left after ferrostack stopped: {left}")
    _check_targets(out)
    return out


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def _sequential(ferro, plain, n, log, failures):
    f = {k: [] for k in ("active", "post_qemu", "qemu_active", "ready", "rss", "cpu")}
    p = {k: [] for k in ("qmp", "ready", "rss", "cpu")}

    def ferro_boot(i):
        """create -> ACTIVE -> ready, then delete."""
        s = ferro.create(f"bench-seq-{i}")
        try:
            ferro.wait_active(s)
            pid = ferro.qemu_pid(s)
            f["active"].append((s["active"] - s["t0"]) * 1000)
            if pid:
                started = process_start(pid)
                f["post_qemu"].append((started - s["boot0"]) * 1000)
                f["qemu_active"].append((s["active_boot"] - started) * 1000)
            ready = wait_ready({s["id"]: s["console"]}, 120)[s["id"]]
            f["ready"].append(ready - s["t0"])
            pid = ferro.qemu_pid(s)
            f["rss"].append(rss(pid))
            f["cpu"].append(procs.cpu_seconds([pid]) if pid else None)
        finally:
            ferro.delete([s["id"]], failures)

    def plain_boot(i):
        """The same guest by hand: launch -> ready, then SIGTERM."""
        b = PlainBoot(plain, f"seq-{i:03d}")
        try:
            b.launch()
            p["qmp"].append(b.qmp_ready_s * 1000)
            ready = wait_ready({b.name: b.console}, 120)[b.name]
            p["ready"].append(ready - b.t0)
            p["rss"].append(rss(b.pid))
            p["cpu"].append(procs.cpu_seconds([b.pid]))
        finally:
            b.stop(failures)

    for i in range(n):
        # Alternate which side goes first, so neither always follows the other.
        for side in ((ferro_boot, plain_boot) if i % 2 == 0 else (plain_boot, ferro_boot)):
            side(i)
        log(f"  boot {i + 1}/{n}: ferrostack ACTIVE {f['active'][-1]:.0f} ms, ready "
            f"{f['ready'][-1]:.2f} s; plain QEMU QMP {p['qmp'][-1]:.0f} ms, ready "
            f"{p['ready'][-1]:.2f} s")
    f_active, f_post_qemu, f_qemu_active = f["active"], f["post_qemu"], f["qemu_active"]
    f_ready, f_rss, p_qmp, p_ready, p_rss = f["ready"], f["rss"], p["qmp"], p["ready"], p["rss"]
    out = {"ferrostack": {"create_to_active_ms": _summary(f_active),
                          "post_to_qemu_start_ms": _summary(f_post_qemu),
                          "qemu_start_to_active_ms": _summary(f_qemu_active),
                          "create_to_ready_s": _summary(f_ready),
                          "qemu_rss_at_ready": _summary(f_rss),
                          "qemu_cpu_s_at_ready": _summary([c for c in f["cpu"] if c])},
           "plain": {"launch_to_qmp_ms": _summary(p_qmp),
                     "launch_to_ready_s": _summary(p_ready),
                     "qemu_rss_at_ready": _summary(p_rss),
                     "qemu_cpu_s_at_ready": _summary(p["cpu"])}}
    fr, pr = out["ferrostack"]["create_to_ready_s"], out["plain"]["launch_to_ready_s"]
    out["ready_ratio"] = fr["p50"] / pr["p50"]
    a = out["ferrostack"]["create_to_active_ms"]
    qa = out["ferrostack"]["qemu_start_to_active_ms"]
    log(f"  create -> ACTIVE p50 {a['p50']:.0f} ms, p95 {a['p95']:.0f} ms; ACTIVE "
        + (f"{qa['p50']:.0f} ms (p50) after the QEMU process started" if qa else "?")
        + f"; plain launch -> QMP p50 {out['plain']['launch_to_qmp_ms']['p50']:.0f} ms")
    log(f"  boot to {READY.decode()} p50: ferrostack {fr['p50']:.2f} s, plain QEMU "
        f"{pr['p50']:.2f} s ({out['ready_ratio']:.2f}x)")
    return out


def _conc_ferro(ferro, k, fpid, failures, r):
    """k creates at once from k threads; until all are ready; delete."""
    created, errors = [], []

    def create(i):
        try:
            created.append(ferro.create(f"bench-conc-{r}-{i}"))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t0 = time.monotonic()
    threads = [threading.Thread(target=create, args=(i,)) for i in range(k)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    try:
        if errors:
            raise AssertionError(f"concurrent create: {errors[0]}")
        for s in created:
            ferro.wait_active(s, timeout=300)
        boot0 = min(s["boot0"] for s in created)
        starts = [process_start(pid) - boot0 for pid in map(ferro.qemu_pid, created) if pid]
        ready = wait_ready({s["id"]: s["console"] for s in created}, 300)
        return {"wall_s": max(ready.values()) - t0,
                "ready_s": _summary([ready[s["id"]] - s["t0"] for s in created]),
                "qemu_rss": _summary([rss(ferro.qemu_pid(s)) for s in created]),
                "ferrostack_rss": rss(fpid),
                "first_post_to_qemu_starts_ms": sorted(x * 1000 for x in starts),
                "first_post_to_active_ms": sorted((s["active"] - t0) * 1000 for s in created)}
    finally:
        ferro.delete([s["id"] for s in created], failures)


def _conc_plain(plain, k, failures, r):
    """k plain launches at once from k threads; until all are ready; SIGTERM."""
    boots = [PlainBoot(plain, f"conc-{r}-{i:03d}") for i in range(k)]
    errors = []

    def launch(b):
        try:
            b.launch()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t0 = time.monotonic()
    threads = [threading.Thread(target=launch, args=(b,)) for b in boots]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    try:
        if errors:
            raise RuntimeError(f"plain QEMU launch: {errors[0]}")
        ready = wait_ready({b.name: b.console for b in boots}, 300)
        return {"wall_s": max(ready.values()) - t0,
                "ready_s": _summary([ready[b.name] - b.t0 for b in boots]),
                "qemu_rss": _summary([rss(b.pid) for b in boots])}
    finally:
        for b in boots:
            b.stop(failures)


def _concurrent(ferro, plain, k, rounds, fpid, log, failures):
    """`rounds` rounds of k boots at once per side, the order alternating
    (Ferrostack first, then plain first, ...); each side's wall time is the
    median over its rounds, the other numbers come from its first round."""
    runs = {"ferrostack": [], "plain": []}
    for r in range(rounds):
        order = ("ferrostack", "plain") if r % 2 == 0 else ("plain", "ferrostack")
        for side in order:
            if side == "ferrostack":
                runs[side].append(_conc_ferro(ferro, k, fpid, failures, r))
            else:
                runs[side].append(_conc_plain(plain, k, failures, r))
        log(f"  {k} boots at once, round {r + 1}/{rounds}: all ready after ferrostack "
            f"{runs['ferrostack'][-1]['wall_s']:.2f} s, plain QEMU "
            f"{runs['plain'][-1]['wall_s']:.2f} s")
    out = {"rounds": rounds}
    for side, rs in runs.items():
        out[side] = dict(rs[0], wall_s=statistics.median(x["wall_s"] for x in rs),
                         wall_rounds_s=[x["wall_s"] for x in rs])
    out["ferrostack"]["ferrostack_rss"] = max(x["ferrostack_rss"] for x in runs["ferrostack"])
    out["wall_ratio"] = out["ferrostack"]["wall_s"] / out["plain"]["wall_s"]
    log(f"  {k} boots at once, all ready (median of {rounds}): ferrostack "
        f"{out['ferrostack']['wall_s']:.2f} s, plain QEMU {out['plain']['wall_s']:.2f} s "
        f"({out['wall_ratio']:.2f}x); QEMU RSS p50 "
        f"{out['ferrostack']['qemu_rss']['p50'] / 2**20:.1f} vs "
        f"{out['plain']['qemu_rss']['p50'] / 2**20:.1f} MiB")
    return out


def _check_targets(out):
    """(target, measured, met) rows, kept with the results."""
    rows = []
    seq = out.get("sequential")
    if seq:
        qa = seq["ferrostack"]["qemu_start_to_active_ms"]
        if qa:
            rows.append(("ACTIVE within 0.5 s of the QEMU process starting",
                         f"p50 {qa['p50']:.0f} ms, max {qa['max']:.0f} ms", qa["max"] <= 500))
        rows.append(("boot to ready within 1.2x of plain QEMU (p50)",
                     f"{seq['ready_ratio']:.2f}x", seq["ready_ratio"] <= 1.2))
    out["targets"] = rows
