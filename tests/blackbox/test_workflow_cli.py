"""The everyday OpenStack workflow, as every tutorial teaches it, with the
real `openstack` CLI configured only by the written clouds.yaml:
token -> image -> network/subnet/router -> keypair -> server -> volume ->
floating IP -> power actions -> clean-up.
"""

import hashlib
import os

from test_identity_cli import Cli


def _row(rows, **want):
    for r in rows:
        if all(r.get(k) == v for k, v in want.items()):
            return r
    raise AssertionError(f"no row with {want} in {rows}")


def test_everyday_workflow(server, tmp_path):
    cli = Cli(server)
    cli.json("token", "issue")

    # image: upload a few MiB and check the download byte for byte
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = tmp_path / "disk.qcow2"
    src.write_bytes(data)
    img = cli.json("image", "create", "--file", str(src), "--disk-format", "qcow2",
                   "--container-format", "bare", "wf-image")
    assert img["status"] == "active"
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    out = tmp_path / "back.qcow2"
    cli.run("image", "save", "--file", str(out), "wf-image")
    assert out.read_bytes() == data

    # networks: a private net behind a router with an external gateway
    cli.json("network", "create", "--external", "wf-public")
    cli.json("subnet", "create", "--network", "wf-public", "--subnet-range", "172.24.4.0/24",
             "--no-dhcp", "wf-public-subnet")
    net = cli.json("network", "create", "wf-net")
    cli.json("subnet", "create", "--network", "wf-net", "--subnet-range", "10.10.0.0/24", "wf-subnet")
    cli.json("router", "create", "wf-router")
    cli.run("router", "add", "subnet", "wf-router", "wf-subnet")
    cli.run("router", "set", "--external-gateway", "wf-public", "wf-router")
    cli.json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "default")

    # Without --public-key the CLI prints the generated private key.
    assert "PRIVATE KEY-----" in cli.run("keypair", "create", "wf-key").stdout
    flavors = cli.json("flavor", "list")
    assert _row(flavors, Name="m1.tiny")

    # server
    srv = cli.json("server", "create", "--image", "wf-image", "--flavor", "m1.tiny",
                   "--network", "wf-net", "--key-name", "wf-key", "--wait", "wf-server")
    assert srv["status"] == "ACTIVE"
    listed = cli.json("server", "list")
    assert _row(listed, Name="wf-server")["Status"] == "ACTIVE"
    shown = cli.json("server", "show", "wf-server")
    assert "10.10.0." in str(shown["addresses"])
    ports = cli.json("port", "list", "--device-id", shown["id"])
    assert len(ports) == 1 and ports[0]["Status"] == "ACTIVE"

    # volume attach
    vol = cli.json("volume", "create", "--size", "1", "wf-vol")
    cli.run("volume", "show", "wf-vol")
    for _ in range(100):
        if cli.json("volume", "show", "wf-vol")["status"] == "available":
            break
    cli.run("server", "add", "volume", "wf-server", "wf-vol")
    v = cli.json("volume", "show", "wf-vol")
    assert v["status"] == "in-use", v
    assert v["attachments"] and v["attachments"][0]["server_id"] == shown["id"]

    # floating IP
    fip = cli.json("floating", "ip", "create", "wf-public")
    cli.run("server", "add", "floating", "ip", "wf-server", fip["floating_ip_address"])
    assert fip["floating_ip_address"] in str(cli.json("server", "show", "wf-server")["addresses"])

    # power
    cli.run("server", "stop", "wf-server")
    _wait_status(cli, "wf-server", "SHUTOFF")
    cli.run("server", "start", "wf-server")
    _wait_status(cli, "wf-server", "ACTIVE")
    cli.run("server", "reboot", "--wait", "wf-server")
    _wait_status(cli, "wf-server", "ACTIVE")

    # clean-up
    cli.run("server", "remove", "volume", "wf-server", "wf-vol")
    assert cli.json("volume", "show", "wf-vol")["status"] == "available"
    cli.run("server", "delete", "--wait", "wf-server")
    assert cli.json("server", "list") == []
    assert cli.json("port", "list", "--device-id", shown["id"]) == []
    cli.run("floating", "ip", "delete", fip["floating_ip_address"])
    cli.run("volume", "delete", "wf-vol")
    cli.run("router", "remove", "subnet", "wf-router", "wf-subnet")
    cli.run("router", "unset", "--external-gateway", "wf-router")
    cli.run("router", "delete", "wf-router")
    cli.run("network", "delete", "wf-net")
    cli.run("keypair", "delete", "wf-key")
    cli.run("image", "delete", "wf-image")
    assert net["id"] not in str(cli.json("network", "list"))


def _wait_status(cli, name, status, tries=100):
    for _ in range(tries):
        got = cli.json("server", "show", name)["status"]
        if got == status:
            return
    raise AssertionError(f"{name} never reached {status} (last {got})")
