"""The metadata service (issue 11): with the data plane on, a network
without a router serves http://169.254.169.254/ from its DHCP namespace
(Neutron's isolated metadata; DHCP gives the guests a host route to it).
Two real guests on one network, booted without a config drive — so their
SSH keys come from the metadata service only — read their own documents
(OpenStack and EC2 trees) and never the other's; the password a guest
posts once (then 409) shows in the compute API; after kill -9 and a
restart, and after the DHCP namespace was deleted under the process, it
answers again. Needs root."""

import base64
import json
import re
import subprocess
import sys

from guesthelp import console_lines, wait_for, requires_dataplane, dataplane_server, upload_guest
from test_identity_cli import Cli

pytestmark = requires_dataplane

MD = "http://169.254.169.254"


def _has_ip(lines, address):
    """Whether some NIC of the guest got `address` (a guest with two NICs
    may see its ports in either order)."""
    return any(re.match(rf"FERRO-IP eth\d+={re.escape(address)}/\d+", l) for l in lines)


def _metadata_marker(lines):
    """The guest's own metadata client's result (init.sh), once it has one."""
    for line in lines:
        if line.startswith("FERRO-METADATA {"):
            return json.loads(line.split(" ", 1)[1])
    return None


class Guest:
    """SSH into a guest from the network's DHCP namespace, with the key."""

    def __init__(self, dhcp_ns, key, ip):
        self.cmd = ["ip", "netns", "exec", dhcp_ns, "ssh", "-i", str(key), "-o",
                    "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                    "ConnectTimeout=10", "-o", "LogLevel=ERROR", f"cirros@{ip}"]

    def run(self, command, timeout=60):
        return subprocess.run(self.cmd + [command], capture_output=True, text=True,
                              timeout=timeout)

    def get(self, path):
        """The body of GET 169.254.169.254<path> from inside the guest."""
        return self.batch([path])[0][1]

    def batch(self, requests):
        """[(status, body)] of each request from inside the guest, in one SSH
        session (each one costs seconds under TCG). A request is a path
        (GET) or (path, data to POST or None). busybox wget names the
        status of a failed request."""
        script = []
        for req in requests:
            path, post = (req, None) if isinstance(req, str) else req
            data = f"--post-data '{post}' " if post is not None else ""
            script.append(f"timeout 30 wget -q -O /tmp/o {data}'{MD}{path}' 2>/tmp/e; rc=$?; "
                          "echo \"$rc $(base64 </tmp/o | tr -d '\\n') "
                          "$(base64 </tmp/e | tr -d '\\n')\"; rm -f /tmp/o")
        # (a guest under TCG on a busy machine is slow: give it time)
        r = self.run("\n".join(script), timeout=60 + 15 * len(requests))
        lines = r.stdout.splitlines()
        assert len(lines) == len(requests), (r.stdout, r.stderr)
        out = []
        for req, line in zip(requests, lines):
            rc, body, err = (line.split(" ") + ["", ""])[:3]
            body = base64.b64decode(body).decode()
            if rc == "0":
                out.append((200, body))
                continue
            m = re.search(r"HTTP/1\.[01] (\d{3})", base64.b64decode(err).decode())
            assert m, (req, line)
            out.append((int(m.group(1)), body))
        return out


def _from_namespace(ns, path):
    """(status, body) of GET 169.254.169.254<path> from inside namespace
    `ns` (its source address belongs to no guest)."""
    code = ("import sys, urllib.request, urllib.error\n"
            "try:\n"
            f"    r = urllib.request.urlopen('{MD}{path}', timeout=10)\n"
            "    print(r.status); print(r.read().decode(), end='')\n"
            "except urllib.error.HTTPError as e:\n"
            "    print(e.code)\n")
    out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    status, _, body = out.partition("\n")
    return int(status), body


def _listeners(ns):
    out = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hltn"], capture_output=True,
                         text=True, check=True).stdout
    return [l for l in out.splitlines() if "169.254.169.254:80" in l]


def test_two_guests_read_their_own_metadata(tmp_path):
    srv = dataplane_server(tmp_path / "data")
    try:
        srv.start()
        cli = Cli(srv)
        upload_guest(cli)
        net = cli.json("network", "create", "md-net")
        cli.json("subnet", "create", "--network", "md-net", "--subnet-range", "10.78.0.0/24",
                 "md-sub")
        # A second network without DHCP: its address comes to the guest
        # statically, in network_data.json.
        static = cli.json("network", "create", "md-static")
        cli.json("subnet", "create", "--network", "md-static", "--subnet-range",
                 "10.79.0.0/24", "--no-dhcp", "--gateway", "10.79.0.1", "--dns-nameserver",
                 "10.79.0.53", "--host-route", "destination=192.168.50.0/24,gateway=10.79.0.254",
                 "md-static-sub")
        # SSH in (the default group lets in only its members).
        cli.run("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                "default")
        key = tmp_path / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
        pubkey = (tmp_path / "id_ed25519.pub").read_text().strip()
        cli.json("keypair", "create", "--public-key", str(key) + ".pub", "md-key")
        servers = {}
        for name in ("md-a", "md-b"):
            ud = tmp_path / f"{name}.ud"
            ud.write_text(f"#cloud-config\n# user data of {name}\n")
            # No config drive: the keys can only come from the metadata
            # service.
            nets = ["--network", "md-net"]
            if name == "md-b":
                nets += ["--network", "md-static"]
            s = cli.json("server", "create", "--image", "guest", "--flavor", "g.small",
                         *nets, "--key-name", "md-key", "--user-data",
                         str(ud), "--property", f"role={name}", "--wait", name)
            servers[name] = s["id"]
        fixed = {n: cli.json("server", "show", n)["addresses"]["md-net"][0] for n in servers}
        dhcp = [n for n in srv.namespaces() if n.endswith("-dhcp-" + net["id"])][0]
        dhcp_port = cli.json("port", "list", "--network", "md-net", "--device-owner",
                             "network:dhcp", "-c", "Fixed IP Addresses")[0]
        dhcp_ip = re.search(r"\d+\.\d+\.\d+\.\d+", str(dhcp_port)).group(0)

        # The DHCP namespace holds the address; the process listens there.
        addrs = subprocess.run(["ip", "-n", dhcp, "-o", "addr"], capture_output=True,
                               text=True, check=True).stdout
        assert "169.254.169.254/32" in addrs
        assert len(_listeners(dhcp)) == 1

        guests = {}
        for name, sid in servers.items():
            wait_for(f"{name}'s DHCP lease",
                     lambda sid=sid, n=name: _has_ip(console_lines(srv, sid), fixed[n]), 120)
            # The guest's own client (init.sh) read its document at boot.
            md = wait_for(f"{name}'s metadata",
                          lambda sid=sid: _metadata_marker(console_lines(srv, sid)), 120)
            assert md["uuid"] == sid
            wait_for(f"{name}'s SSH", lambda sid=sid: "FERRO-SSH-READY"
                     in console_lines(srv, sid), 120)
            guests[name] = Guest(dhcp, key, fixed[name])

        for name, g in guests.items():
            sid = servers[name]
            other = servers["md-b" if name == "md-a" else "md-a"]
            # DHCP told the guest the way: a host route via the DHCP port.
            route = g.run("ip route show 169.254.169.254").stdout
            assert f"via {dhcp_ip}" in route, route
            # SSH worked with the key, which only the metadata service gave.
            assert g.run("hostname").stdout.strip() == name

            paths = ["/openstack/latest/meta_data.json", "/openstack/latest/user_data",
                     "/openstack/latest/", "/openstack", "/openstack/latest/network_data.json",
                     "/openstack/latest/vendor_data2.json",
                     "/latest/meta-data/instance-id", "/latest/meta-data/local-ipv4",
                     "/latest/meta-data/public-ipv4", "/latest/meta-data/hostname",
                     "/latest/meta-data/public-keys/",
                     "/latest/meta-data/public-keys/0/openssh-key",
                     "/latest/meta-data/instance-type",
                     "/latest/meta-data/placement/availability-zone",
                     "/latest/meta-data/security-groups", "/latest/meta-data/",
                     "/latest/user-data", "/",
                     # 404s, as Nova
                     "/openstack/latest/nothing", "/openstack/1999-01-01/meta_data.json",
                     "/latest/meta-data/nothing", "/2099-01-01/meta-data/"]
            got = dict(zip(paths, g.batch(paths)))
            for p in paths[:-4]:
                assert got[p][0] == 200, (p, got[p])
            for p in paths[-4:]:
                assert got[p][0] == 404, (p, got[p])
            body = {p: b for p, (_, b) in got.items()}

            md = json.loads(body["/openstack/latest/meta_data.json"])
            assert md["uuid"] == sid
            assert md["name"] == name and md["hostname"] == f"{name}.novalocal"
            # (the key as uploaded, newline and all)
            assert {k: v.strip() for k, v in md["public_keys"].items()} == {"md-key": pubkey}
            assert md["meta"] == {"role": name}
            user_data = f"#cloud-config\n# user data of {name}\n"
            assert body["/openstack/latest/user_data"] == user_data
            assert body["/openstack/latest/"].split() == [
                "meta_data.json", "user_data", "password", "vendor_data.json",
                "network_data.json", "vendor_data2.json"]
            assert "latest" in body["/openstack"].split()
            nd = json.loads(body["/openstack/latest/network_data.json"])
            links = {l["ethernet_mac_address"]: l for l in nd["links"]}
            nets = {n["link"]: n for n in nd["networks"]}
            port = cli.json("port", "list", "--device-id", sid, "--network", "md-net")[0]
            link = links[port["MAC Address"]]
            assert link["id"] == "tap" + port["ID"][:11] and link["mtu"] is None  # DHCP tells it
            assert nets[link["id"]] == {"id": nets[link["id"]]["id"], "type": "ipv4_dhcp",
                                        "link": link["id"], "network_id": net["id"]}
            assert json.loads(body["/openstack/latest/vendor_data2.json"]) == {"static": {}}
            if name == "md-b":
                # The subnet without DHCP: static, as Nova writes it.
                sport = cli.json("port", "list", "--device-id", sid, "--network", "md-static")[0]
                ip = cli.json("server", "show", name)["addresses"]["md-static"][0]
                slink = links[sport["MAC Address"]]
                assert slink["mtu"] == static["mtu"]
                assert nets[slink["id"]] == {
                    "id": nets[slink["id"]]["id"], "type": "ipv4", "link": slink["id"],
                    "ip_address": ip, "netmask": "255.255.255.0",
                    "routes": [
                        {"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.79.0.1"},
                        {"network": "192.168.50.0", "netmask": "255.255.255.0",
                         "gateway": "10.79.0.254"}],
                    "network_id": static["id"],
                    "services": [{"type": "dns", "address": "10.79.0.53"}]}
                assert nd["services"] == [{"type": "dns", "address": "10.79.0.53"}]
                assert sorted(n["id"] for n in nd["networks"]) == ["network0", "network1"]
            else:
                assert len(nd["networks"]) == 1 and nd["services"] == []

            # The EC2 tree.
            assert body["/latest/meta-data/instance-id"] == "i-" + sid[:8]
            # (its first port's first IPv4 address: md-b has two ports)
            own = [a for ips in cli.json("server", "show", name)["addresses"].values()
                   for a in ips]
            assert body["/latest/meta-data/local-ipv4"] in own
            assert name == "md-b" or body["/latest/meta-data/local-ipv4"] == fixed[name]
            assert body["/latest/meta-data/public-ipv4"] == ""
            assert body["/latest/meta-data/hostname"] == f"{name}.novalocal"
            assert body["/latest/meta-data/public-keys/"] == "0=md-key"
            assert body["/latest/meta-data/public-keys/0/openssh-key"].strip() == pubkey
            assert body["/latest/meta-data/instance-type"] == "g.small"
            assert body["/latest/meta-data/placement/availability-zone"] == "nova"
            assert body["/latest/meta-data/security-groups"] == "default"
            ec2 = body["/latest/meta-data/"].split("\n")
            for item in ("ami-id", "block-device-mapping/", "instance-id", "local-ipv4",
                         "public-keys/", "reservation-id", "placement/"):
                assert item in ec2, ec2
            assert body["/latest/user-data"] == user_data
            assert body["/"].split("\n")[-1] == "latest"

            # Never the other guest's: nothing it read names the other.
            everything = "".join(body.values())
            assert other not in everything and other[:8] not in everything
            assert fixed["md-b" if name == "md-a" else "md-a"] not in everything

        # Somebody who is no guest (the namespace itself): only `/`.
        assert _from_namespace(dhcp, "/openstack/latest/meta_data.json")[0] == 404
        status, body = _from_namespace(dhcp, "/")
        assert status == 200 and body.split("\n")[-1] == "latest"

        # The password: posted once, then 409; the guest reads its own,
        # the other guest does not see it; the compute API shows it.
        a, b = guests["md-a"], guests["md-b"]
        pw = "/openstack/latest/password"
        assert a.batch([pw, (pw, "c2VjcmV0LW9mLWE="), ("/openstack/2013-04-04/password", "again"),
                        pw]) == [(200, ""), (200, ""), (409, ""), (200, "c2VjcmV0LW9mLWE=")]
        assert b.get(pw) == ""
        import openstack
        conn = openstack.connect(auth_url=srv.identity_url + "/v3", username="admin",
                                 password=srv.admin_password, project_name="admin",
                                 user_domain_id="default", project_domain_id="default")
        assert conn.compute.get_server_password(servers["md-a"]) == "c2VjcmV0LW9mLWE="
        assert conn.compute.get_server_password(servers["md-b"]) == ""
        # Cleared through the API, the guest may post a new one.
        conn.compute.clear_server_password(servers["md-a"])
        assert a.batch([pw, (pw, "bmV3")]) == [(200, ""), (200, "")]
        assert conn.compute.get_server_password(servers["md-a"]) == "bmV3"

        # kill -9 and restart: the process listens again (once).
        srv.kill9()
        srv.start()
        wait_for("the metadata service back after kill -9",
                 lambda: a.run(f"curl -s -m 5 {MD}/latest/meta-data/instance-id").stdout
                 == "i-" + servers["md-a"][:8], 60)
        assert len(_listeners(dhcp)) == 1

        # The DHCP namespace deleted under the process: the reconciler makes
        # it again, dnsmasq and the listener follow it there.
        subprocess.run(["ip", "netns", "del", dhcp], check=True)
        wait_for("the metadata service in the new namespace",
                 lambda: a.run(f"curl -s -m 5 {MD}/latest/meta-data/local-ipv4").stdout
                 == fixed["md-a"], 90)
        assert len(_listeners(dhcp)) == 1
        pid = int((srv.data_dir / "netplane" / "dhcp" / net["id"] / "pid").read_text())
        assert subprocess.run(["ip", "netns", "identify", str(pid)], capture_output=True,
                              text=True).stdout.strip() == dhcp
        assert "the namespace was made anew" in srv.log()

        # Everything deleted: the DHCP namespace goes and the listener with it.
        cli = Cli(srv)
        cli.run("server", "delete", "--wait", "md-a", "md-b")
        cli.run("network", "delete", "md-net", "md-static")
        wait_for("the DHCP namespace to go", lambda: dhcp not in srv.namespaces(), 30)
        wait_for("the listener to close", lambda: "stopped listening there" in srv.log(), 30)
    finally:
        srv.stop()
    assert srv.namespaces() == []
