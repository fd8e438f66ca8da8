"""A crash in the middle of an upload leaves no image that claims data it
does not have: after `kill -9` and a restart the image is back in `queued`
(Glance v2's answer to a failed upload), has no checksum, no temporary file
remains, and a fresh upload succeeds."""

import threading
import time

import requests

from imghelp import Images, md5, random_bytes


def test_kill9_mid_upload(server):
    img = Images(server, server.admin_token())
    iid = img.create(name="crashy", disk_format="qcow2")["id"]
    store = server.data_dir / "images"
    sent = threading.Event()

    def body():
        for _ in range(8):
            yield b"a" * 256 * 1024
        sent.set()
        time.sleep(60)  # the server dies while waiting for the rest
        yield b"never"

    def upload():
        try:
            requests.put(f"{img.base}/v2/images/{iid}/file", data=body(), timeout=90,
                         headers={"X-Auth-Token": img.token,
                                  "Content-Type": "application/octet-stream"})
        except requests.RequestException:
            pass

    t = threading.Thread(target=upload, daemon=True)
    t.start()
    assert sent.wait(30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        temps = [p for p in store.glob(".tmp-*")] if store.exists() else []
        if temps and temps[0].stat().st_size >= 2 * 1024 * 1024:
            break
        time.sleep(0.05)
    assert temps, "the upload never reached the disk"
    assert img.show(iid)["status"] == "saving"
    server.kill9()
    server.start()  # a new port: talk to it afresh
    img = Images(server, server.admin_token())

    shown = img.show(iid)
    assert shown["status"] == "queued", shown
    assert shown["checksum"] is None and shown["size"] is None and shown["os_hash_value"] is None
    assert list(store.glob(".tmp-*")) == []
    assert not (store / iid).exists()
    r = img.get(f"/v2/images/{iid}/file")
    assert r.status_code == 204

    data = random_bytes(1024 * 1024)
    img.upload(iid, data)
    shown = img.show(iid)
    assert shown["status"] == "active" and shown["checksum"] == md5(data)
    assert img.get(f"/v2/images/{iid}/file", expect=200).content == data
    fresh = img.create(name="after-crash")["id"]
    img.upload(fresh, b"ok")
    assert img.show(fresh)["status"] == "active"
    t.join(1)


def test_kill9_mid_stage_and_with_staged_data(server):
    """A stage cut short by `kill -9` leaves the image `queued` with no
    staged file; a completed stage survives a restart and imports."""
    img = Images(server, server.admin_token())
    cut = img.create(name="cut-stage")["id"]
    done = img.create(name="staged")["id"]
    staged = random_bytes(100_000)
    img.put(f"/v2/images/{done}/stage", data=staged, expect=204,
            headers={"Content-Type": "application/octet-stream"})
    staging = server.data_dir / "images" / "staging"
    sent = threading.Event()

    def body():
        for _ in range(8):
            yield b"s" * 256 * 1024
        sent.set()
        time.sleep(60)
        yield b"never"

    def stage():
        try:
            requests.put(f"{img.base}/v2/images/{cut}/stage", data=body(), timeout=90,
                         headers={"X-Auth-Token": img.token,
                                  "Content-Type": "application/octet-stream"})
        except requests.RequestException:
            pass

    t = threading.Thread(target=stage, daemon=True)
    t.start()
    assert sent.wait(30)
    deadline = time.monotonic() + 10
    temps = []
    while time.monotonic() < deadline:
        temps = list(staging.glob(".tmp-*"))
        if temps and temps[0].stat().st_size >= 2 * 1024 * 1024:
            break
        time.sleep(0.05)
    assert temps, "the stage never reached the disk"
    assert img.show(cut)["status"] == "uploading"
    server.kill9()
    server.start()
    img = Images(server, server.admin_token())

    shown = img.show(cut)
    assert shown["status"] == "queued" and shown["size"] is None, shown
    assert list(staging.glob(".tmp-*")) == [] and not (staging / cut).exists()
    assert img.show(done)["status"] == "uploading"
    assert (staging / done).exists()
    img.post(f"/v2/images/{done}/import", json={"method": {"name": "glance-direct"}},
             expect=202)
    deadline = time.monotonic() + 30
    while img.show(done)["status"] != "active" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert img.show(done)["checksum"] == md5(staged)
    assert not (staging / done).exists()
    # the cut image stages again
    img.put(f"/v2/images/{cut}/stage", data=b"again", expect=204,
            headers={"Content-Type": "application/octet-stream"})
    t.join(1)
