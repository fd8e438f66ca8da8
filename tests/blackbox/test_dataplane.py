"""The network data plane, first slice (issue 11): with `[network]
dataplane = "on"` a tenant network is a Linux bridge in a namespace of
this deployment's, each server's port a tap in it, and dnsmasq in the
network's DHCP namespace hands each port its fixed IP. Two servers on one
network get their addresses by DHCP and reach each other (over SSH from
the DHCP namespace, with the server's keypair); deleting everything
leaves only the deployment's bridge namespace. Needs root."""

import subprocess

from guesthelp import (console_lines, wait_for, requires_dataplane, dataplane_server, upload_guest,
                       ferro_ip)
from test_identity_cli import Cli

pytestmark = requires_dataplane


def _links(ns):
    out = subprocess.run(["ip", "-n", ns, "-o", "link", "show"], capture_output=True,
                         text=True, check=True).stdout
    return {l.split(":")[1].strip().split("@")[0]: l for l in out.splitlines()}


def test_two_servers_on_one_network_get_dhcp_and_reach_each_other(tmp_path):
    srv = dataplane_server(tmp_path / "data")
    try:
        srv.start()
        assert "data plane on" in srv.log()
        cli = Cli(srv)
        upload_guest(cli)
        net = cli.json("network", "create", "dp-net")
        cli.json("subnet", "create", "--network", "dp-net", "--subnet-range", "10.77.0.0/24",
                 "dp-sub")
        key = tmp_path / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
        cli.json("keypair", "create", "--public-key", str(key) + ".pub", "dp-key")
        servers = {}
        for name in ("dp-a", "dp-b"):
            s = cli.json("server", "create", "--image", "guest", "--flavor", "g.small",
                         "--network", "dp-net", "--key-name", "dp-key", "--config-drive",
                         "true", "--wait", name)
            servers[name] = s["id"]
        fixed = {n: cli.json("server", "show", n)["addresses"]["dp-net"][0]
                 for n in servers}

        # Each guest got its port's fixed IP by DHCP.
        # (udhcpc keeps asking: under load a first try may go unanswered)
        for name, sid in servers.items():
            got = wait_for(f"{name}'s DHCP lease",
                           lambda sid=sid: ferro_ip(console_lines(srv, sid)), 120)
            assert got == fixed[name]
            wait_for(f"{name}'s SSH", lambda sid=sid: "FERRO-SSH-READY"
                     in console_lines(srv, sid), 120)

        # The kernel objects: a bridge for the network, a tap per port in
        # it (a guest on the other side), DHCP in its own namespace.
        namespaces = srv.namespaces()
        br = [n for n in namespaces if n.endswith("-br")][0]
        dhcp = [n for n in namespaces if n.endswith("-dhcp-" + net["id"])][0]
        links = _links(br)
        bridge = "brq" + net["id"][:11]
        assert bridge in links
        for sid in servers.values():
            port = cli.json("port", "list", "--device-id", sid)[0]
            tap = "tap" + port["ID"][:11]
            assert f"master {bridge}" in links[tap] and "LOWER_UP" in links[tap]

        # From the DHCP namespace: SSH into dp-a with the keypair (the
        # default group lets in only its members: a rule opens port 22),
        # and from dp-a ping dp-b (a member).
        port_a = cli.json("port", "list", "--device-id", servers["dp-a"])[0]["ID"]
        default = cli.json("port", "show", port_a)["security_group_ids"][0]
        cli.json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                 default)
        ssh = ["ip", "netns", "exec", dhcp, "ssh", "-i", str(key), "-o",
               "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
               "ConnectTimeout=10", f"cirros@{fixed['dp-a']}"]
        r = subprocess.run(ssh + ["hostname"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.strip() == "dp-a", r.stderr
        r = subprocess.run(ssh + ["ping", "-c", "2", "-W", "2", fixed["dp-b"]],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr

        # kill -9, something breaks meanwhile (dp-b's tap leaves its
        # bridge), restart: the reconciler repairs it, nothing is doubled.
        before = sorted(srv.namespaces())
        port_b = cli.json("port", "list", "--device-id", servers["dp-b"])[0]["ID"]
        srv.kill9()
        subprocess.run(["ip", "-n", br, "link", "set", "tap" + port_b[:11], "nomaster"],
                       check=True)
        srv.start()
        wait_for("the tap back in its bridge",
                 lambda: f"master {bridge}" in _links(br)["tap" + port_b[:11]], 30)
        assert sorted(srv.namespaces()) == before
        r = subprocess.run(ssh + ["ping", "-c", "2", "-W", "2", fixed["dp-b"]],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr

        # Deleting the servers and the network removes their kernel objects.
        cli = Cli(srv)
        cli.run("server", "delete", "--wait", "dp-a", "dp-b")
        cli.run("network", "delete", "dp-net")
        wait_for("the DHCP namespace to go", lambda: srv.namespaces() == [br], 30)
        wait_for("the bridge and taps to go", lambda: set(_links(br)) == {"lo"}, 30)
    finally:
        srv.stop()
    assert srv.namespaces() == []
