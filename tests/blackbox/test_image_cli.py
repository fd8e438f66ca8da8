"""The real `openstack` CLI and openstacksdk against the image service,
configured only by the clouds.yaml that `ferrostack serve` writes."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap

from imghelp import Images
from kshelp import uniq
from test_identity_cli import Cli


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_cli_image_workflow(server, tmp_path):
    cli = Cli(server)
    src = tmp_path / "disk.qcow2"
    src.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    name = uniq("cli-img")
    created = cli.json("image", "create", "--file", str(src), "--disk-format", "qcow2",
                       "--container-format", "bare", name)
    assert created["status"] == "active" and created["checksum"] == _md5(src)
    assert created["size"] == src.stat().st_size
    iid = created["id"]

    rows = cli.json("image", "list")
    assert iid in {r["ID"] for r in rows}
    shown = cli.json("image", "show", name)
    assert shown["id"] == iid and shown["disk_format"] == "qcow2"
    assert shown["properties"]["os_hash_algo"] == "sha512"

    out = tmp_path / "out.img"
    cli.run("image", "save", "--file", str(out), name)
    assert _md5(out) == _md5(src)

    cli.run("image", "set", "--property", "k=v", "--tag", "t", "--min-ram", "128", name)
    shown = cli.json("image", "show", iid)
    assert shown["properties"]["k"] == "v" and shown["tags"] == ["t"] and shown["min_ram"] == 128
    cli.run("image", "unset", "--property", "k", "--tag", "t", name)
    shown = cli.json("image", "show", iid)
    assert "k" not in shown["properties"] and shown["tags"] == []

    priv = cli.json("image", "create", "--private", "--disk-format", "raw",
                    "--container-format", "bare", uniq("priv"))["id"]
    pub = cli.json("image", "create", "--public", "--disk-format", "raw",
                   "--container-format", "bare", uniq("pub"))["id"]
    ids = lambda *flags: {r["ID"] for r in cli.json("image", "list", *flags)}  # noqa: E731
    assert ids("--private") == {priv}
    assert ids("--public") == {pub}
    assert ids("--shared") == {iid}
    assert ids() == {iid, priv, pub}

    cli.run("image", "delete", name, priv, pub)
    assert ids() == set()
    assert not (server.data_dir / "images" / iid).exists()
    p = cli.run("image", "show", iid, check=False)
    assert p.returncode != 0, p.stdout


SDK_SCRIPT = textwrap.dedent("""
    import hashlib, json, sys
    import openstack
    conn = openstack.connect(cloud="ferrostack")
    data = open(sys.argv[1], "rb").read()
    img = conn.image.create_image(name=sys.argv[2], data=data, disk_format="qcow2",
                                  container_format="bare", visibility="private",
                                  allow_duplicates=True, validate_checksum=False)
    img = conn.image.wait_for_status(img, "active", wait=60)
    got = conn.image.download_image(img).content
    listed = [i.id for i in conn.image.images(limit=1)]
    conn.image.update_image(img, min_disk=2, colour="green")
    again = conn.image.get_image(img.id)
    conn.image.add_tag(img, "sdk")
    tags = conn.image.get_image(img.id).tags
    found = conn.image.find_image(sys.argv[2]).id
    conn.image.delete_image(img)
    gone = conn.image.find_image(img.id) is None
    print(json.dumps({"id": img.id, "checksum": img.checksum, "md5": hashlib.md5(got).hexdigest(),
                      "listed": listed, "min_disk": again.min_disk,
                      "colour": again.properties.get("colour"), "tags": tags,
                      "found": found, "gone": gone, "hash": img.hash_value}))
""")


def test_openstacksdk_image(server, tmp_path):
    src = tmp_path / "data.bin"
    src.write_bytes(os.urandom(2 * 1024 * 1024))
    script = tmp_path / "sdk.py"
    script.write_text(SDK_SCRIPT)
    # one more image so `images(limit=1)` has to follow `next`
    Images(server, server.admin_token()).create(name=uniq("other"))
    p = subprocess.run([sys.executable, str(script), str(src), uniq("sdk")], env=server.cli_env(),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:] + server.log()[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    digest = hashlib.md5(src.read_bytes()).hexdigest()
    assert out["checksum"] == digest and out["md5"] == digest
    assert out["hash"] == hashlib.sha512(src.read_bytes()).hexdigest()
    assert out["id"] in out["listed"] and len(out["listed"]) == 2
    assert out["min_disk"] == 2 and out["colour"] == "green" and out["tags"] == ["sdk"]
    assert out["found"] == out["id"] and out["gone"] is True
