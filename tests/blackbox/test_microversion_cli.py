"""The `openstack` CLI and openstacksdk at their default microversion
negotiation (compute up to the SDK's 2.100, block storage up to 3.71), on
the features those versions bring: server tags, description and host name,
keypair types, `--nic none` / `--nic auto`, a multiattach volume on two
servers, and volume transfers."""

import openstack
import requests

from test_identity_cli import Cli


def _setup(cli, tmp_path):
    img = tmp_path / "disk.img"
    img.write_bytes(b"\0" * 65536)
    cli.json("image", "create", "--file", str(img), "--disk-format", "raw",
             "--container-format", "bare", "--public", "mv-image")
    cli.json("network", "create", "mv-net")
    cli.json("subnet", "create", "--network", "mv-net", "--subnet-range", "10.44.0.0/24", "mv-subnet")


def test_server_features_with_the_cli(server, tmp_path):
    cli = Cli(server)
    _setup(cli, tmp_path)
    srv = cli.json("server", "create", "--image", "mv-image", "--flavor", "m1.nano",
                   "--network", "mv-net", "--tag", "web", "--tag", "blue",
                   "--description", "front end", "--hostname", "front-1", "--wait", "mv-a")
    assert srv["status"] == "ACTIVE"
    shown = cli.json("server", "show", "mv-a")
    assert sorted(shown["tags"]) == ["blue", "web"]
    assert shown["description"] == "front end"
    assert shown["OS-EXT-SRV-ATTR:hostname"] == "front-1"
    listed = cli.json("server", "list", "--tags", "web")
    assert [r["Name"] for r in listed] == ["mv-a"]
    assert cli.json("server", "list", "--tags", "green") == []
    cli.run("server", "set", "--description", "changed", "mv-a")
    assert cli.json("server", "show", "mv-a")["description"] == "changed"

    key = cli.json("keypair", "create", "--type", "ssh", "--public-key",
                   str(_pubkey(tmp_path)), "mv-key")
    assert key["type"] == "ssh"

    none = cli.json("server", "create", "--image", "mv-image", "--flavor", "m1.nano",
                    "--nic", "none", "--wait", "mv-none")
    assert none["status"] == "ACTIVE"
    assert cli.json("port", "list", "--device-id", none["id"]) == []


def test_nic_auto_uses_the_auto_allocated_topology(server, tmp_path):
    cli = Cli(server)
    img = tmp_path / "disk.img"
    img.write_bytes(b"\0" * 65536)
    cli.json("image", "create", "--file", str(img), "--disk-format", "raw",
             "--container-format", "bare", "--public", "auto-image")
    cli.json("network", "create", "--external", "--default", "auto-public")
    cli.json("subnet", "create", "--network", "auto-public", "--subnet-range", "172.25.0.0/24",
             "--no-dhcp", "auto-public-subnet")
    srv = cli.json("server", "create", "--image", "auto-image", "--flavor", "m1.nano",
                   "--nic", "auto", "--wait", "auto-srv")
    assert srv["status"] == "ACTIVE"
    ports = cli.json("port", "list", "--device-id", srv["id"])
    assert len(ports) == 1
    topo = cli.json("network", "auto", "allocated", "topology", "create", "--or-show")
    net = cli.json("network", "show", topo["id"])
    assert ports[0]["ID"] in str(cli.json("port", "list", "--network", net["id"]))


def test_multiattach_and_transfer(server, tmp_path):
    cli = Cli(server)
    _setup(cli, tmp_path)
    cli.json("volume", "type", "create", "--property", "multiattach=<is> True", "multi")
    vol = cli.json("volume", "create", "--size", "1", "--type", "multi", "shared-vol")
    assert vol["multiattach"] is True
    for name in ("ma-1", "ma-2"):
        cli.json("server", "create", "--image", "mv-image", "--flavor", "m1.nano",
                 "--network", "mv-net", "--wait", name)
    _wait_volume(cli, "shared-vol", "available")
    cli.run("server", "add", "volume", "ma-1", "shared-vol")
    cli.run("server", "add", "volume", "ma-2", "shared-vol")
    shown = cli.json("volume", "show", "shared-vol")
    assert shown["status"] == "in-use"
    assert len(shown["attachments"]) == 2
    cli.run("server", "remove", "volume", "ma-1", "shared-vol")
    cli.run("server", "remove", "volume", "ma-2", "shared-vol")
    _wait_volume(cli, "shared-vol", "available")

    # a transfer to another project, accepted there
    admin = server.admin_token()
    ident = server.identity_url + "/v3"
    h = {"X-Auth-Token": admin}
    proj = requests.post(ident + "/projects", headers=h, timeout=10,
                         json={"project": {"name": "receiver"}}).json()["project"]
    member = requests.get(ident + "/roles?name=member", headers=h, timeout=10).json()["roles"][0]
    me = requests.get(ident + "/auth/tokens", timeout=10,
                      headers=dict(h, **{"X-Subject-Token": admin})).json()["token"]["user"]
    requests.put(f"{ident}/projects/{proj['id']}/users/{me['id']}/roles/{member['id']}",
                 headers=h, timeout=10)
    req = cli.json("volume", "transfer", "request", "create", "shared-vol")
    receiver = Cli(server)
    receiver.env["OS_PROJECT_NAME"] = "receiver"
    receiver.env.pop("OS_PROJECT_ID", None)
    conn = openstack.connect(cloud="ferrostack", project_name="receiver",
                             config_files=[str(server.clouds_yaml)])
    accepted = conn.block_storage.accept_transfer(req["id"], req["auth_key"])
    assert accepted.volume_id == vol["id"]
    assert conn.block_storage.get_volume(vol["id"]).project_id == proj["id"]


def _wait_volume(cli, name, status):
    import time

    for _ in range(100):
        if cli.json("volume", "show", name)["status"] == status:
            return
        time.sleep(0.2)
    raise AssertionError(f"volume {name} never became {status}")


def _pubkey(tmp_path):
    path = tmp_path / "id.pub"
    path.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNvbXBhdGliaWxpdHkgdGVzdCBrZXkgZm9yIGZlcnJv mv\n")
    return path
