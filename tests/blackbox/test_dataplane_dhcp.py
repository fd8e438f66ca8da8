"""The DHCP server follows its network's subnets (issue 11), as Neutron's
DHCP agent does: a DHCP subnet added later gets an address on the
network's DHCP port and in its namespace (dnsmasq serves it); a subnet
removed takes its address away again. No guests needed: the fake driver
with the data plane on. Needs root."""

import json
import os
import shutil
import subprocess

import pytest

import ferro
from guesthelp import wait_for
from test_identity_cli import Cli

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the data plane needs root"),
    pytest.mark.skipif(any(shutil.which(t) is None for t in ("ip", "dnsmasq", "nft")),
                       reason="needs ip, dnsmasq, nft (.ci/run installs them)"),
]


def _addresses(ns):
    out = subprocess.run(["ip", "-n", ns, "-j", "-4", "addr", "show"], capture_output=True,
                         text=True, check=True).stdout
    return sorted(f"{a['local']}/{a['prefixlen']}" for link in json.loads(out)
                  for a in link.get("addr_info", []) if a.get("scope") == "global")


# The network has no router: its DHCP server serves the metadata service too.
METADATA = "169.254.169.254/32"


def test_dhcp_port_follows_the_networks_subnets(tmp_path):
    srv = ferro.Server(tmp_path / "data", env={"FERROSTACK_NETWORK_DATAPLANE": "on"})
    try:
        srv.start()
        cli = Cli(srv)
        net = cli.json("network", "create", "dhcp-net")
        cli.json("subnet", "create", "--network", "dhcp-net", "--subnet-range",
                 "10.81.1.0/24", "first")

        def dhcp_port():
            ports = cli.json("port", "list", "--network", net["id"], "--device-owner",
                             "network:dhcp", "--long")
            return ports[0] if ports else None

        def ips():
            p = dhcp_port()
            return sorted(ip["ip_address"] for ip in p["Fixed IP Addresses"]) if p else []

        wait_for("the DHCP port", lambda: len(ips()) == 1, 30)
        first_ip = ips()[0]
        ns = wait_for("the DHCP namespace", lambda: next(
            (n for n in srv.namespaces() if n.endswith("-dhcp-" + net["id"])), None), 30)
        wait_for("its address", lambda: _addresses(ns) == sorted([f"{first_ip}/24", METADATA]), 30)

        # A second DHCP subnet: the same port gets an address on it too.
        cli.json("subnet", "create", "--network", "dhcp-net", "--subnet-range",
                 "10.81.2.0/24", "second")
        wait_for("a DHCP address on the new subnet",
                 lambda: any(ip.startswith("10.81.2.") for ip in ips()), 30)
        second_ip = next(ip for ip in ips() if ip.startswith("10.81.2."))
        wait_for("both addresses in the namespace",
                 lambda: _addresses(ns) == sorted([f"{first_ip}/24", f"{second_ip}/24", METADATA]), 30)
        # dnsmasq serves both ranges.
        args = (srv.data_dir / "netplane" / "dhcp" / net["id"] / "args").read_text()
        assert "10.81.1.0" in args and "10.81.2.0" in args, args

        # The subnet goes: so do its address on the port and in the namespace.
        cli.run("subnet", "delete", "second")
        wait_for("the port back to one address", lambda: ips() == [first_ip], 30)
        wait_for("the namespace back to one address",
                 lambda: _addresses(ns) == sorted([f"{first_ip}/24", METADATA]), 30)
    finally:
        srv.stop()
    assert srv.namespaces() == []
