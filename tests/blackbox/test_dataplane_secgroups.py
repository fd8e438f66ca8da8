"""Security groups in the data plane (issue 11): with the data plane on,
each guest port's security groups are enforced in the kernel (nftables in
the deployment's bridge namespace), statefully, as Neutron's firewall
drivers do. Two real guests on one network: the default group lets in only
its members, so SSH from the DHCP namespace to guest A is blocked while
guest B (a member) reaches A; a tcp/22 rule opens SSH to A, deleting it
closes it again; without port security nothing is filtered. Needs root."""

from guesthelp import (console_lines, keypair_file, ssh_from, wait_for, requires_dataplane,
                       dataplane_server, upload_guest, ferro_ip)
from test_identity_cli import Cli

pytestmark = requires_dataplane


def test_security_groups_filter_real_guests(tmp_path):
    srv = dataplane_server(tmp_path / "data")
    try:
        srv.start()
        cli = Cli(srv)
        upload_guest(cli)
        net = cli.json("network", "create", "sg-net")
        cli.json("subnet", "create", "--network", "sg-net", "--subnet-range", "10.79.0.0/24",
                 "sg-sub")
        key = keypair_file(tmp_path)
        cli.json("keypair", "create", "--public-key", str(key) + ".pub", "sg-key")
        # B is also in a group that lets SSH in: the test's way into B.
        cli.json("security", "group", "create", "sg-ssh")
        cli.json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                 "sg-ssh")
        servers = {}
        for name, groups in (("sg-a", ["default"]), ("sg-b", ["default", "sg-ssh"])):
            args = [a for g in groups for a in ("--security-group", g)]
            s = cli.json("server", "create", "--image", "guest", "--flavor", "g.small",
                         "--network", "sg-net", "--key-name", "sg-key", "--config-drive",
                         "true", *args, "--wait", name)
            servers[name] = s["id"]
        fixed = {n: cli.json("server", "show", n)["addresses"]["sg-net"][0] for n in servers}
        # DHCP passes the filter (what Neutron always allows).
        for name, sid in servers.items():
            got = wait_for(f"{name}'s DHCP lease",
                           lambda sid=sid: ferro_ip(console_lines(srv, sid)), 120)
            assert got == fixed[name]
            wait_for(f"{name}'s SSH", lambda sid=sid: "FERRO-SSH-READY"
                     in console_lines(srv, sid), 120)

        dhcp = [n for n in srv.namespaces() if n.endswith("-dhcp-" + net["id"])][0]

        def ssh(name, *command):
            return ssh_from(dhcp, key, fixed[name], *command)

        def ssh_to_a_works():
            r = ssh("sg-a", "hostname")
            return r.returncode == 0 and r.stdout.strip() == "sg-a"

        def b_reaches_a():
            r = ssh("sg-b", f"ping -c 2 -W 2 {fixed['sg-a']} && nc -z -w 3 {fixed['sg-a']} 22 "
                    "&& echo REACHED")
            return r.returncode == 0 and "REACHED" in r.stdout, r.stdout + r.stderr

        # The default group lets in only its members: the DHCP namespace's
        # address is none, B is.
        r = ssh("sg-a", "hostname")
        assert r.returncode != 0 and "timed out" in r.stderr, (r.returncode, r.stderr)
        r = ssh("sg-b", "hostname")
        assert r.returncode == 0 and r.stdout.strip() == "sg-b", r.stderr
        ok, out = b_reaches_a()
        assert ok, out

        # A rule for tcp/22 in A's group opens SSH; deleting it closes it.
        port_a = cli.json("port", "list", "--device-id", servers["sg-a"])[0]["ID"]
        default = cli.json("port", "show", port_a)["security_group_ids"]
        assert len(default) == 1
        rule = cli.json("security", "group", "rule", "create", "--protocol", "tcp",
                        "--dst-port", "22", default[0])
        wait_for("SSH to sg-a once the rule is there", ssh_to_a_works, 60)
        cli.run("security", "group", "rule", "delete", rule["id"])
        wait_for("SSH to sg-a to stop with the rule", lambda: not ssh_to_a_works(), 60)
        r = ssh("sg-a", "hostname")
        assert r.returncode != 0 and "timed out" in r.stderr, (r.returncode, r.stderr)
        # B, a member of A's group, still gets in (remote group).
        ok, out = b_reaches_a()
        assert ok, out

        # Without port security (and groups) nothing is filtered.
        cli.run("port", "set", "--no-security-group", "--disable-port-security", port_a)
        wait_for("SSH to sg-a without port security", ssh_to_a_works, 60)

        cli.run("server", "delete", "--wait", "sg-a", "sg-b")
        cli.run("network", "delete", "sg-net")
    finally:
        srv.stop()
    assert srv.namespaces() == []
