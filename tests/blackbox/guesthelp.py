"""Real guests for black-box tests: the test guest image (built from
Debian packages by tests/guest/build.sh), a ferrostack on the qemu driver,
and reading what the guest printed on its serial console."""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import ferro

REPO = ferro.REPO
GUEST_DIR = REPO / "target" / "test-guest"

requires_qemu = pytest.mark.skipif(
    shutil.which("qemu-system-x86_64") is None,
    reason="qemu-system-x86_64 is not installed (.ci/run installs it)")


def guest_image():
    """Path of the test guest's qcow2 (built once, then cached)."""
    subprocess.run(["bash", str(REPO / "tests" / "guest" / "build.sh"), str(GUEST_DIR)],
                   check=True, capture_output=True, timeout=600)
    return GUEST_DIR / "guest.qcow2"


def qemu_server(data_dir, database_url=None, shutdown_timeout=20, extra_config=""):
    """A ferrostack whose servers are QEMU guests (TCG: no KVM probe)."""
    cfg = Path(str(data_dir) + ".toml")
    cfg.write_text(f"[compute]\naccel = \"tcg\"\nshutdown_timeout = {shutdown_timeout}\n"
                   + extra_config)
    return ferro.Server(data_dir, database_url=database_url, driver="qemu",
                        extra_args=["--config", str(cfg)])


# The data plane's tests: root, QEMU and the tools the data plane runs.
requires_dataplane = [
    requires_qemu,
    pytest.mark.skipif(os.geteuid() != 0, reason="the data plane needs root"),
    pytest.mark.skipif(any(shutil.which(t) is None for t in ("ip", "dnsmasq", "ssh", "nft")),
                       reason="needs ip, dnsmasq, ssh, nft (.ci/run installs them)"),
]


def dataplane_server(data_dir):
    """A ferrostack with QEMU guests and the Linux data plane on."""
    srv = qemu_server(data_dir, shutdown_timeout=10)
    srv.env["FERROSTACK_NETWORK_DATAPLANE"] = "on"
    return srv


def upload_guest(cli):
    """The test guest as image "guest", and flavor "g.small" to boot it."""
    cli.json("image", "create", "--file", str(guest_image()), "--disk-format", "qcow2",
             "--container-format", "bare", "guest")
    cli.json("flavor", "create", "--ram", "128", "--disk", "1", "g.small")


def ferro_ip(lines, nic="eth0"):
    """The IPv4 address the guest last reported for `nic` (FERRO-IP)."""
    for line in reversed(lines):
        m = re.match(rf"FERRO-IP {nic}=(\d+\.\d+\.\d+\.\d+)/\d+", line)
        if m:
            return m.group(1)
    return None


def console_lines(server, server_id):
    """The guest's serial console so far, as lines (read from its file, so
    it works in every state)."""
    path = server.data_dir / "instances" / server_id / "console.log"
    try:
        return path.read_text(errors="replace").replace("\r", "").splitlines()
    except OSError:
        return []


def boots(lines):
    """The boot ids (FERRO-BOOT) in console order."""
    return [l.split()[1] for l in lines if l.startswith("FERRO-BOOT ")]


def current_boot(lines):
    """The lines since the last FERRO-BOOT."""
    idx = [i for i, l in enumerate(lines) if l.startswith("FERRO-BOOT ")]
    return lines[idx[-1]:] if idx else []


def marker(lines, name):
    """The value of the last `FERRO-<name> ...` line, or None."""
    vals = [l[len(name) + 7:] for l in lines if l.startswith(f"FERRO-{name} ")
            or l == f"FERRO-{name}"]
    return vals[-1] if vals else None


def disks(lines):
    """{name: sectors} from the last FERRO-DISKS line of the current boot."""
    value = marker(current_boot(lines), "DISKS")
    if not value or value == "none":
        return {}
    return {d.split(":")[0]: int(d.split(":")[1]) for d in value.split()}


def ticks(lines):
    vals = [int(l.split()[1]) for l in current_boot(lines) if re.match(r"FERRO-TICK \d+$", l)]
    return vals[-1] if vals else 0


def wait_for(what, check, timeout=90, interval=0.3):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def wait_ready(server, server_id, boot_count=1, timeout=90):
    """Until the guest's `boot_count`th boot printed FERRO-READY."""
    def ready():
        lines = console_lines(server, server_id)
        return len(boots(lines)) >= boot_count and "FERRO-READY" in current_boot(lines)
    wait_for(f"boot {boot_count} of {server_id} to be ready", ready, timeout)
    return console_lines(server, server_id)


def meta(lines):
    return json.loads(marker(current_boot(lines), "META"))


def qemu_cmdline(server, server_id):
    pid = server.guest_pids().get(server_id)
    if pid is None:
        return None
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")


def qemu_memory(server, server_id):
    args = qemu_cmdline(server, server_id)
    return int(args[args.index(b"-m") + 1]) if args else None


def all_qemu_pids():
    """Every qemu-system process on the machine: {pid: cmdline}."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes()
            except OSError:
                continue
            if b"qemu-system" in cmd.split(b"\0")[0]:
                out[int(d.name)] = cmd
    return out


def file_exists_in_instances(server):
    root = server.data_dir / "instances"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def ssh_from(namespace, key, address, *command, timeout=60, user="cirros"):
    """Run `command` in the guest at `address` over SSH with `key`, from
    inside network namespace `namespace`: the CompletedProcess."""
    args = ["ip", "netns", "exec", namespace, "ssh", "-i", str(key), "-o",
            "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
            "ConnectTimeout=10", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
            f"{user}@{address}", *command]
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(args, 255, e.stdout or "", "timed out")


def keypair_file(tmp_path, name="id_ed25519"):
    """A fresh SSH key pair; the private key's path."""
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key
