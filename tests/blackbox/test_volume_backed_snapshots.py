"""Snapshots of volume-backed servers, as Nova and Cinder make and use them:
`createImage` of a server booted from a volume snapshots the volume (in
use) and registers an image with no data (size 0) whose
`block_device_mapping` names that snapshot; booting a server from the
image makes its root volume from the snapshot (an image-defined block
device mapping), and from volume API 3.46 a volume made from the image is
made from the snapshot. With the openstack CLI, as a user does."""

import json

from test_identity_cli import Cli
from guesthelp import wait_for


def _volume(cli, vid):
    return cli.json("volume", "show", vid)


def test_volume_backed_server_snapshot_and_its_uses(server, tmp_path):
    cli = Cli(server)
    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"\x00" * (1 << 20))
    image = cli.json("image", "create", "--file", str(raw), "--disk-format", "raw",
                     "--container-format", "bare", "base")
    cli.json("flavor", "create", "--ram", "64", "--disk", "1", "vb.tiny")
    vol = cli.json("volume", "create", "--image", "base", "--size", "1", "--bootable", "root")
    wait_for("the root volume", lambda: _volume(cli, vol["id"])["status"] == "available", 60)
    srv = cli.json("server", "create", "--volume", "root", "--flavor", "vb.tiny",
                   "--nic", "none", "--os-compute-api-version", "2.37", "--wait", "vb1")

    # createImage: a volume snapshot, and an image that only points at it.
    snap_image = cli.json("server", "image", "create", "--name", "vb1-snap", "--wait", "vb1")
    shown = cli.json("image", "show", snap_image["id"])
    assert shown["status"] == "active" and shown["size"] == 0, shown
    props = shown["properties"]
    assert props["bdm_v2"] == "True" and props["root_device_name"] == "/dev/vda", props
    mapping = json.loads(props["block_device_mapping"])
    assert len(mapping) == 1, mapping
    root = mapping[0]
    assert root["boot_index"] == 0 and root["source_type"] == "snapshot"
    assert root["destination_type"] == "volume" and root["volume_size"] == 1
    snap = cli.json("volume", "snapshot", "show", root["snapshot_id"])
    assert snap["status"] == "available" and snap["volume_id"] == vol["id"], snap
    assert _volume(cli, vol["id"])["status"] == "in-use"  # snapshotted in use

    # Booting the image makes the root volume from the snapshot.
    srv2 = cli.json("server", "create", "--image", "vb1-snap", "--flavor", "vb.tiny",
                    "--nic", "none", "--os-compute-api-version", "2.37", "--wait", "vb2")
    attached = cli.json("server", "show", srv2["id"])["volumes_attached"]
    assert len(attached) == 1, attached
    made = _volume(cli, attached[0]["id"])
    assert made["snapshot_id"] == root["snapshot_id"] and made["bootable"] in (True, "true"), made
    assert made["volume_image_metadata"]["image_id"] == image["id"], made
    assert made["attachments"][0]["server_id"] == srv2["id"]

    # A volume from the image: from the snapshot at 3.46; refused before.
    p = cli.run("--os-volume-api-version", "3.45", "volume", "create", "--image", "vb1-snap",
                "--size", "1", "old", check=False)
    assert p.returncode != 0 and "3.46" in p.stderr, p.stderr
    v3 = cli.json("--os-volume-api-version", "3.46", "volume", "create", "--image",
                  "vb1-snap", "--size", "1", "from-snap")
    wait_for("the volume from the image", lambda: _volume(cli, v3["id"])["status"]
             == "available", 60)
    assert _volume(cli, v3["id"])["snapshot_id"] == root["snapshot_id"]

    # The mapping keeps the original's delete_on_termination (false: vb1's
    # volume was the user's): vb2's volume outlives it, available again.
    assert root["delete_on_termination"] is False
    cli.run("server", "delete", "--wait", "vb2")
    wait_for("vb2's volume available", lambda: _volume(cli, made["id"])["status"]
             == "available", 60)
    cli.run("server", "delete", "--wait", srv["id"])
