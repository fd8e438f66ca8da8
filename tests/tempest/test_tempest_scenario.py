"""tempest.scenario on real guests and the real data plane (issue 11):
ferrostack with the QEMU driver (TCG) and `[network] dataplane = "on"`,
`[validation] run_validation = true`: tempest boots guests, gives them
floating IPs on the external network "public", and logs in over SSH with
its keypair (user cirros) to check what they see.

Where tempest runs: inside the namespace that plays the world outside
"public" (`<prefix>-ext-<public id>`, holding the subnet's gateway
172.24.4.1), the only place floating IPs answer — the host's own namespace
is never changed. Its API calls to 127.0.0.1:<port> are carried to the
server by nsforward.Forwarder.

The tests (FERROSTACK_TEMPEST_SCENARIO_REGEX overrides): test_server_basic_ops,
test_network_basic_ops, test_security_groups_basic_ops, test_minimum_basic,
test_volume_boot_pattern, test_snapshot_pattern, test_server_multinode;
compared with known-failures-scenario.txt. Needs root, QEMU, nft, dnsmasq.

Part of the default suite (15-18 minutes on 2 cores; the guests run
under TCG). FERROSTACK_SKIP_TEMPEST=1 skips it with the other tempest runs,
FERROSTACK_SKIP_TEMPEST_SCENARIO=1 alone."""

import os
import shutil
from pathlib import Path

import pytest

import gen_conf
import runner
from test_tempest_compute_qemu import QEMU_FEATURES, _build_guest, _kill_leftover_guests
from test_tempest_compute import V293

REGEX = (r"^tempest\.(scenario\.("
         r"test_server_basic_ops|test_network_basic_ops|test_security_groups_basic_ops"
         r"|test_minimum_basic|test_volume_boot_pattern|test_snapshot_pattern"
         r"|test_server_multinode)"
         # An API test that logs into its guest over SSH whatever
         # run_validation says: it runs here, where guests are reachable.
         r"|" + V293 + r")\.")

CONCURRENCY = min(2, int(os.environ.get("FERROSTACK_TEMPEST_QEMU_CONCURRENCY", "2") or 1))
# 18 min here when the other worker runs QEMU tests too; CI machines are slower.
TIMEOUT = float(os.environ.get("FERROSTACK_TEMPEST_SCENARIO_TIMEOUT", "2400"))


def _prepare(guest):
    def prepare(srv):
        h = runner.admin_headers(srv)
        images = []
        for name in ("tempest-guest", "tempest-guest-alt"):
            with open(guest, "rb") as f:
                images.append(runner.create_image(srv, h, name, data=f, disk_format="qcow2"))
        public = runner.create_public_network(srv, h)
        sections = gen_conf.compute_sections(
            images[0]["id"], images[1]["id"], flavor_ref="42", flavor_ref_alt="84",
            public_network_id=public["id"], floating_network_name=public["name"])
        sections["compute-feature-enabled"].update(QEMU_FEATURES)
        sections["compute-feature-enabled"]["metadata_service"] = True
        # tempest's own defaults (300 s): CI machines under load are slow.
        sections["compute"]["build_timeout"] = 300
        sections["volume"] = {"build_timeout": 300}
        sections["image"] = {"build_timeout": 300}
        net = gen_conf.network_sections(public["id"], public["name"])
        for name, opts in net.items():
            sections.setdefault(name, {}).update(opts)
        sections["network"].update({"build_timeout": 300, "project_networks_reachable": False})
        sections["validation"] = {
            "run_validation": True,
            "connect_method": "floating",
            "auth_method": "keypair",
            "image_ssh_user": "cirros",
            "image_alt_ssh_user": "cirros",
            "image_ssh_password": "password",
            "ip_version_for_ssh": 4,
            "ping_timeout": 120,
            "connect_timeout": 60,
            "ssh_timeout": 300,
            "floating_ip_range": "172.24.4.0/24",
        }
        sections["scenario"] = {
            "img_file": str(guest),
            "img_disk_format": "qcow2",
            "img_container_format": "bare",
            "dhcp_client": "udhcpc",
            # The test guest's root is an initramfs: files that must
            # survive a reboot or a snapshot go to its boot disk's file
            # system (cirros needs no such setting: its root is its disk).
            "target_dir": "/disk",
        }
        sections["service_available"] = {"nova": True, "neutron": True, "glance": True,
                                         "cinder": True}
        # As DevStack: each test project gets its own network, subnet and
        # router (gateway on "public"), so servers booted without a network
        # get a port there.
        sections["auth"] = {"create_isolated_networks": True}
        return sections
    return prepare


def _outside(srv):
    """The outside-world namespace of "public"."""
    prefix = (srv.data_dir / "netplane" / "prefix").read_text().strip()
    found = [n for n in srv.namespaces() if n.startswith(prefix + "-ext-")]
    assert len(found) == 1, srv.namespaces()
    return found[0]


@pytest.mark.timeout(TIMEOUT + 240)
def test_tempest_scenario(tmp_path):
    if os.environ.get("FERROSTACK_SKIP_TEMPEST") == "1":
        pytest.skip("FERROSTACK_SKIP_TEMPEST=1")
    if os.environ.get("FERROSTACK_SKIP_TEMPEST_SCENARIO") == "1":
        pytest.skip("FERROSTACK_SKIP_TEMPEST_SCENARIO=1")
    missing = [t for t in ("qemu-system-x86_64", "nft", "dnsmasq", "ip")
               if shutil.which(t) is None]
    if missing or os.geteuid() != 0:
        pytest.skip(f"needs root and {', '.join(missing) or 'nothing more'}")
    guest = _build_guest(tmp_path / "guest")
    conf = tmp_path / "ferrostack.toml"
    conf.write_text("[compute]\ndriver = \"qemu\"\naccel = \"tcg\"\nshutdown_timeout = 10\n"
                    "[network]\ndataplane = \"on\"\n")
    try:
        runner.run_service(
            "scenario", tmp_path, _prepare(guest), name="scenario", default_regex=REGEX,
            server_kwargs={"driver": "qemu", "extra_args": ["--config", str(conf)],
                           "env": {"FERROSTACK_NETWORK_DATAPLANE": "on"}},
            concurrency=CONCURRENCY, timeout=TIMEOUT, namespace=_outside)
    finally:
        left = _kill_leftover_guests(tmp_path / "data")
        if left:
            print(f"killed {len(left)} QEMU process(es) left behind: {', '.join(left)}")
