"""Routers on the Linux data plane (issue 11): two tenant networks behind
one router whose gateway is on an external network, a server on each. The world outside that
network is a namespace of this deployment's holding the external subnet's
gateway IP (as DevStack's br-ex): from there SSH reaches a server through
its floating IP; servers reach each other across the router, and a server
without a floating IP reaches the outside through SNAT. Port, router
gateway and floating IP statuses come from the kernel. kill -9 + restart
repairs a deleted router namespace; deleting everything removes every
namespace and rule. Needs root."""

import json
import subprocess

from guesthelp import (console_lines, keypair_file, ssh_from, wait_for, requires_dataplane,
                       dataplane_server, upload_guest)
from test_identity_cli import Cli

pytestmark = requires_dataplane


def _ns_with(srv, suffix):
    found = [n for n in srv.namespaces() if n.endswith(suffix)]
    return found[0] if found else None


def test_router_snat_floating_ip_and_cleanup(tmp_path):
    srv = dataplane_server(tmp_path / "data")
    try:
        srv.start()
        before = sorted(srv.namespaces())
        cli = Cli(srv)
        upload_guest(cli)
        public = cli.json("network", "create", "--external", "--provider-network-type", "flat",
                          "--provider-physical-network", "public", "public")
        cli.json("subnet", "create", "--network", "public", "--subnet-range", "172.24.44.0/24",
                 "--gateway", "172.24.44.1", "--no-dhcp", "public-sub")
        for n in (1, 2):
            cli.json("network", "create", f"net{n}")
            cli.json("subnet", "create", "--network", f"net{n}", "--subnet-range",
                     f"10.78.{n}.0/24", f"sub{n}")
        router = cli.json("router", "create", "r1")
        cli.run("router", "set", "--external-gateway", "public", "r1")
        cli.run("router", "add", "subnet", "r1", "sub1")
        cli.run("router", "add", "subnet", "r1", "sub2")
        # Let SSH and ping in (the default group lets in only its members).
        cli.run("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                "default")
        cli.run("security", "group", "rule", "create", "--protocol", "icmp", "default")
        key = keypair_file(tmp_path)
        cli.json("keypair", "create", "--public-key", str(key) + ".pub", "k")
        ids = {}
        for name, net in (("vm1", "net1"), ("vm3", "net2")):
            ids[name] = cli.json("server", "create", "--image", "guest", "--flavor", "g.small",
                                 "--network", net, "--key-name", "k", "--config-drive", "true",
                                 "--wait", name)["id"]
        fixed = {n: list(cli.json("server", "show", n)["addresses"].values())[0][0]
                 for n in ids}
        fip = cli.json("floating", "ip", "create", "public")
        cli.run("server", "add", "floating", "ip", "vm1", fip["floating_ip_address"])
        fip_addr = fip["floating_ip_address"]
        for name, sid in ids.items():
            wait_for(f"{name}'s SSH", lambda sid=sid: "FERRO-SSH-READY"
                     in console_lines(srv, sid), 180)

        outside = _ns_with(srv, "-ext-" + public["id"])
        rns = _ns_with(srv, "-r-" + router["id"])
        assert outside and rns, srv.namespaces()
        # The floating IP, the router's legs and the servers' ports are up.
        wait_for("the floating IP to be ACTIVE", lambda: cli.json(
            "floating", "ip", "show", fip["id"])["status"] == "ACTIVE", 30)
        for p in cli.json("port", "list", "--device-id", router["id"]) + [
                cli.json("port", "list", "--device-id", sid)[0] for sid in ids.values()]:
            wait_for(f"port {p['ID']} ACTIVE", lambda p=p: cli.json(
                "port", "show", p["ID"])["status"] == "ACTIVE", 30)
        port = cli.json("port", "show", cli.json("port", "list", "--device-id",
                                                 ids["vm1"])[0]["ID"])
        assert port["binding_vif_type"] == "bridge" and port["binding_host_id"]

        # From the outside world: SSH in through the floating IP.
        r = ssh_from(outside, key, fip_addr, "hostname")
        assert r.returncode == 0 and r.stdout.strip() == "vm1", r.stderr
        # The metadata service is the router's for routed networks (DHCP
        # routes 169.254.169.254 via the gateway): vm1's public-ipv4 is its
        # floating IP (tempest's verify_metadata), vm3 reads its own uuid.
        r = ssh_from(outside, key, fip_addr, "curl", "-s", "-m", "10",
                     "http://169.254.169.254/latest/meta-data/public-ipv4")
        assert r.returncode == 0 and r.stdout == fip_addr, r.stdout + r.stderr
        r = ssh_from(rns, key, fixed["vm3"], "ip route show 169.254.169.254; curl -s -m 10 "
                     "http://169.254.169.254/openstack/latest/meta_data.json")
        route, _, doc = r.stdout.partition("\n")
        assert "via 10.78.2.1" in route and json.loads(doc)["uuid"] == ids["vm3"], r.stdout
        # vm1 reaches vm3 across the router (one network: test_dataplane.py).
        r = ssh_from(outside, key, fip_addr, "ping", "-c", "2", "-W", "2", fixed["vm3"])
        assert r.returncode == 0, r.stdout + r.stderr
        # vm3 has no floating IP: from the router's namespace we log in, and
        # it reaches the outside world's host through SNAT.
        r = ssh_from(rns, key, fixed["vm3"], "ping", "-c", "2", "-W", "2", "172.24.44.1")
        assert r.returncode == 0, r.stdout + r.stderr
        # The outside world cannot reach fixed IPs.
        r = subprocess.run(["ip", "netns", "exec", outside, "ping", "-c", "1", "-W", "1",
                            fixed["vm1"]], capture_output=True)
        assert r.returncode != 0

        # admin_state_up = false takes a router out of the data plane (its
        # namespace goes) and a port's tap down; true brings them back.
        def ssh_ok():
            return ssh_from(outside, key, fip_addr, "hostname", timeout=20).returncode == 0

        vm1_port = port["id"]
        for disable, enable, what in (
                (("router", "set", "--disable", "r1"), ("router", "set", "--enable", "r1"),
                 "router"),
                (("port", "set", "--disable", vm1_port), ("port", "set", "--enable", vm1_port),
                 "port")):
            cli.run(*disable)
            wait_for(f"no SSH with the {what} down", lambda: not ssh_ok(), 30)
            if what == "router":
                assert rns not in srv.namespaces()
            else:
                wait_for("the port DOWN", lambda: cli.json(
                    "port", "show", vm1_port)["status"] == "DOWN", 30)
            cli.run(*enable)
            wait_for(f"SSH with the {what} up again", ssh_ok, 60)
        wait_for("the port ACTIVE again", lambda: cli.json(
            "port", "show", vm1_port)["status"] == "ACTIVE", 30)

        # Interface attach hot-plugs a NIC into the running guest (its DHCP
        # client takes the new port's address); detach unplugs it.
        cli.run("server", "add", "network", "vm3", "net1")
        added = [p for p in cli.json("port", "list", "--device-id", ids["vm3"], "--long")
                 if p["Fixed IP Addresses"][0]["subnet_id"] == cli.json(
                     "subnet", "show", "sub1")["id"]]
        assert len(added) == 1, added
        new_ip = added[0]["Fixed IP Addresses"][0]["ip_address"]

        def vm3_addresses():
            return ssh_from(rns, key, fixed["vm3"], "ip -o -4 addr show", timeout=20).stdout

        wait_for("the hot-plugged NIC's address in vm3", lambda: new_ip in vm3_addresses(), 90)
        r = ssh_from(rns, key, fixed["vm3"], "ping", "-c", "2", "-W", "2", fixed["vm1"])
        assert r.returncode == 0, r.stdout + r.stderr
        cli.run("server", "remove", "network", "vm3", "net1")
        wait_for("the port released", lambda: len(cli.json(
            "port", "list", "--device-id", ids["vm3"])) == 1, 60)
        wait_for("the NIC gone from vm3", lambda: (lambda out: new_ip not in out and fixed["vm3"]
                                                   in out)(vm3_addresses()), 60)

        # kill -9; the router's namespace is lost meanwhile; restart: the
        # reconciler rebuilds it and traffic flows again, nothing doubled.
        srv.kill9()
        subprocess.run(["ip", "netns", "del", rns], check=True)
        srv.start()
        wait_for("the router namespace back", lambda: rns in srv.namespaces(), 30)
        r = wait_for("SSH through the floating IP again",
                     lambda: (lambda r: r if r.returncode == 0 else None)(
                         ssh_from(outside, key, fip_addr, "hostname", timeout=20)), 60)
        assert r.stdout.strip() == "vm1"
        rules = subprocess.run(["ip", "netns", "exec", rns, "nft", "list", "ruleset"],
                               capture_output=True, text=True, check=True).stdout
        assert rules.count("table ip ferro") == 1 and rules.count(f"dnat to {fixed['vm1']}") == 2

        # Disassociated: the floating IP goes DOWN and stops answering.
        cli = Cli(srv)
        cli.run("server", "remove", "floating", "ip", "vm1", fip_addr)
        wait_for("the floating IP to be DOWN", lambda: cli.json(
            "floating", "ip", "show", fip["id"])["status"] == "DOWN", 30)
        r = ssh_from(outside, key, fip_addr, "hostname", timeout=20)
        assert r.returncode != 0

        # Everything deleted: the namespaces are what they were before.
        cli.run("server", "delete", "--wait", *ids)
        cli.run("floating", "ip", "delete", fip["id"])
        cli.run("router", "remove", "subnet", "r1", "sub1")
        cli.run("router", "remove", "subnet", "r1", "sub2")
        cli.run("router", "unset", "--external-gateway", "r1")
        cli.run("router", "delete", "r1")
        cli.run("network", "delete", "net1", "net2", "public")
        wait_for("only the bridge namespace", lambda: sorted(srv.namespaces()) == before, 30)
        br = before[0]
        links = subprocess.run(["ip", "-n", br, "-o", "link", "show"], capture_output=True,
                               text=True, check=True).stdout.splitlines()
        assert len(links) == 1, links  # lo
    finally:
        srv.stop()
    assert srv.namespaces() == []
