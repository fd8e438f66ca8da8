"""Crash recovery: `kill -9` while volumes are being created (creation made
slow with FERROSTACK_VOLUME_CREATE_DELAY_MS, a test-only setting), then a
restart: every volume ends `available` or `error`, none stays `creating`,
and the files on disk are exactly those of the surviving volumes."""

import time

from volumehelp import GIB, admin_cinder, qemu_virtual_size


def test_kill9_during_creation_recovers(server, monkeypatch):
    server.stop()
    monkeypatch.setenv("FERROSTACK_VOLUME_CREATE_DELAY_MS", "1500")
    server.start()
    c, _ = admin_cinder(server)
    ids = [c.create_volume(1, wait=False, name=f"crash{i}")["id"] for i in range(5)]
    time.sleep(2.0)  # the workers are inside their delay / qemu-img
    statuses = {c.get(f"/volumes/{i}", expect=200).json()["volume"]["status"] for i in ids}
    assert "creating" in statuses, statuses
    server.kill9()

    monkeypatch.delenv("FERROSTACK_VOLUME_CREATE_DELAY_MS")
    server.start()
    c, _ = admin_cinder(server)
    final = {i: c.wait_volume(i, timeout=60)["status"] for i in ids}
    assert set(final.values()) <= {"available", "error"}, final
    assert all(s == "available" for s in final.values()), final  # the work is redone
    vols_dir = server.data_dir / "volumes"
    files = {p.name for p in vols_dir.iterdir()}
    assert not [f for f in files if f.endswith(".part")], files
    assert files == {f"volume-{i}.qcow2" for i in ids}, files
    for i in ids:
        assert qemu_virtual_size(vols_dir / f"volume-{i}.qcow2") == GIB
    for i in ids:
        c.delete(f"/volumes/{i}", expect=202)
    assert list(vols_dir.iterdir()) == []


def test_orphan_files_removed_at_start(server):
    c, _ = admin_cinder(server)
    v = c.create_volume(1)
    vols_dir = server.data_dir / "volumes"
    (vols_dir / "volume-00000000-0000-0000-0000-000000000000.qcow2").write_bytes(b"x")
    (vols_dir / f"volume-{v['id']}.qcow2.part").write_bytes(b"x")
    server.kill9()
    server.start()
    names = {p.name for p in vols_dir.iterdir()}
    assert names == {f"volume-{v['id']}.qcow2"}, names


def test_kill9_during_backup_recovers(server, monkeypatch):
    c, _ = admin_cinder(server)
    vids = [c.create_volume(1, name=f"bk-crash{i}")["id"] for i in range(2)]
    server.stop()
    monkeypatch.setenv("FERROSTACK_VOLUME_CREATE_DELAY_MS", "3000")
    server.start()
    c, _ = admin_cinder(server)
    bids = [c.post("/backups", json={"backup": {"volume_id": v}}, expect=202).json()
            ["backup"]["id"] for v in vids]
    time.sleep(1.0)  # the workers are inside their delay
    assert {c.get(f"/volumes/{v}", expect=200).json()["volume"]["status"]
            for v in vids} == {"backing-up"}
    server.kill9()

    monkeypatch.delenv("FERROSTACK_VOLUME_CREATE_DELAY_MS")
    server.start()
    c, _ = admin_cinder(server)
    deadline = time.monotonic() + 60
    for b in bids:
        while c.get(f"/backups/{b}", expect=200).json()["backup"]["status"] != "available":
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert all(c.wait_volume(v)["status"] == "available" for v in vids)
    vols_dir = server.data_dir / "volumes"
    files = {p.name for p in vols_dir.iterdir()}
    assert files == {f"volume-{v}.qcow2" for v in vids} | {f"backup-{b}.qcow2" for b in bids}
    # a backup file no row uses is removed at the next start
    (vols_dir / "backup-00000000-0000-0000-0000-000000000000.qcow2").write_bytes(b"x")
    server.kill9()
    server.start()
    assert {p.name for p in vols_dir.iterdir()} == files
