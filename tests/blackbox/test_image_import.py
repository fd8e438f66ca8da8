"""Interoperable image import (Glance v2.6+) and the task API over plain
HTTP: /v2/info/*, stage → uploading, glance-direct → importing → active,
web-download (unreachable, refused by the filter, and from a local HTTP
server allowed by the config), copy-image on a single store, the
import's task at /v2/images/{id}/tasks, /v2/tasks, and the 4xx answers."""

import http.server
import subprocess
import threading
import time

import pytest

import ferro
from imghelp import Images, assert_glance_error, md5, project_users, random_bytes, sha512
from kshelp import uniq


@pytest.fixture
def img(server):
    return Images(server, server.admin_token())


def _stage(img, iid, data, expect=204):
    return img.put(f"/v2/images/{iid}/stage", data=data, expect=expect,
                   headers={"Content-Type": "application/octet-stream"})


def _import(img, iid, method, expect=202, **extra):
    return img.post(f"/v2/images/{iid}/import", json={"method": {"name": method, **extra}},
                    expect=expect)


def _wait(img, iid, pred, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = img.show(iid)
        if pred(body):
            return body
        time.sleep(0.2)
    raise AssertionError(f"image {iid} never reached the wanted state: {body}")


def _wait_tasks(img, iid, status, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = img.get(f"/v2/images/{iid}/tasks", expect=200).json()["tasks"]
        if tasks and all(t["status"] == status for t in tasks):
            return tasks
        time.sleep(0.2)
    raise AssertionError(f"tasks of {iid} never reached {status}: {tasks}")


def test_info_and_create_headers(img):
    body = img.get("/v2/info/import", expect=200).json()
    assert body["import-methods"]["value"] == ["glance-direct", "web-download", "copy-image"]
    assert body["import-methods"]["type"] == "array"
    assert_glance_error(img.get("/v2/info/stores"), 404)
    assert_glance_error(img.get("/v2/info/stores/detail"), 404)
    assert img.get("/v2/info/usage", expect=200).json() == {"usage": {}}
    r = img.post("/v2/images", json={"name": uniq("h"), "disk_format": "raw",
                                     "container_format": "bare"}, expect=201)
    assert r.headers["OpenStack-image-import-methods"] == "glance-direct,web-download,copy-image"
    assert r.headers["Location"].endswith(f"/v2/images/{r.json()['id']}")


def test_glance_direct_import(img):
    data = random_bytes(300_000)
    iid = img.create(name=uniq("gd"))["id"]
    _stage(img, iid, data)
    staged = img.show(iid)
    assert staged["status"] == "uploading" and staged["size"] == len(data)
    assert staged["checksum"] is None
    r = _import(img, iid, "glance-direct")
    assert r.text == ""
    body = _wait(img, iid, lambda b: b["status"] == "active")
    assert body["size"] == len(data) and body["checksum"] == md5(data)
    assert body["os_hash_algo"] == "sha512" and body["os_hash_value"] == sha512(data)
    assert body["os_glance_importing_to_stores"] == ""
    assert body["os_glance_failed_import"] == ""
    assert "os_glance_import_task" not in body
    assert img.get(f"/v2/images/{iid}/file", expect=200).content == data
    tasks = _wait_tasks(img, iid, "success")
    assert len(tasks) == 1
    task = tasks[0]
    assert task["type"] == "api_image_import" and task["image_id"] == iid
    assert task["request_id"] == r.headers["x-openstack-request-id"]
    assert task["input"]["import_req"]["method"]["name"] == "glance-direct"
    assert task["result"] == {"image_id": iid}
    # the task API (admin) shows the same task
    shown = img.get(f"/v2/tasks/{task['id']}", expect=200).json()
    assert shown["status"] == "success" and shown["image_id"] == iid
    assert shown["self"] == f"/v2/tasks/{task['id']}" and "expires_at" in shown
    schema = img.get(shown["schema"], expect=200).json()
    assert schema["name"] == "task" and set(shown) <= set(schema["properties"])
    assert img.get("/v2/schemas/tasks", expect=200).json()["name"] == "tasks"
    # an active image takes no more staging or import
    assert_glance_error(_stage(img, iid, b"more", expect=None), 409)
    assert_glance_error(_import(img, iid, "glance-direct", expect=None), 409)


def test_import_bad_input(img):
    iid = img.create(name=uniq("bad"))["id"]
    url = f"/v2/images/{iid}/import"
    # body shape
    assert_glance_error(img.post(url, json={}), 400)
    assert_glance_error(img.post(url, json={"method": "glance-direct"}), 400)
    assert_glance_error(img.post(url, json={"method": {}}), 400)
    assert_glance_error(img.post(url, json={"method": {"name": "carrier-pigeon"}}), 400)
    assert_glance_error(img.post(url, json={"method": {"name": 7}}), 400)
    assert_glance_error(img.post(url, json={"method": {"name": "glance-direct"},
                                            "all_stores": "yes"}), 400)
    assert_glance_error(img.post(url, data=b"not json",
                                 headers={"Content-Type": "application/json"}), 400)
    # nothing staged: 409; copying a queued image: 409
    assert_glance_error(_import(img, iid, "glance-direct", expect=None), 409)
    assert_glance_error(_import(img, iid, "copy-image", expect=None), 409)
    # web-download needs an allowed URL (http/https, ports 80/443 by default)
    for uri in ("ftp://example.com/x.img", "http://127.0.0.1:8080/x.img", "file:///etc/passwd", ""):
        assert_glance_error(_import(img, iid, "web-download", expect=None, uri=uri), 400)
    assert img.show(iid)["status"] == "queued"
    # formats must be set first
    bare = img.post("/v2/images", json={"name": uniq("nofmt")}, expect=201).json()["id"]
    _stage(img, bare, b"abc")
    assert_glance_error(_import(img, bare, "glance-direct", expect=None), 409)
    # staging needs octet-stream, an existing image
    assert_glance_error(img.put(f"/v2/images/{iid}/stage", data=b"x",
                                headers={"Content-Type": "text/plain"}), 415)
    assert_glance_error(_stage(img, "00000000-0000-0000-0000-000000000000", b"x", expect=None), 404)
    assert_glance_error(_import(img, "00000000-0000-0000-0000-000000000000",
                                "glance-direct", expect=None), 404)
    # staging twice: the second is refused, the first data stays
    _stage(img, iid, b"first")
    assert_glance_error(_stage(img, iid, b"second", expect=None), 409)
    assert img.show(iid)["size"] == 5
    # deleting a staged image removes it (and its staged data)
    img.delete(f"/v2/images/{iid}", expect=204)
    img.show(iid, expect=404)


def test_web_download_unreachable_goes_back_to_queued(img):
    iid = img.create(name=uniq("wd"), disk_format="qcow2")["id"]
    img.patch(f"/v2/images/{iid}", [{"op": "add", "path": "/hw_cpu_cores", "value": "2"}],
              expect=200)
    # nothing listens on port 80 of this address: the download fails
    _import(img, iid, "web-download", uri="http://127.0.0.9:80/nothing.qcow2")
    tasks = _wait_tasks(img, iid, "failure")
    assert tasks[0]["message"]
    body = img.show(iid)
    assert body["status"] == "queued" and body["size"] is None
    assert body["hw_cpu_cores"] == "2"
    assert body["os_glance_failed_import"] == "" and body["os_glance_importing_to_stores"] == ""
    assert "os_glance_import_task" not in body
    # the lock is gone: another import may start
    _stage(img, iid, b"x" * 10)
    assert img.show(iid)["status"] == "uploading"


def test_copy_image_single_store(server, img):
    ks = project_users(server)
    _user, _project, token = ks.user_with_role("member")
    member = Images(server, token)
    data = random_bytes(1000)
    iid = member.create(name=uniq("cp"))["id"]
    member.upload(iid, data)
    # copy_image is admin-only
    assert_glance_error(_import(member, iid, "copy-image", expect=None), 403)
    _import(img, iid, "copy-image")
    tasks = _wait_tasks(img, iid, "failure")
    assert "store" in tasks[0]["message"]
    body = img.show(iid)
    assert body["status"] == "active" and body["checksum"] == md5(data)
    assert "os_glance_import_task" not in body
    assert member.get(f"/v2/images/{iid}/file", expect=200).content == data
    # a reader cannot stage or import
    _u, _p, reader_tok = ks.user_with_role("reader", _project)
    reader = Images(server, reader_tok)
    other = member.create(name=uniq("r"))["id"]
    assert_glance_error(_stage(reader, other, b"x", expect=None), 403)


def test_task_api(server, img):
    ks = project_users(server)
    _user, _project, token = ks.user_with_role("member")
    member = Images(server, token)
    assert_glance_error(member.get("/v2/tasks"), 403)
    assert_glance_error(member.post("/v2/tasks", json={"type": "import", "input": {}}), 403)
    good_input = {"import_from": "http://127.0.0.9/none.qcow2", "import_from_format": "qcow2",
                  "image_properties": {"name": uniq("t"), "disk_format": "qcow2",
                                       "container_format": "bare"}}
    for body in ({}, {"type": "import"}, {"input": good_input},
                 {"type": "bogus", "input": good_input},
                 {"type": "import", "input": "x"},
                 {"type": "import", "input": dict(good_input, import_from="file:///etc/passwd")},
                 {"type": "import", "input": dict(good_input, import_from="swift://a/b")},
                 {"type": "import", "input": dict(good_input, import_from="http://127.0.0.9:8080/x")},
                 {"type": "import", "input": dict(good_input,
                                                  image_properties={"disk_format": "nope"})}):
        assert_glance_error(img.post("/v2/tasks", json=body), 400)
    r = img.post("/v2/tasks", json={"type": "import", "input": good_input}, expect=201)
    task = r.json()
    assert r.headers["Location"].endswith(f"/v2/tasks/{task['id']}")
    assert task["status"] in ("pending", "processing") and task["type"] == "import"
    assert task["input"] == good_input and task["result"] is None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = img.get(f"/v2/tasks/{task['id']}", expect=200).json()
        if shown["status"] == "failure":
            break
        time.sleep(0.2)
    assert shown["status"] == "failure" and shown["message"], shown
    listed = img.get("/v2/tasks", params={"status": "failure"}, expect=200).json()
    assert task["id"] in [t["id"] for t in listed["tasks"]]
    assert "input" not in listed["tasks"][0] and listed["schema"] == "/v2/schemas/tasks"
    assert img.get("/v2/tasks", params={"status": "success"}, expect=200).json()["tasks"] == []
    page = img.get("/v2/tasks", params={"limit": 1}, expect=200).json()
    assert len(page["tasks"]) == 1 and "marker=" in page["next"]
    for params in ({"sort_dir": "sideways"}, {"limit": "x"}, {"limit": -1},
                   {"marker": "not-a-uuid"}, {"status": "exploded"}, {"sort_key": "owner; drop"}):
        assert_glance_error(img.get("/v2/tasks", params=params), 400)
    assert_glance_error(img.get("/v2/tasks/00000000-0000-0000-0000-000000000000"), 404)
    assert_glance_error(img.get("/v2/tasks/not-a-uuid"), 404)
    # no image is left behind by the failed task
    assert not [i for i in img.get("/v2/images", expect=200).json()["images"]
                if i["name"] == good_input["image_properties"]["name"]]


class _Files(http.server.BaseHTTPRequestHandler):
    files = {}

    def do_GET(self):  # noqa: N802 (http.server's naming)
        data = self.files.get(self.path)
        if data is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_web_download_and_format_enforcement(tmp_path):
    """With the port allowed and format matching required (config file):
    web-download and the legacy task fetch a real qcow2; data that is not
    what its disk_format says is refused on upload and fails an import."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    port = httpd.server_address[1]
    qcow = tmp_path / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow), "1M"], check=True)
    backed = tmp_path / "backed.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(qcow),
                    str(backed)], check=True)
    _Files.files = {"/tiny.qcow2": qcow.read_bytes(), "/random.bin": random_bytes(4096)}
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    cfg = tmp_path / "ferrostack.toml"
    cfg.write_text(f"[image]\nimport_allowed_ports = [80, 443, {port}]\n"
                   "require_image_format_match = true\n")
    srv = ferro.Server(tmp_path / "data", extra_args=["--config", str(cfg)])
    srv.start()
    try:
        img = Images(srv, srv.admin_token())
        base = f"http://127.0.0.1:{port}"
        good = img.create(name=uniq("wd"), disk_format="qcow2")["id"]
        _import(img, good, "web-download", uri=base + "/tiny.qcow2")
        body = _wait(img, good, lambda b: b["status"] == "active")
        assert body["checksum"] == md5(_Files.files["/tiny.qcow2"])
        assert _wait_tasks(img, good, "success")[0]["result"] == {"image_id": good}
        # random bytes are not a qcow2: the import fails, the image is queued again
        bad = img.create(name=uniq("wd-bad"), disk_format="qcow2")["id"]
        _import(img, bad, "web-download", uri=base + "/random.bin")
        assert "qcow2" in _wait_tasks(img, bad, "failure")[0]["message"]
        assert img.show(bad)["status"] == "queued"
        # a 404 from the remote side fails the import too
        gone = img.create(name=uniq("wd-404"), disk_format="qcow2")["id"]
        _import(img, gone, "web-download", uri=base + "/missing.qcow2")
        _wait_tasks(img, gone, "failure")
        # uploads: mismatches and a qcow2 with a backing file are refused (400)
        for fmt, data in (("qcow2", random_bytes(2048)), ("raw", qcow.read_bytes()),
                          ("qcow2", backed.read_bytes())):
            iid = img.create(name=uniq("up"), disk_format=fmt)["id"]
            assert_glance_error(img.upload(iid, data, expect=None), 400)
            body = img.show(iid)
            assert body["status"] == "queued" and body["size"] is None
        ok = img.create(name=uniq("up-ok"), disk_format="qcow2")["id"]
        img.upload(ok, qcow.read_bytes())
        raw = img.create(name=uniq("up-raw"), disk_format="raw")["id"]
        img.upload(raw, random_bytes(4096))
        # glance-direct with mismatched staged data fails and goes back to queued
        gd = img.create(name=uniq("gd-bad"), disk_format="qcow2")["id"]
        _stage(img, gd, random_bytes(2048))
        _import(img, gd, "glance-direct")
        _wait_tasks(img, gd, "failure")
        assert img.show(gd)["status"] == "queued"
        # the legacy import task fetches too, and creates the image
        r = img.post("/v2/tasks", json={"type": "import", "input": {
            "import_from": base + "/tiny.qcow2", "import_from_format": "qcow2",
            "image_properties": {"name": uniq("legacy"), "disk_format": "qcow2",
                                 "container_format": "bare"}}}, expect=201)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            task = img.get(f"/v2/tasks/{r.json()['id']}", expect=200).json()
            if task["status"] in ("success", "failure"):
                break
            time.sleep(0.2)
        assert task["status"] == "success", task
        made = img.show(task["result"]["image_id"])
        assert made["status"] == "active" and made["disk_format"] == "qcow2"
    finally:
        srv.stop()
        httpd.shutdown()
