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
