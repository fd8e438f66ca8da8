"""The real `openstack` CLI and openstacksdk against the block-storage API,
configured only by the clouds.yaml that `ferrostack serve` writes.

`openstack volume create` builds an image-service client before anything
else, so it needs the image service's discovery document; until the image
service answers `GET /image`, volumes are created with openstacksdk
instead (everything else still goes through the CLI)."""

import os
import subprocess
import time
import uuid
import warnings

import openstack
import requests

from test_identity_cli import Cli
from volumehelp import GIB, admin_cinder, qemu_virtual_size, snapshot_file, volume_file


def _image_service_up(server):
    try:
        return requests.get(server.url + "/image", timeout=5).status_code == 300
    except requests.RequestException:
        return False


def _sdk(server, monkeypatch):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(server.clouds_yaml))
    return openstack.connect(cloud="ferrostack")


def _create(cli, conn, *args, name, size=None, snapshot=None):
    """`openstack volume create ... NAME`, waiting until available."""
    if _image_service_up(cli.server):
        extra = (["--size", str(size)] if size else []) + \
                (["--snapshot", snapshot] if snapshot else [])
        v = cli.json("volume", "create", *extra, name)
        vid = v["id"]
    else:
        warnings.warn("image service not available: volume created with openstacksdk")
        snap_id = conn.block_storage.find_snapshot(snapshot).id if snapshot else None
        vid = conn.block_storage.create_volume(size=size, name=name, snapshot_id=snap_id).id
    conn.block_storage.wait_for_status(conn.block_storage.get_volume(vid), "available",
                                       failures=["error"], interval=0.5, wait=60)
    return vid


def test_cli_volume_workflow(server, monkeypatch):
    cli = Cli(server)
    conn = _sdk(server, monkeypatch)
    vid = _create(cli, conn, name="v1", size=1)
    rows = cli.json("volume", "list")
    assert [r for r in rows if r["Name"] == "v1" and r["Status"] == "available"], rows
    shown = cli.json("volume", "show", "v1")
    assert shown["id"] == vid and shown["size"] == 1 and shown["status"] == "available"
    assert qemu_virtual_size(volume_file(server, vid)) == 1 * GIB

    cli.run("volume", "set", "--name", "v1b", "--property", "k=v", "--property", "x=y", "v1")
    shown = cli.json("volume", "show", "v1b")
    assert shown["properties"] == {"k": "v", "x": "y"}, shown
    cli.run("volume", "unset", "--property", "k", "v1b")
    assert cli.json("volume", "show", "v1b")["properties"] == {"x": "y"}

    cli.run("volume", "set", "--size", "2", "v1b")
    vol = conn.block_storage.wait_for_status(conn.block_storage.get_volume(vid), "available",
                                             interval=0.5, wait=60)
    assert vol.size == 2
    assert cli.json("volume", "show", "v1b")["size"] == 2
    assert qemu_virtual_size(volume_file(server, vid)) == 2 * GIB

    snap = cli.json("volume", "snapshot", "create", "--volume", "v1b", "s1")
    conn.block_storage.wait_for_status(conn.block_storage.get_snapshot(snap["id"]), "available",
                                       failures=["error"], interval=0.5, wait=60)
    assert cli.json("volume", "snapshot", "show", "s1")["status"] == "available"
    assert snapshot_file(server, snap["id"]).exists()
    v2 = _create(cli, conn, name="v2", snapshot="s1")
    assert cli.json("volume", "show", "v2")["snapshot_id"] == snap["id"]

    t = cli.json("volume", "type", "create", "gold", "--property", "tier=1")
    assert t["name"] == "gold"
    assert "gold" in {r["Name"] for r in cli.json("volume", "type", "list")}
    assert cli.json("volume", "type", "show", "gold")["properties"] == {"tier": "1"}
    cli.run("volume", "type", "delete", "gold")
    assert "gold" not in {r["Name"] for r in cli.json("volume", "type", "list")}

    quota = cli.json("quota", "show", "--volume")
    limits = {r["Resource"]: r["Limit"] for r in quota}
    assert limits["volumes"] == 10 and limits["gigabytes"] == 1000 and limits["snapshots"] == 10

    # delete: snapshot first, then the volumes; files go with them
    cli.run("volume", "snapshot", "delete", "s1")
    assert not snapshot_file(server, snap["id"]).exists()
    cli.run("volume", "delete", "v1b", "v2")
    assert not volume_file(server, vid).exists()
    assert not volume_file(server, v2).exists()
    names = {r["Name"] for r in cli.json("volume", "list")}
    assert not names & {"v1b", "v2"}


def test_sdk_create_wait_delete(server, monkeypatch):
    conn = _sdk(server, monkeypatch)
    vol = conn.block_storage.create_volume(size=1, name="sdk-vol")
    assert vol.status == "creating"
    vol = conn.block_storage.wait_for_status(vol, "available", failures=["error"],
                                             interval=0.5, wait=60)
    assert vol.size == 1 and vol.volume_type == "__DEFAULT__"
    assert volume_file(server, vol.id).exists()
    found = [v.id for v in conn.block_storage.volumes(name="sdk-vol")]
    assert found == [vol.id]
    conn.block_storage.delete_volume(vol)
    conn.block_storage.wait_for_delete(vol, interval=0.5, wait=60)
    assert not volume_file(server, vol.id).exists()


# -- QoS specs, backups, retype through the CLI ------------------------------

def _wait_cli(cli, what, name, status, timeout=90):
    """Poll `openstack <what> show NAME` until its status is `status`."""
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.json(*what, "show", name)
        if shown["status"] == status:
            return shown
        assert shown["status"] not in ("error", "error_restoring"), shown
        assert time.monotonic() < deadline, f"{what} {name} stuck in {shown['status']}"
        time.sleep(0.5)


def _volume_bytes(server, vid, tmp_path, n):
    """The first `n` bytes of a volume's data, read from its qcow2 file."""
    out = tmp_path / f"{vid}.raw"
    subprocess.run(["qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw",
                    str(volume_file(server, vid)), str(out)], check=True)
    with open(out, "rb") as f:
        data = f.read(n)
    out.unlink()
    return data


def test_cli_qos_specs_associate(server):
    cli = Cli(server)
    q = cli.json("volume", "qos", "create", "--consumer", "back-end",
                 "--property", "read_iops_sec=100", "q-gold")
    assert q["name"] == "q-gold" and q["consumer"] == "back-end", q
    assert q["properties"] == {"read_iops_sec": "100"}, q
    t = cli.json("volume", "type", "create", "t-qos")
    cli.run("volume", "qos", "associate", "q-gold", "t-qos")
    shown = cli.json("volume", "qos", "show", "q-gold")
    assert shown["associations"] in (["t-qos"], "t-qos"), shown
    admin, _ = admin_cinder(server)
    vt = admin.get(f"/types/{t['id']}", expect=200).json()["volume_type"]
    assert vt["qos_specs_id"] == q["id"], vt
    rows = {r["Name"]: r for r in cli.json("volume", "qos", "list")}
    assert rows["q-gold"]["Consumer"] == "back-end"
    assert rows["q-gold"]["Associations"] in (["t-qos"], "t-qos"), rows["q-gold"]

    cli.run("volume", "qos", "set", "--property", "write_iops_sec=50", "q-gold")
    cli.run("volume", "qos", "unset", "--property", "read_iops_sec", "q-gold")
    assert cli.json("volume", "qos", "show", "q-gold")["properties"] == {"write_iops_sec": "50"}

    # an associated spec is not deleted without --force
    p = cli.run("volume", "qos", "delete", "q-gold", check=False)
    assert p.returncode != 0
    assert "q-gold" in {r["Name"] for r in cli.json("volume", "qos", "list")}

    cli.run("volume", "qos", "disassociate", "--volume-type", "t-qos", "q-gold")
    assert not cli.json("volume", "qos", "show", "q-gold").get("associations")
    vt = admin.get(f"/types/{t['id']}", expect=200).json()["volume_type"]
    assert vt["qos_specs_id"] is None, vt
    cli.run("volume", "qos", "delete", "q-gold")
    assert "q-gold" not in {r["Name"] for r in cli.json("volume", "qos", "list")}
    assert cli.run("volume", "qos", "show", "q-gold", check=False).returncode != 0
    cli.run("volume", "type", "delete", t["id"])


def test_cli_backup_create_restore_data(server, tmp_path):
    cli = Cli(server)
    content = os.urandom(1024 * 1024) + b"ferrostack backup marker" * 100
    (tmp_path / "img.raw").write_bytes(content)
    cli.json("image", "create", "--disk-format", "raw", "--container-format", "bare",
             "--file", str(tmp_path / "img.raw"), "bk-img")
    src = cli.json("volume", "create", "--image", "bk-img", "--size", "1",
                   "--property", "k=v", "bk-src")
    _wait_cli(cli, ("volume",), "bk-src", "available")
    assert _volume_bytes(server, src["id"], tmp_path, len(content)) == content

    b1 = cli.json("volume", "backup", "create", "--name", "b1", "bk-src")
    b1 = _wait_cli(cli, ("volume", "backup"), "b1", "available")
    assert b1["volume_id"] == src["id"] and b1["size"] == 1, b1
    assert b1["is_incremental"] is False
    assert _wait_cli(cli, ("volume",), "bk-src", "available")
    assert (server.data_dir / "volumes" / f"backup-{b1['id']}.qcow2").exists()
    assert "b1" in {r["Name"] for r in cli.json("volume", "backup", "list")}

    # restore into a new volume: the same bytes, the source's metadata, bootable
    r = cli.json("volume", "backup", "restore", "b1", "bk-new")
    assert r["volume_name"] == "bk-new", r
    new = _wait_cli(cli, ("volume",), "bk-new", "available")
    assert new["id"] == r["volume_id"]
    assert _volume_bytes(server, new["id"], tmp_path, len(content)) == content
    assert new["properties"] == {"k": "v"}, new
    assert str(new["bootable"]).lower() == "true", new
    assert _wait_cli(cli, ("volume", "backup"), "b1", "available")

    # restore over an existing (blank) volume writes the data back into it
    blank = cli.json("volume", "create", "--size", "2", "bk-blank")
    _wait_cli(cli, ("volume",), "bk-blank", "available")
    assert _volume_bytes(server, blank["id"], tmp_path, 4096) == b"\0" * 4096
    p = cli.run("volume", "backup", "restore", "b1", "bk-blank", check=False)
    assert p.returncode != 0  # the CLI wants --force for an existing volume
    cli.json("volume", "backup", "restore", "--force", "b1", "bk-blank")
    restored = _wait_cli(cli, ("volume",), "bk-blank", "available")
    assert restored["size"] == 2
    assert _volume_bytes(server, blank["id"], tmp_path, len(content)) == content

    # incremental: recorded on top of b1, which then cannot go first
    cli.json("volume", "backup", "create", "--incremental", "--name", "b2", "bk-src")
    b2 = _wait_cli(cli, ("volume", "backup"), "b2", "available")
    assert b2["is_incremental"] is True and b2["has_dependent_backups"] is False, b2
    assert cli.json("volume", "backup", "show", "b1")["has_dependent_backups"] is True
    assert cli.run("volume", "backup", "delete", "b1", check=False).returncode != 0
    cli.run("volume", "backup", "delete", "b2")
    cli.run("volume", "backup", "delete", "b1")
    deadline = time.monotonic() + 30
    while {"b1", "b2"} & {r["Name"] for r in cli.json("volume", "backup", "list")}:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert not (server.data_dir / "volumes" / f"backup-{b1['id']}.qcow2").exists()
    cli.run("volume", "delete", "bk-src", "bk-new", "bk-blank")


def test_cli_retype(server):
    cli = Cli(server)
    cli.json("volume", "type", "create", "rt-a")
    cli.json("volume", "type", "create", "rt-b")
    cli.json("volume", "type", "create", "--property", "volume_backend_name=elsewhere",
             "rt-far")
    cli.json("volume", "create", "--size", "1", "--type", "rt-a", "rt-vol")
    assert _wait_cli(cli, ("volume",), "rt-vol", "available")["type"] == "rt-a"

    cli.run("volume", "set", "--type", "rt-b", "rt-vol")
    assert _wait_cli(cli, ("volume",), "rt-vol", "available")["type"] == "rt-b"
    cli.run("volume", "set", "--type", "rt-a", "--retype-policy", "on-demand", "rt-vol")
    assert _wait_cli(cli, ("volume",), "rt-vol", "available")["type"] == "rt-a"

    # a type this backend cannot serve: accepted, and as Cinder's scheduler
    # finds no backend, the volume keeps its type
    for policy in ("never", "on-demand"):
        cli.run("volume", "set", "--type", "rt-far", "--retype-policy", policy, "rt-vol")
        shown = _wait_cli(cli, ("volume",), "rt-vol", "available")
        assert shown["type"] == "rt-a", shown
    # the same type again is refused
    p = cli.run("volume", "set", "--type", "rt-a", "rt-vol", check=False)
    assert p.returncode != 0 and "same" in (p.stderr + p.stdout).lower(), p.stderr
    # an unknown type is refused
    assert cli.run("volume", "set", "--type", "nope", "rt-vol", check=False).returncode != 0

    # in-use (attached through the API): the type changes on the one backend,
    # the volume stays in-use; a change of multiattach is refused
    admin, _ = admin_cinder(server)
    vid = cli.json("volume", "show", "rt-vol")["id"]
    admin.action(vid, {"os-attach": {"instance_uuid": str(uuid.uuid4()),
                                     "mountpoint": "/dev/vdb"}})
    assert _wait_cli(cli, ("volume",), "rt-vol", "in-use")
    cli.run("volume", "set", "--type", "rt-b", "--retype-policy", "on-demand", "rt-vol")
    shown = _wait_cli(cli, ("volume",), "rt-vol", "in-use")
    assert shown["type"] == "rt-b", shown
    cli.json("volume", "type", "create", "--property", "multiattach=<is> True", "rt-multi")
    p = cli.run("volume", "set", "--type", "rt-multi", "rt-vol", check=False)
    assert p.returncode != 0
    assert _wait_cli(cli, ("volume",), "rt-vol", "in-use")["type"] == "rt-b"
    admin.action(vid, {"os-detach": {}})
    _wait_cli(cli, ("volume",), "rt-vol", "available")
    cli.run("volume", "delete", "rt-vol")
