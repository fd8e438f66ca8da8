"""tempest.api.compute on real guests: ferrostack with the QEMU driver (TCG),
compared with known-failures-compute-qemu.txt (see runner.py for the knobs).

What it runs (FERROSTACK_TEMPEST_COMPUTE_QEMU_REGEX overrides it): the classes
that drive guests through every lifecycle action: servers.test_server_actions
(reboot, stop/start, pause, suspend, shelve, resize, rebuild, createImage,
console output), servers.test_server_rescue*, volumes.* (attach/detach,
test_attach_volume*), images.* (snapshots).  The compute feature flags for
what the QEMU driver does are on (gen_conf.COMPUTE_FEATURES plus
config_drive).

Before tempest starts, this creates (as admin, over HTTP):
  * the test guest (tests/guest/build.sh → guest.qcow2, ~16 MiB) uploaded
    twice as public qcow2 images (`[compute] image_ref`, `image_ref_alt`);
  * the shared network "private", the external network "public", the volume
    type "multiattach" (as test_tempest_compute.py).
Flavors: the seeded 42 (m1.nano, 128 MiB, 1 GiB) and 84 (m1.micro, 192 MiB,
1 GiB); the guest boots at >= 96 MiB.

The server runs with `[compute] accel = "tcg"` (KVM hangs guests on these
machines) and a short `shutdown_timeout` (a guest that has not finished
booting ignores the ACPI power button; Nova's 60 s would make every early
stop wait a minute).  Each guest costs CPU under TCG, so tempest runs with
concurrency 2 (FERROSTACK_TEMPEST_QEMU_CONCURRENCY, at most 2) and a 30 min
budget (FERROSTACK_TEMPEST_QEMU_TIMEOUT); the run takes about 6 min (120 tests)
on 2 busy cores.  `config_drive` only matters to tests that log into the guest
(run_validation is off).  Skipped without qemu-system-x86_64.  Any QEMU
process left in the data dir after the server stops is killed."""

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

import gen_conf
import runner

HERE = Path(__file__).resolve().parent
GUEST_BUILD = HERE.parent / "guest" / "build.sh"

REGEX = (r"^tempest\.api\.compute\.("
         r"servers\.test_server_actions\.(?!ServerActionsV293TestJSON\.)"
         r"|servers\.test_server_rescue(_negative)?\."
         r"|volumes\."
         r"|images\.)")

SHUTDOWN_TIMEOUT_S = 10
CONCURRENCY = min(2, int(os.environ.get("FERROSTACK_TEMPEST_QEMU_CONCURRENCY", "2") or 1))
TIMEOUT = float(os.environ.get("FERROSTACK_TEMPEST_QEMU_TIMEOUT", "1800"))

# What the QEMU driver really does, on top of the fake driver's flags.
QEMU_FEATURES = {
    "rescue": True,
    "shelve": True,
    "suspend": True,
    "pause": True,
    "resize": True,
    "snapshot": True,
    "console_output": True,
    "config_drive": True,
}


def _build_guest(outdir):
    r = subprocess.run(["bash", str(GUEST_BUILD), str(outdir)], capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        pytest.fail(f"tests/guest/build.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return outdir / "guest.qcow2"


def _prepare(guest):
    def prepare(srv):
        h = runner.admin_headers(srv)
        images = []
        for name in ("tempest-guest", "tempest-guest-alt"):
            with open(guest, "rb") as f:
                images.append(runner.create_image(srv, h, name, data=f, disk_format="qcow2"))
        private = runner.create_network(srv, h, "private", "10.0.0.0/24", shared=True)
        public = runner.create_public_network(srv, h)
        runner.create_router(srv, h, private, public)
        runner._post(srv, "/volume/v3/types",
                     {"volume_type": {"name": "multiattach",
                                      "extra_specs": {"multiattach": "<is> True"}}},
                     dict(h, **{"OpenStack-API-Version": "volume 3.67"}))
        sections = gen_conf.compute_sections(
            images[0]["id"], images[1]["id"], flavor_ref="42", flavor_ref_alt="84",
            fixed_network_name="private", public_network_id=public["id"],
            floating_network_name=public["name"])
        sections["compute-feature-enabled"].update(QEMU_FEATURES)
        # Real guests take seconds, not milliseconds, to change state.
        sections["compute"]["build_timeout"] = 120
        sections["volume"] = {"volume_type_multiattach": "multiattach"}
        return sections
    return prepare


def _kill_leftover_guests(data_dir):
    """SIGKILL the QEMU processes this run's server started and left behind
    (known by the pid file in their instance dir and their command line)."""
    left = []
    for pidfile in (data_dir / "instances").glob("*/qemu.pid"):
        try:
            pid = int(pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if str(pidfile.parent).encode() in cmdline:
            left.append(pidfile.parent.name)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return left


@pytest.mark.timeout(TIMEOUT + 180)
def test_tempest_compute_qemu(tmp_path):
    if os.environ.get("FERROSTACK_SKIP_TEMPEST") == "1":
        pytest.skip("FERROSTACK_SKIP_TEMPEST=1")
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 not installed (tests/guest/install-qemu.sh)")
    guest = _build_guest(tmp_path / "guest")
    conf = tmp_path / "ferrostack.toml"
    conf.write_text("[compute]\n"
                    "driver = \"qemu\"\n"
                    "accel = \"tcg\"\n"
                    f"shutdown_timeout = {SHUTDOWN_TIMEOUT_S}\n")
    try:
        runner.run_service(
            "compute", tmp_path, _prepare(guest), name="compute-qemu", default_regex=REGEX,
            server_kwargs={"driver": "qemu", "extra_args": ["--config", str(conf)]},
            concurrency=CONCURRENCY, timeout=TIMEOUT)
    finally:
        left = _kill_leftover_guests(tmp_path / "data")
        if left:
            print(f"killed {len(left)} QEMU process(es) left behind: {', '.join(left)}")
