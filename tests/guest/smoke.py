#!/usr/bin/env python3
"""Boots the tiny test guest with plain QEMU (TCG) and checks its markers.

Usage: python3 tests/guest/smoke.py OUTDIR   (OUTDIR from tests/guest/build.sh)

Scenarios:
  disk     guest.qcow2 overlay + config drive as IDE CD-ROM: metadata, user
           data, DHCP from QEMU's user-mode network, SSH to cirros@ through a
           host port forward (when ssh and ssh-keygen exist), volume and NIC
           hot-plug and unplug over QMP, ACPI power-off.
  resized  overlay grown to 1 GiB, config drive as a virtio disk.
  kernel   -kernel/-initrd, no disk, no config drive.
Needs qemu-system-x86_64, qemu-img, genisoimage. Stdlib only.
No root needed; tests/guest/smoke_net.py (root) covers a real L2 network.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

QEMU = shutil.which("qemu-system-x86_64") or "qemu-system-x86_64"


class Qmp:
    def __init__(self, path, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self.file = self.sock.makefile("rwb")
        self.events = []
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise EOFError("QMP closed")
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            r = self._read()
            if "event" in r:
                self.events.append(r)
                continue
            if "error" in r:
                raise RuntimeError(f"{name}: {r['error']}")
            return r.get("return")

    def wait_event(self, name, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {name} event")
            self.sock.settimeout(left)
            try:
                self.events.append(self._read())
            finally:
                self.sock.settimeout(None)


class Guest:
    def __init__(self, tmp, name, args, wrap=()):
        self.log = os.path.join(tmp, f"{name}.log")
        self.qmp_path = os.path.join(tmp, f"{name}.qmp")
        cmd = [QEMU, "-accel", "tcg,tb-size=16", "-m", "128", "-nodefaults",
               "-no-user-config", "-display", "none", "-no-reboot",
               "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
               "-serial", f"file:{self.log}"] + args
        self.started = time.monotonic()
        self.proc = subprocess.Popen(list(wrap) + cmd)
        self.qmp = Qmp(self.qmp_path)
        self.pos = 0

    def lines(self):
        try:
            with open(self.log, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        return data.decode(errors="replace").replace("\r", "").split("\n")[:-1]

    def wait(self, prefix, timeout=30.0):
        """Next line (after the previous wait's match) starting with prefix."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            for i in range(self.pos, len(lines)):
                if lines[i].startswith(prefix):
                    self.pos = i + 1
                    return lines[i]
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise TimeoutError(f"no {prefix!r} line; console:\n" + "\n".join(lines))
            time.sleep(0.05)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"  ok: {what}")


def ssh_key(tmp):
    """A fresh key pair (path of the private key, public key), or None
    without ssh-keygen."""
    if shutil.which("ssh-keygen") is None or shutil.which("ssh") is None:
        return None
    key = os.path.join(tmp, "key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", key], check=True)
    with open(key + ".pub") as f:
        return key, f.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_config_drive(tmp, uuid, pubkey="ssh-ed25519 AAAA test"):
    src = os.path.join(tmp, "cd")
    os.makedirs(os.path.join(src, "openstack", "latest"))
    meta = {"uuid": uuid, "name": "smoke", "hostname": "smoke",
            "public_keys": {"k": pubkey}}
    with open(os.path.join(src, "openstack", "latest", "meta_data.json"), "w") as f:
        json.dump(meta, f, indent=2)
    with open(os.path.join(src, "openstack", "latest", "user_data"), "w") as f:
        f.write("#!/bin/sh\necho user-data says hello\necho second line\nexit 3\n")
    iso = os.path.join(tmp, "config.iso")
    subprocess.run(["genisoimage", "-quiet", "-R", "-J", "-V", "config-2", "-o", iso, src],
                   check=True)
    return iso


def overlay(tmp, base, name, size=None):
    path = os.path.join(tmp, name)
    cmd = ["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", path]
    if size:
        cmd.append(size)
    subprocess.run(cmd, check=True)
    return path


def scenario_disk(out, tmp):
    print("disk: overlay + CD-ROM config drive, hot-plug, power-off")
    uuid = "3f1d6c2e-4b7a-4c39-9a53-0e8f2b6d7c10"
    key = ssh_key(tmp)
    iso = make_config_drive(tmp, uuid, *([key[1]] if key else []))
    port = free_port()
    root = overlay(tmp, os.path.join(out, "guest.qcow2"), "root.qcow2")
    vol = os.path.join(tmp, "vol.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", vol, "1G"], check=True)
    g = Guest(tmp, "disk", ["-uuid", uuid,
                            "-drive", f"file={root},if=virtio,format=qcow2",
                            "-cdrom", iso,
                            "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
                            "-device", "virtio-net-pci,netdev=n0,mac=fa:16:3e:00:00:01"])
    try:
        boot = g.wait("FERRO-BOOT ")
        check(g.wait("FERRO-UUID ") == f"FERRO-UUID {uuid}", "SMBIOS UUID")
        check(g.wait("FERRO-CONFIGDRIVE ").startswith("FERRO-CONFIGDRIVE /dev/sr"), "CD-ROM config drive")
        meta = json.loads(g.wait("FERRO-META ")[len("FERRO-META "):])
        check(meta["uuid"] == uuid, "FERRO-META is one JSON line")
        g.wait("user-data says hello")
        g.wait("second line")
        check(g.wait("FERRO-USERDATA-EXIT") == "FERRO-USERDATA-EXIT 3", "user data exit code")
        check(g.wait("FERRO-DISKS ") == "FERRO-DISKS sr0:" + str(os.path.getsize(iso) // 512)
              + " vda:65536", "disk list")
        check(g.wait("FERRO-NICS ") == "FERRO-NICS eth0=fa:16:3e:00:00:01", "NIC list")
        g.wait("FERRO-READY")
        print(f"  ready {time.monotonic() - g.started:.2f} s after launch ({boot})")
        g.wait("FERRO-TICK 1")
        g.wait("FERRO-TICK 2")
        g.wait("FERRO-NET-READY", timeout=60)
        print(f"  network and SSH ready {time.monotonic() - g.started:.2f} s after launch")
        lines = g.lines()
        check("FERRO-IP eth0=10.0.2.15/24 gw=10.0.2.2" in lines, "DHCP from QEMU's user network")
        check("FERRO-SSH-READY" in lines, "FERRO-SSH-READY")
        check("FERRO-METADATA none" in lines, "no metadata service: FERRO-METADATA none")
        if key:
            r = subprocess.run(
                ["ssh", "-i", key[0], "-p", str(port), "-o", "BatchMode=yes",
                 "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                 "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20", "cirros@127.0.0.1",
                 "set -eu -o pipefail; hostname; sudo cat /proc/uptime"],
                capture_output=True, text=True, timeout=90, check=False)
            check(r.returncode == 0 and r.stdout.split("\n")[0] == "smoke",
                  f"ssh cirros@guest hostname: {r.stdout!r} {r.stderr!r}")
        else:
            print("  (no ssh/ssh-keygen: SSH login not tried)")

        t = time.monotonic()
        g.qmp.cmd("blockdev-add", driver="file", filename=vol, **{"node-name": "vol1-file"})
        g.qmp.cmd("blockdev-add", driver="qcow2", file="vol1-file", **{"node-name": "vol1"})
        g.qmp.cmd("device_add", driver="virtio-blk-pci", drive="vol1", id="vol1-dev",
                  serial="vol1")
        line = g.wait("FERRO-DISKS ", timeout=15)
        check(line.endswith("vda:65536 vdb:2097152"), f"hot-plug seen: {line}")
        print(f"  hot-plug visible after {time.monotonic() - t:.2f} s")

        t = time.monotonic()
        g.qmp.cmd("device_del", id="vol1-dev")
        g.qmp.wait_event("DEVICE_DELETED", timeout=15)
        g.qmp.cmd("blockdev-del", **{"node-name": "vol1"})
        g.qmp.cmd("blockdev-del", **{"node-name": "vol1-file"})
        line = g.wait("FERRO-DISKS ", timeout=15)
        check(line.endswith("vda:65536"), f"unplug seen: {line}")
        print(f"  unplug visible after {time.monotonic() - t:.2f} s")

        t = time.monotonic()
        g.qmp.cmd("netdev_add", type="user", id="n1")
        g.qmp.cmd("device_add", driver="virtio-net-pci", netdev="n1", id="nic1",
                  mac="fa:16:3e:00:00:02")
        line = g.wait("FERRO-NICS ", timeout=15)
        check(line == "FERRO-NICS eth0=fa:16:3e:00:00:01 eth1=fa:16:3e:00:00:02",
              f"NIC hot-plug seen: {line}")
        line = g.wait("FERRO-IP eth1=", timeout=30)
        check(line.startswith("FERRO-IP eth1=10.0.2.15/24"), f"hot-plugged NIC got DHCP: {line}")
        print(f"  NIC hot-plug configured after {time.monotonic() - t:.2f} s")
        g.qmp.cmd("device_del", id="nic1")
        g.qmp.wait_event("DEVICE_DELETED", timeout=15)
        g.qmp.cmd("netdev_del", id="n1")
        line = g.wait("FERRO-NICS ", timeout=15)
        check(line == "FERRO-NICS eth0=fa:16:3e:00:00:01", f"NIC unplug seen: {line}")

        t = time.monotonic()
        g.qmp.cmd("system_powerdown")
        g.wait("FERRO-POWEROFF", timeout=15)
        rc = g.proc.wait(timeout=15)
        check(rc == 0, "QEMU exited 0 after system_powerdown")
        print(f"  power-off took {time.monotonic() - t:.2f} s")
    finally:
        g.kill()
    return g.lines()


def scenario_resized(out, tmp):
    print("resized: 1 GiB root overlay, config drive as a virtio disk")
    iso = os.path.join(tmp, "config.iso")
    root = overlay(tmp, os.path.join(out, "guest.qcow2"), "root-1g.qcow2", "1G")
    g = Guest(tmp, "resized", ["-drive", f"file={root},if=virtio,format=qcow2",
                               "-drive", f"file={iso},if=virtio,format=raw,readonly=on"])
    try:
        check(g.wait("FERRO-CONFIGDRIVE ") == "FERRO-CONFIGDRIVE /dev/vdb", "virtio config drive")
        line = g.wait("FERRO-DISKS ")
        check(line.startswith("FERRO-DISKS vda:2097152 vdb:"), f"grown root disk: {line}")
        g.wait("FERRO-READY")
        print(f"  ready {time.monotonic() - g.started:.2f} s after launch")
    finally:
        g.kill()


def scenario_kernel(out, tmp):
    print("kernel: -kernel/-initrd, no disk, no config drive")
    with open(os.path.join(out, "cmdline")) as f:
        cmdline = f.read().strip()
    g = Guest(tmp, "kernel", ["-kernel", os.path.join(out, "vmlinuz"),
                              "-initrd", os.path.join(out, "initrd.gz"),
                              "-append", cmdline])
    try:
        check(g.wait("FERRO-CONFIGDRIVE ") == "FERRO-CONFIGDRIVE none", "no config drive")
        check(g.wait("FERRO-DISKS ") == "FERRO-DISKS none", "no disks")
        g.wait("FERRO-READY")
        print(f"  ready {time.monotonic() - g.started:.2f} s after launch")
        check(g.wait("FERRO-METADATA ") == "FERRO-METADATA none", "no NIC: FERRO-METADATA none")
        g.wait("FERRO-NET-READY", timeout=60)
        check("FERRO-SSH-READY" in g.lines(), "SSH server up without NICs too")
    finally:
        g.kill()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="ferro-guest-smoke.") as tmp:
        lines = scenario_disk(out, tmp)
        scenario_resized(out, tmp)
        scenario_kernel(out, tmp)
        print("console of the disk scenario:")
        print("\n".join("  | " + line for line in lines))
    print("guest smoke: all ok")


if __name__ == "__main__":
    main()
