"""Real guests (issue 10): with the `openstack` CLI, every server action
acts on a QEMU machine booted from the test guest image, and the guest's
serial console proves it (markers printed by tests/guest/init.sh)."""

import json
import os
import signal
import subprocess
import time

import pytest
import requests

from computehelp import Nova, token
from guesthelp import (all_qemu_pids, boots, console_lines, current_boot, dataplane_server, disks,
                       ferro_ip, file_exists_in_instances, guest_image, marker, meta, qemu_memory,
                       qemu_server, requires_dataplane, requires_qemu, ticks, wait_for,
                       wait_ready)
from test_identity_cli import Cli

pytestmark = requires_qemu


@pytest.fixture
def qemu(tmp_path):
    srv = qemu_server(tmp_path / "data")
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        assert srv.guest_pids() == {}


def _status(cli, name, want, timeout=120):
    def check():
        s = cli.json("server", "show", name)
        if s["status"] == "ERROR":
            raise AssertionError(f"{name} is ERROR: {s.get('fault')}")
        return s if s["status"] == want and not s.get("OS-EXT-STS:task_state") else None
    return wait_for(f"{name} to be {want}", check, timeout, interval=0.5)


def _volume_status(cli, name, want, timeout=60):
    return wait_for(f"volume {name} {want}",
                    lambda: cli.json("volume", "show", name)["status"] == want, timeout)


def _setup(cli, tmp_path):
    image = guest_image()
    cli.json("image", "create", "--file", str(image), "--disk-format", "qcow2",
             "--container-format", "bare", "--public", "guest")
    cli.json("image", "create", "--file", str(image), "--disk-format", "qcow2",
             "--container-format", "bare", "--public", "guest-alt")
    cli.json("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", "g.small")
    cli.json("flavor", "create", "--ram", "192", "--disk", "2", "--vcpus", "2", "g.big")


def test_server_lifecycle_on_a_real_guest(qemu, tmp_path):
    cli = Cli(qemu)
    _setup(cli, tmp_path)
    cli.json("keypair", "create", "--private-key", str(tmp_path / "k"), "gkey")
    userdata = tmp_path / "user-data"
    userdata.write_text("#!/bin/sh\necho USERDATA-SAYS-$(echo hello | tr a-z A-Z)\n")
    srv = cli.json("server", "create", "--image", "guest", "--flavor", "g.small",
                   "--config-drive", "true", "--user-data", str(userdata),
                   "--key-name", "gkey", "--nic", "none", "--wait", "vm1")
    sid = srv["id"]
    assert srv["status"] == "ACTIVE"
    assert qemu.guest_pids().keys() == {sid}

    # The guest booted, ran the user data and read its config drive.
    wait_ready(qemu, sid)
    log = cli.run("console", "log", "show", "vm1").stdout.replace("\r", "").splitlines()
    assert "FERRO-READY" in log and "USERDATA-SAYS-HELLO" in log
    assert marker(log, "USERDATA-EXIT") == "0"
    assert marker(log, "UUID") == sid
    md = meta(log)
    assert md["uuid"] == sid and md["name"] == "vm1" and md["hostname"] == "vm1.novalocal"
    assert md["public_keys"]["gkey"].startswith("ssh-")
    assert md["public_keys"]["gkey"].split()[:2] == \
        cli.run("keypair", "show", "--public-key", "gkey").stdout.split()[:2]
    tail = cli.run("console", "log", "show", "--lines", "3", "vm1").stdout.strip().splitlines()
    assert len(tail) <= 3
    assert disks(log).get("vda") == 2 * 1024 * 1024  # grown to the flavor's 1 GiB

    # stop: ACPI power-down, the QEMU process is gone; start boots again.
    cli.run("server", "stop", "vm1")
    _status(cli, "vm1", "SHUTOFF")
    assert qemu.guest_pids() == {}
    assert "FERRO-POWEROFF" in current_boot(console_lines(qemu, sid))
    cli.run("server", "start", "vm1")
    _status(cli, "vm1", "ACTIVE")
    lines = wait_ready(qemu, sid, 2)

    # reboots: each a new boot of the same machine.
    cli.run("server", "reboot", "--soft", "--wait", "vm1")
    lines = wait_ready(qemu, sid, 3)
    assert "FERRO-POWEROFF" in lines  # the soft reboot asked the guest first
    cli.run("server", "reboot", "--hard", "--wait", "vm1")
    lines = wait_ready(qemu, sid, 4)

    # pause: the guest's CPUs stop (no ticks), unpause: same boot goes on.
    wait_for("ticks", lambda: ticks(console_lines(qemu, sid)) >= 2)
    cli.run("server", "pause", "vm1")
    _status(cli, "vm1", "PAUSED")
    before = ticks(console_lines(qemu, sid))
    time.sleep(3)
    assert ticks(console_lines(qemu, sid)) == before
    cli.run("server", "unpause", "vm1")
    _status(cli, "vm1", "ACTIVE")
    wait_for("ticks after unpause", lambda: ticks(console_lines(qemu, sid)) > before)
    assert len(boots(console_lines(qemu, sid))) == 4

    # suspend: state saved to disk, no process; resume: the same boot.
    cli.run("server", "suspend", "vm1")
    _status(cli, "vm1", "SUSPENDED")
    assert qemu.guest_pids() == {}
    assert (qemu.data_dir / "instances" / sid / "state.save").exists()
    before = ticks(console_lines(qemu, sid))
    cli.run("server", "resume", "vm1")
    _status(cli, "vm1", "ACTIVE")
    wait_for("ticks after resume", lambda: ticks(console_lines(qemu, sid)) > before)
    assert len(boots(console_lines(qemu, sid))) == 4
    assert not (qemu.data_dir / "instances" / sid / "state.save").exists()

    # rescue: the rescue image boots, the server's disk is the second one.
    cli.run("server", "rescue", "vm1")
    _status(cli, "vm1", "RESCUE")
    lines = wait_ready(qemu, sid, 5)
    assert set(disks(lines)) >= {"vda", "vdb"}
    cli.run("server", "unrescue", "vm1")
    _status(cli, "vm1", "ACTIVE")
    lines = wait_ready(qemu, sid, 6)
    assert "vdb" not in disks(lines)

    # resize: the new flavor's memory and disk; revert brings the old back.
    cli.run("server", "resize", "--flavor", "g.big", "--wait", "vm1")
    _status(cli, "vm1", "VERIFY_RESIZE")
    assert qemu_memory(qemu, sid) == 192
    lines = wait_ready(qemu, sid, 7)
    assert disks(lines)["vda"] == 4 * 1024 * 1024
    cli.run("server", "resize", "revert", "vm1")
    _status(cli, "vm1", "ACTIVE")
    assert qemu_memory(qemu, sid) == 128
    lines = wait_ready(qemu, sid, 8)
    assert disks(lines)["vda"] == 2 * 1024 * 1024
    cli.run("server", "resize", "--flavor", "g.big", "--wait", "vm1")
    _status(cli, "vm1", "VERIFY_RESIZE")
    cli.run("server", "resize", "confirm", "vm1")
    _status(cli, "vm1", "ACTIVE")
    assert qemu_memory(qemu, sid) == 192
    assert not (qemu.data_dir / "instances" / sid / "disk.resize-backup").exists()
    wait_ready(qemu, sid, 9)

    # rebuild: a fresh disk from the other image; same id.
    alt = cli.json("image", "show", "guest-alt")["id"]
    cli.run("server", "rebuild", "--image", "guest-alt", "--wait", "vm1")
    _status(cli, "vm1", "ACTIVE")
    info = json.loads(subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", str(qemu.data_dir / "instances" / sid / "disk")],
        capture_output=True, text=True, check=True).stdout)
    assert alt in info["backing-filename"]
    lines = wait_ready(qemu, sid, 10)
    assert meta(lines)["uuid"] == sid

    # volumes: hot-plugged into the running guest, and out again.
    cli.json("volume", "create", "--size", "1", "vol1")
    _volume_status(cli, "vol1", "available")
    cli.run("server", "add", "volume", "vm1", "vol1")
    _volume_status(cli, "vol1", "in-use")
    wait_for("the guest to see vdb", lambda: "vdb" in disks(console_lines(qemu, sid)))
    assert disks(console_lines(qemu, sid))["vdb"] == 2 * 1024 * 1024
    cli.run("server", "remove", "volume", "vm1", "vol1")
    _volume_status(cli, "vol1", "available")
    wait_for("vdb to go", lambda: "vdb" not in disks(console_lines(qemu, sid)))

    # snapshot: a real image of the disk, which boots a second server.
    cli.run("server", "image", "create", "--name", "snap1", "--wait", "vm1")
    snap = cli.json("image", "show", "snap1")
    assert snap["status"] == "active" and snap["disk_format"] == "qcow2"
    assert snap["properties"]["instance_uuid"] == sid
    _status(cli, "vm1", "ACTIVE")
    # (its disk was grown to g.big's 2 GiB: the snapshot needs that much)
    second = cli.json("server", "create", "--image", "snap1", "--flavor", "g.big",
                      "--nic", "none", "--wait", "vm2")
    lines = wait_ready(qemu, second["id"])
    assert marker(lines, "UUID") == second["id"]

    # shelve: snapshot to Glance and the guest is gone; unshelve boots it.
    cli.run("server", "shelve", "vm1")
    _status(cli, "vm1", "SHELVED_OFFLOADED")
    assert sid not in qemu.guest_pids()
    assert sid not in file_exists_in_instances(qemu)
    cli.run("server", "unshelve", "vm1")
    _status(cli, "vm1", "ACTIVE")
    wait_ready(qemu, sid)
    # Its disk now sits on the shelved snapshot (deleted from Glance): that
    # base stays while vm1 uses it, whatever else is deleted meanwhile.
    cli.run("server", "reboot", "--hard", "--wait", "vm1")
    cli.run("server", "delete", "--wait", "vm2")
    cli.run("server", "reboot", "--hard", "--wait", "vm1")
    _status(cli, "vm1", "ACTIVE")
    wait_ready(qemu, sid, 3)

    # delete: no process, no instance files, no base images.
    cli.run("server", "delete", "--wait", "vm1")
    assert qemu.guest_pids() == {}
    assert [n for n in file_exists_in_instances(qemu) if n != "_base"] == []
    base = qemu.data_dir / "instances" / "_base"
    assert not base.exists() or list(base.iterdir()) == []


def test_boot_from_volume_with_force_config_drive(tmp_path):
    """`--boot-from-volume`: the image becomes a Cinder volume and the guest
    boots from that volume's file; `force_config_drive` gives the server a
    config drive it did not ask for."""
    srv = qemu_server(tmp_path / "data", extra_config="force_config_drive = true\n")
    try:
        srv.start()
        cli = Cli(srv)
        _setup(cli, tmp_path)
        s = cli.json("server", "create", "--image", "guest", "--flavor", "g.small",
                     "--boot-from-volume", "2", "--nic", "none", "--wait", "bfv")
        assert s["status"] == "ACTIVE"
        lines = wait_ready(srv, s["id"])
        assert disks(lines)["vda"] == 4 * 1024 * 1024  # the 2 GiB volume
        assert meta(lines)["uuid"] == s["id"]
        vols = cli.json("volume", "list")
        assert len(vols) == 1 and vols[0]["Status"] == "in-use"
        # No overlay of the image: the volume is the disk.
        assert not (srv.data_dir / "instances" / s["id"] / "disk").exists()
        cli.run("server", "delete", "--wait", "bfv")
        assert srv.guest_pids() == {}
    finally:
        srv.stop()


def _diagnostics(srv, sid, version):
    nova = Nova(srv, token(srv))
    r = nova.get(f"/servers/{sid}/diagnostics",
                 headers={"X-OpenStack-Nova-API-Version": version})
    assert r.status_code == 200, r.text
    return r.json()


def test_diagnostics_are_the_running_guests_figures(qemu, tmp_path):
    """`GET /servers/{id}/diagnostics` reads the running QEMU machine: each
    vCPU's CPU time, every disk's I/O (the root disk and the config drive
    the guest read while booting), memory as the flavor gave it; the flat
    view before 2.48 has the same figures under libvirt's keys. A NIC on
    user networking has no counters; a stopped guest none at all."""
    cli = Cli(qemu)
    _setup(cli, tmp_path)
    cli.json("network", "create", "diag-net")
    cli.json("subnet", "create", "--network", "diag-net", "--subnet-range", "10.78.0.0/24",
             "diag-sub")
    s = cli.json("server", "create", "--image", "guest", "--flavor", "g.big",
                 "--config-drive", "true", "--network", "diag-net", "--wait", "diag")
    sid = s["id"]
    wait_ready(qemu, sid)
    mac = cli.json("port", "list", "--device-id", sid)[0]["MAC Address"]

    d = _diagnostics(qemu, sid, "2.48")
    assert d["state"] == "running" and d["driver"] == "libvirt" and d["hypervisor"] == "qemu"
    assert d["config_drive"] is True and 0 <= d["uptime"] < 900
    assert d["num_cpus"] == len(d["cpu_details"]) == 2
    assert [c["id"] for c in d["cpu_details"]] == [0, 1]
    assert all(c["time"] > 0 for c in d["cpu_details"]), d["cpu_details"]
    assert d["memory_details"] == {"maximum": 192, "used": 192}
    # The root disk and the config drive (last, as libvirt lists it).
    assert d["num_disks"] == len(d["disk_details"]) == 2
    root, drive = d["disk_details"]
    assert root["read_bytes"] > 0 and root["read_requests"] > 0, root
    assert root["errors_count"] == 0 and root["write_requests"] >= 0
    assert drive["read_bytes"] > 0 and drive["write_bytes"] == 0, drive
    assert d["num_nics"] == len(d["nic_details"]) == 1
    nic = d["nic_details"][0]
    assert nic["mac_address"] == mac
    assert nic["rx_octets"] is None and nic["tx_packets"] is None  # user networking

    # The figures are live: the guest's CPUs go on running.
    time.sleep(2)
    later = _diagnostics(qemu, sid, "2.48")
    assert sum(c["time"] for c in later["cpu_details"]) > sum(c["time"] for c in d["cpu_details"])
    assert later["disk_details"][0]["read_bytes"] >= root["read_bytes"]

    flat = _diagnostics(qemu, sid, "2.1")
    assert flat["cpu0_time"] > 0 and flat["cpu1_time"] > 0
    assert flat["vda_read"] >= root["read_bytes"] and flat["vda_read_req"] > 0
    assert {"vda_write", "vda_write_req"} <= flat.keys() and flat["vda_errors"] == 0
    assert flat["hdd_read"] > 0
    assert flat["memory"] == flat["memory-actual"] == 192 * 1024
    assert 0 < flat["memory-rss"] < 2 * 1024 * 1024
    assert not [k for k in flat if k.startswith("tap")], flat  # no counters on user networking
    assert "vdb_read" not in flat

    # A stopped guest: the same shape, no figures.
    cli.run("server", "stop", "diag")
    _status(cli, "diag", "SHUTOFF")
    d = _diagnostics(qemu, sid, "2.48")
    assert d["state"] == "shutdown" and d["num_disks"] == 2 and d["num_nics"] == 1
    assert [c["time"] for c in d["cpu_details"]] == [None, None]
    assert d["disk_details"][0]["read_bytes"] is None
    assert d["memory_details"]["maximum"] == 192
    cli.run("server", "delete", "--wait", "diag")


def _host_tap(ns, tap):
    out = subprocess.run(["ip", "-n", ns, "-s", "-j", "link", "show", tap],
                         capture_output=True, text=True, check=True).stdout
    stats = json.loads(out)[0]["stats64"]
    return {f"{way}_{k}": v for way in ("rx", "tx") for k, v in stats[way].items()}


@requires_dataplane[1]
@requires_dataplane[2]
def test_diagnostics_count_a_tap_nics_traffic_from_the_guests_side(tmp_path):
    """With the data plane a NIC is a tap: its counters are the tap's,
    turned round, as libvirt reports them (what the host's tap sent is what
    the guest received)."""
    srv = dataplane_server(tmp_path / "data")
    try:
        srv.start()
        cli = Cli(srv)
        _setup(cli, tmp_path)
        cli.json("network", "create", "dnet")
        cli.json("subnet", "create", "--network", "dnet", "--subnet-range", "10.79.0.0/24",
                 "dsub")
        sid = cli.json("server", "create", "--image", "guest", "--flavor", "g.small",
                       "--network", "dnet", "--wait", "dtap")["id"]
        wait_for("the guest's DHCP lease", lambda: ferro_ip(console_lines(srv, sid)), 120)
        port = cli.json("port", "list", "--device-id", sid)[0]
        tap = "tap" + port["ID"][:11]
        ns = [n for n in srv.namespaces() if n.endswith("-br")][0]

        before = _host_tap(ns, tap)
        d = _diagnostics(srv, sid, "2.48")
        flat = _diagnostics(srv, sid, "2.1")
        after = _host_tap(ns, tap)
        assert d["num_nics"] == 1
        nic = d["nic_details"][0]
        assert nic["mac_address"] == port["MAC Address"]
        # DHCP went both ways.
        assert nic["tx_packets"] > 0 and nic["rx_packets"] > 0, nic
        assert before["tx_bytes"] <= nic["rx_octets"] <= after["tx_bytes"]
        assert before["rx_bytes"] <= nic["tx_octets"] <= after["rx_bytes"]
        assert before["tx_packets"] <= nic["rx_packets"] <= after["tx_packets"]
        assert nic["rx_errors"] == nic["tx_errors"] == 0
        assert before["tx_bytes"] <= flat[f"{tap}_rx"] <= after["tx_bytes"]
        assert before["rx_packets"] <= flat[f"{tap}_tx_packets"] <= after["rx_packets"]
        assert {f"{tap}_{k}" for k in ("rx_errors", "rx_drop", "tx", "tx_errors", "tx_drop")} \
            <= flat.keys()
        cli.run("server", "delete", "--wait", "dtap")
    finally:
        srv.stop()
        assert srv.guest_pids() == {}
