"""The real `openstack` CLI and openstacksdk against the block-storage API,
configured only by the clouds.yaml that `ferrostack serve` writes.

`openstack volume create` builds an image-service client before anything
else, so it needs the image service's discovery document; until the image
service answers `GET /image`, volumes are created with openstacksdk
instead (everything else still goes through the CLI)."""

import warnings

import openstack
import requests

from test_identity_cli import Cli
from volumehelp import GIB, qemu_virtual_size, snapshot_file, volume_file


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
