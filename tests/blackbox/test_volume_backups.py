"""Backups over the API (requests), on SQLite and PostgreSQL: the backup is a
copy of the volume's data (checked byte for byte through the qcow2 files),
restore writes it back, views per microversion, quotas, export/import of
records, volumes made from a backup (3.47), snapshot backups."""

import base64
import json
import subprocess
import time
import uuid

from volumehelp import admin_cinder, assert_cinder_error, member_cinder, volume_file

PATTERN = bytes(range(256)) * 256   # 64 KiB


def _write(server, vid, data, offset=0):
    """Put known bytes into an (unattached) volume's file."""
    path = server.data_dir / "volumes" / "pattern.bin"
    path.write_bytes(data)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c",
                    f"write -s {path} {offset} {len(data)}", str(volume_file(server, vid))],
                   check=True, capture_output=True)
    path.unlink()


def _read(server, path, n, offset=0):
    out = server.data_dir.parent / f"read-{uuid.uuid4()}.raw"
    subprocess.run(["qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", str(path),
                    str(out)], check=True)
    with open(out, "rb") as f:
        f.seek(offset)
        data = f.read(n)
    out.unlink()
    return data


def _wait(c, path, key, status, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        r = c.get(path, expect=200).json()[key]
        if r["status"] == status:
            return r
        assert r["status"] not in ("error", "error_restoring"), r
        assert time.monotonic() < deadline, r
        time.sleep(0.2)


def _backup(c, vid, **extra):
    b = c.post("/backups", json={"backup": {"volume_id": vid, **extra}}, expect=202).json()
    assert set(b["backup"]) == {"id", "name", "links"}, b
    return _wait(c, f"/backups/{b['backup']['id']}", "backup", "available")


def test_backup_restore_views_and_rules(server):
    admin, ks = admin_cinder(server)
    c, project = member_cinder(server, ks)
    vol = c.create_volume(1, metadata={"k": "v"})
    vid = vol["id"]
    _write(server, vid, PATTERN, offset=4096)
    b = _backup(c, vid, name="b1", description="d", container="c1")
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["status"] == "available"
    assert (b["name"], b["description"], b["container"], b["size"]) == ("b1", "d", "c1", 1)
    assert (b["is_incremental"], b["has_dependent_backups"], b["snapshot_id"]) == \
        (False, False, None)
    assert b["volume_id"] == vid and b["object_count"] == 0 and b["fail_reason"] is None
    assert "metadata" not in b and "user_id" not in b
    # the backup's file holds the volume's data
    bfile = server.data_dir / "volumes" / f"backup-{b['id']}.qcow2"
    assert _read(server, bfile, len(PATTERN), 4096) == PATTERN

    # per version: 3.43 metadata; 3.18 project and 3.56 user for admins only
    h = {"OpenStack-API-Version": "volume 3.56"}
    mine = c.get(f"/backups/{b['id']}", headers=h, expect=200).json()["backup"]
    assert mine["metadata"] == {} and "user_id" not in mine
    assert "os-backup-project-attr:project_id" not in mine
    seen = admin.get(f"/backups/{b['id']}", headers=h, expect=200).json()["backup"]
    assert seen["os-backup-project-attr:project_id"] == project["id"]
    assert seen["user_id"] == mine.get("user_id", seen["user_id"])
    # update: 404 before 3.9, name/description from 3.9, metadata from 3.43
    assert_cinder_error(c.put(f"/backups/{b['id']}", json={"backup": {"name": "x"}}), 404)
    assert_cinder_error(c.put(f"/backups/{b['id']}", json={"backup": {"metadata": {}}},
                              headers={"OpenStack-API-Version": "volume 3.9"}), 400)
    u = c.put(f"/backups/{b['id']}", json={"backup": {"name": "b1x", "metadata": {"a": "b"}}},
              headers={"OpenStack-API-Version": "volume 3.43"}, expect=200).json()["backup"]
    assert u["name"] == "b1x"
    got = c.get(f"/backups/{b['id']}", headers={"OpenStack-API-Version": "volume 3.43"},
                expect=200).json()["backup"]
    assert got["metadata"] == {"a": "b"}
    # list, filters, count
    names = [x["name"] for x in c.get("/backups?name=b1x", expect=200).json()["backups"]]
    assert names == ["b1x"]
    assert c.get("/backups?status=error", expect=200).json()["backups"] == []
    r = c.get("/backups/detail?with_count=true",
              headers={"OpenStack-API-Version": "volume 3.45"}, expect=200).json()
    assert r["count"] == 1 and r["backups"][0]["id"] == b["id"]

    # restore into a new volume: data, metadata
    r = c.post(f"/backups/{b['id']}/restore", json={"restore": {}}, expect=202).json()
    assert r["restore"]["backup_id"] == b["id"]
    assert r["restore"]["volume_name"] == f"restore_backup_{b['id']}"
    new = c.wait_volume(r["restore"]["volume_id"])
    assert new["status"] == "available" and new["size"] == 1
    assert new["metadata"] == {"k": "v"}
    assert _read(server, volume_file(server, new["id"]), len(PATTERN), 4096) == PATTERN
    _wait(c, f"/backups/{b['id']}", "backup", "available")

    # restore into an existing volume: it must be available and large enough
    small_target = c.create_volume(1)["id"]
    _write(server, small_target, b"\xff" * 65536, offset=4096)
    c.post(f"/backups/{b['id']}/restore", json={"restore": {"volume_id": small_target}},
           expect=202)
    c.wait_volume(small_target, until=("available",))
    assert _read(server, volume_file(server, small_target), len(PATTERN), 4096) == PATTERN
    admin.post("/types", json={"volume_type": {"name": "bk-t"}}, expect=200)
    c.action(vid, {"os-extend": {"new_size": 2}})
    c.wait_volume(vid, until=("available",))
    big = _backup(c, vid)
    assert big["size"] == 2
    msg = assert_cinder_error(c.post(f"/backups/{big['id']}/restore",
                                     json={"restore": {"volume_id": small_target}}), 400)
    assert "too small" in msg

    # incremental: needs a parent; the parent cannot be deleted first
    other = c.create_volume(1)["id"]
    assert_cinder_error(c.post("/backups", json={"backup": {
        "volume_id": other, "incremental": True}}), 400)
    inc = _backup(c, vid, incremental=True)
    assert inc["is_incremental"] is True
    assert c.get(f"/backups/{big['id']}", expect=200).json()["backup"][
        "has_dependent_backups"] is True
    assert_cinder_error(c.delete(f"/backups/{big['id']}"), 400)

    # reset status (admin) and what a backup in error allows
    assert_cinder_error(c.post(f"/backups/{b['id']}/action", json={
        "os-reset_status": {"status": "error"}}), 403)
    admin.post(f"/backups/{b['id']}/action", json={"os-reset_status": {"status": "error"}},
               expect=202)
    assert_cinder_error(c.post(f"/backups/{b['id']}/restore", json={"restore": {}}), 400)
    # a volume with backups can be deleted; the backups stay restorable
    for v in (other, small_target, new["id"]):
        c.delete(f"/volumes/{v}", expect=202)
    c.delete(f"/backups/{b['id']}", expect=202)
    assert_cinder_error(c.get(f"/backups/{b['id']}"), 404)
    assert not bfile.exists()
    c.delete(f"/backups/{inc['id']}", expect=202)
    c.delete(f"/backups/{big['id']}", expect=202)
    assert c.get("/backups", expect=200).json()["backups"] == []


def test_backup_quotas_snapshot_and_volume_from_backup(server):
    admin, ks = admin_cinder(server)
    c, project = member_cinder(server, ks)
    vid = c.create_volume(1)["id"]
    _write(server, vid, PATTERN)
    snap = c.create_snapshot(vid)
    _write(server, vid, b"\x01" * len(PATTERN))   # the volume moves on
    sb = _backup(c, vid, snapshot_id=snap["id"])
    assert sb["snapshot_id"] == snap["id"]
    assert c.get(f"/snapshots/{snap['id']}", expect=200).json()["snapshot"]["status"] == \
        "available"
    # a snapshot backup holds the snapshot's data
    bfile = server.data_dir / "volumes" / f"backup-{sb['id']}.qcow2"
    assert _read(server, bfile, len(PATTERN)) == PATTERN

    # quotas: usage counted, limits enforced
    q = admin.get(f"/os-quota-sets/{project['id']}?usage=true", expect=200).json()["quota_set"]
    assert q["backups"]["in_use"] == 1 and q["backup_gigabytes"]["in_use"] == 1
    lim = c.get("/limits", expect=200).json()["limits"]["absolute"]
    assert lim["totalBackupsUsed"] == 1 and lim["totalBackupGigabytesUsed"] == 1
    admin.put(f"/os-quota-sets/{project['id']}", json={"quota_set": {"backups": 1}}, expect=200)
    assert_cinder_error(c.post("/backups", json={"backup": {"volume_id": vid}}), 413)
    assert_cinder_error(admin.put(f"/os-quota-sets/{project['id']}",
                                  json={"quota_set": {"backups": 0}}), 400)
    admin.put(f"/os-quota-sets/{project['id']}", json={"quota_set": {"backups": 10}},
              expect=200)

    # 3.47: a volume made from the backup has its data
    h = {"OpenStack-API-Version": "volume 3.47"}
    v = c.post("/volumes", json={"volume": {"backup_id": sb["id"], "name": "fb"}}, headers=h,
               expect=202).json()["volume"]
    v = c.wait_volume(v["id"])
    assert v["status"] == "available" and v["size"] == 1
    assert _read(server, volume_file(server, v["id"]), len(PATTERN)) == PATTERN
    assert_cinder_error(c.post("/volumes", json={"volume": {
        "backup_id": str(uuid.uuid4())}}, headers=h), 404)
    assert_cinder_error(c.post("/volumes", json={"volume": {
        "backup_id": sb["id"], "size": 1, "x": 1}},
        headers={"OpenStack-API-Version": "volume 3.53"}), 400)

    # in-use needs force (and a snapshot of another volume is refused)
    c.action(vid, {"os-attach": {"instance_uuid": str(uuid.uuid4()), "mountpoint": "/dev/vdb"}})
    assert_cinder_error(c.post("/backups", json={"backup": {"volume_id": vid}}), 400)
    forced = _backup(c, vid, force=True)
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["status"] == "in-use"
    assert_cinder_error(c.post("/backups", json={"backup": {
        "volume_id": v["id"], "snapshot_id": snap["id"]}}), 400)
    c.action(vid, {"os-detach": {}})
    for bid in (sb["id"], forced["id"]):
        c.delete(f"/backups/{bid}", expect=202)


def test_export_import_record(server):
    admin, ks = admin_cinder(server)
    c, _ = member_cinder(server, ks)
    vid = c.create_volume(1)["id"]
    _write(server, vid, PATTERN)
    b = _backup(c, vid, name="exp")
    assert_cinder_error(c.get(f"/backups/{b['id']}/export_record"), 403)
    rec = admin.get(f"/backups/{b['id']}/export_record", expect=200).json()["backup-record"]
    assert rec["backup_service"].startswith("cinder.backup.drivers.")
    doc = json.loads(base64.b64decode(rec["backup_url"]))
    assert doc["id"] == b["id"]
    # the same id again: refused; a new id: a row over the same data
    assert_cinder_error(admin.post("/backups/import_record", json={"backup-record": rec}), 400)
    assert_cinder_error(admin.post("/backups/import_record", json={"backup-record": {
        "backup_service": "cinder.backup.drivers.swift.SwiftBackupDriver",
        "backup_url": rec["backup_url"]}}), 400)
    assert_cinder_error(c.post("/backups/import_record", json={"backup-record": rec}), 403)
    doc["id"] = new_id = str(uuid.uuid4())
    url = base64.b64encode(json.dumps(doc).encode()).decode()
    r = admin.request("POST", "/backups/import_record", json={"backup-record": {
        "backup_service": rec["backup_service"], "backup_url": url}})
    assert r.status_code == 201, r.text
    imp = r.json()["backup"]
    assert imp["id"] == new_id and imp["name"] == "exp"
    got = _wait(admin, f"/backups/{new_id}", "backup", "available")
    assert got["volume_id"] == vid
    assert new_id in [x["id"] for x in admin.get("/backups", expect=200).json()["backups"]]
    # the original goes; the imported record still restores the data
    c.delete(f"/backups/{b['id']}", expect=202)
    r = admin.post(f"/backups/{new_id}/restore", json={"restore": {"name": "from-import"}},
                   expect=202).json()["restore"]
    assert r["volume_name"] == "from-import"
    v = admin.wait_volume(r["volume_id"])
    assert v["status"] == "available"
    assert _read(server, volume_file(server, v["id"]), len(PATTERN)) == PATTERN
    _wait(admin, f"/backups/{new_id}", "backup", "available")
    admin.post(f"/backups/{new_id}/action", json={"os-force_delete": {}}, expect=202)
    assert_cinder_error(admin.get(f"/backups/{new_id}"), 404)
    assert not (server.data_dir / "volumes" / f"backup-{b['id']}.qcow2").exists()
