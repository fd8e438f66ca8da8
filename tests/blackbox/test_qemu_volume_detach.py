"""QEMU driver: a volume detached right after the guest (re)starts is released.

A guest early in its boot does not see an ACPI hot-unplug request yet; the
driver repeats the request until the guest releases the disk (tempest's
rebuild/unrescue/unshelve/start-then-detach tests do exactly this).
Skipped without qemu-system-x86_64."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import ferro  # noqa: E402
from computehelp import Nova, net, token, wait  # noqa: E402

GUEST_BUILD = Path(__file__).resolve().parent.parent / "guest" / "build.sh"

pytestmark = pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None,
                                reason="qemu-system-x86_64 not installed")


@pytest.fixture
def qemu_server(tmp_path):
    conf = tmp_path / "ferrostack.toml"
    conf.write_text('[compute]\naccel = "tcg"\nshutdown_timeout = 10\n')
    srv = ferro.Server(tmp_path / "data", driver="qemu", extra_args=["--config", str(conf)])
    srv.start()
    try:
        yield srv
    finally:
        srv.stop(timeout=60.0)
        # QEMU processes this server started and left (pid file + command line)
        for pidfile in (tmp_path / "data" / "instances").glob("*/qemu.pid"):
            try:
                pid = int(pidfile.read_text().strip())
                if str(pidfile.parent).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass


def _guest_image(srv, tok, tmp_path):
    out = tmp_path / "guest"
    subprocess.run(["bash", str(GUEST_BUILD), str(out)], check=True, capture_output=True,
                   timeout=600)
    h = {"X-Auth-Token": tok}
    base = srv.url + "/image/v2"
    r = requests.post(base + "/images", headers=h, timeout=30, json={
        "name": "guest", "disk_format": "qcow2", "container_format": "bare"})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    with open(out / "guest.qcow2", "rb") as f:
        r = requests.put(f"{base}/images/{iid}/file", data=f, timeout=120,
                         headers=dict(h, **{"Content-Type": "application/octet-stream"}))
    assert r.status_code == 204, r.text
    return iid


def _console(nova, sid):
    r = nova.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
    assert r.status_code == 200, r.text
    return r.json()["output"]


def _wait_console(nova, sid, pred, timeout=60, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = _console(nova, sid)
        if pred(out):
            return out
        time.sleep(0.5)
    raise AssertionError(f"console never showed {what}:\n{out[-2000:]}")


def _last_disks(out, after=""):
    """The last FERRO-DISKS line after the last `after` marker."""
    if after:
        out = out[out.rfind(after):]
    lines = [ln for ln in out.splitlines() if ln.startswith("FERRO-DISKS")]
    return lines[-1] if lines else None


def _volume_status(srv, h, project, vid):
    r = requests.get(f"{srv.url}/volume/v3/{project}/volumes/{vid}", headers=h, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["volume"]["status"]


def _wait_volume(srv, h, project, vid, status, timeout):
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = _volume_status(srv, h, project, vid)
        if got == status:
            return
        time.sleep(0.5)
    raise AssertionError(f"volume {vid} is {got}, not {status}, after {timeout} s")


def test_detach_right_after_hard_reboot(qemu_server, tmp_path):
    srv = qemu_server
    tok = token(srv)
    h = {"X-Auth-Token": tok}
    project = requests.get(srv.identity_url + "/v3/auth/tokens", timeout=30,
                           headers=dict(h, **{"X-Subject-Token": tok})
                           ).json()["token"]["project"]["id"]
    nova = Nova(srv, tok)
    iid = _guest_image(srv, tok, tmp_path)
    nid = net(srv, tok)
    r = nova.post("/servers", {"server": {"name": "g", "imageRef": iid, "flavorRef": "42",
                                          "networks": [{"uuid": nid}]}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE", timeout=60)
    _wait_console(nova, sid, lambda o: "FERRO-READY" in o, what="FERRO-READY")

    r = requests.post(f"{srv.url}/volume/v3/{project}/volumes", headers=h, timeout=30,
                      json={"volume": {"size": 1, "name": "v"}})
    assert r.status_code == 202, r.text
    vid = r.json()["volume"]["id"]
    _wait_volume(srv, h, project, vid, "available", 30)
    r = nova.post(f"/servers/{sid}/os-volume_attachments", {"volumeAttachment": {"volumeId": vid}})
    assert r.status_code == 200, r.text
    _wait_volume(srv, h, project, vid, "in-use", 30)
    _wait_console(nova, sid, lambda o: "vdb:" in (_last_disks(o) or ""), what="vdb plugged")

    # Hard reboot, then detach at once: the guest is still booting.
    r = nova.post(f"/servers/{sid}/action", {"reboot": {"type": "HARD"}})
    assert r.status_code == 202, r.text
    time.sleep(0.5)
    wait(nova, sid, "ACTIVE", timeout=60)
    r = nova.req("DELETE", f"/servers/{sid}/os-volume_attachments/{vid}")
    assert r.status_code == 202, r.text
    _wait_volume(srv, h, project, vid, "available", 40)
    # The guest lists its disks at boot and again on every change: the last
    # list since the reboot has no vdb.
    _wait_console(nova, sid, lambda o: o.count("FERRO-BOOT") >= 2
                  and "vdb" not in (_last_disks(o, after="FERRO-BOOT") or "vdb"),
                  what="vdb gone after the reboot")
