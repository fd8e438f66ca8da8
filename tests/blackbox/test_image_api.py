"""The Image API (Glance v2) over plain HTTP: discovery, the flat create
body, JSON patch, data upload/download with Range, listing with filters and
pagination, name lookups, isolation between projects and the classic port."""

import socket
import uuid

import pytest
import requests

import ferro
from imghelp import Images, assert_glance_error, md5, project_users, random_bytes, sha512
from kshelp import uniq


@pytest.fixture
def img(server):
    return Images(server, server.admin_token())


def test_version_discovery(server):
    # /versions is Glance's explicit request: 200; the others negotiate: 300
    for path in ("/image", "/image/", "/image/versions", "/image/v2", "/image/v2/"):
        r = requests.get(server.url + path, timeout=10)
        want = 200 if path == "/image/versions" else 300
        assert r.status_code == want, (path, r.status_code, r.text)
        versions = r.json()["versions"]
        current = [v for v in versions if v["status"] == "CURRENT"]
        assert [v["id"] for v in current] == ["v2.16"], versions
        assert current[0]["links"] == [{"rel": "self", "href": server.url + "/image/v2/"}]
        assert {"v2.0", "v2.1", "v2.15"} <= {v["id"] for v in versions}
        assert all(v["status"] in ("CURRENT", "SUPPORTED") for v in versions)


def test_create_flat_body_upload_download(img):
    body = img.create(name=uniq("img"), min_disk=1, min_ram=64, hw_foo="bar",
                      tags=["a", "b", "a"], protected=False)
    assert body["status"] == "queued"
    assert body["hw_foo"] == "bar" and sorted(body["tags"]) == ["a", "b"]
    for key in ("checksum", "size", "os_hash_algo", "os_hash_value", "virtual_size"):
        assert key in body and body[key] is None, key
    assert body["visibility"] == "shared" and body["protected"] is False
    assert body["self"] == f"/v2/images/{body['id']}"
    assert body["file"] == f"/v2/images/{body['id']}/file"
    assert body["schema"] == "/v2/schemas/image"
    iid = body["id"]
    # no data yet: 204
    r = img.get(f"/v2/images/{iid}/file")
    assert r.status_code == 204 and r.content == b""
    data = random_bytes(300_000)
    img.upload(iid, data)
    shown = img.show(iid)
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == md5(data)
    assert shown["os_hash_algo"] == "sha512" and shown["os_hash_value"] == sha512(data)
    r = img.get(f"/v2/images/{iid}/file", expect=200)
    assert r.content == data
    assert r.headers["Content-MD5"] == md5(data)
    assert r.headers["Content-Type"] == "application/octet-stream"
    # ranges
    r = img.get(f"/v2/images/{iid}/file", headers={"Range": "bytes=100-199"}, expect=206)
    assert r.content == data[100:200]
    assert r.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    r = img.get(f"/v2/images/{iid}/file", headers={"Range": "bytes=-10"}, expect=206)
    assert r.content == data[-10:]
    r = img.get(f"/v2/images/{iid}/file", headers={"Range": f"bytes={len(data)}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(data)}"
    # a second upload to an active image is refused
    assert_glance_error(img.upload(iid, b"x", expect=None), 409)
    assert img.show(iid)["checksum"] == md5(data)


def test_chunked_upload(img):
    iid = img.create(name=uniq("chunked"))["id"]
    parts = [random_bytes(70_000) for _ in range(5)]
    img.upload(iid, iter(parts))
    data = b"".join(parts)
    shown = img.show(iid)
    assert shown["size"] == len(data) and shown["checksum"] == md5(data)
    assert img.get(f"/v2/images/{iid}/file", expect=200).content == data


def test_json_patch(img):
    iid = img.create(name="before", foo="1")["id"]
    r = img.patch(f"/v2/images/{iid}", [
        {"op": "replace", "path": "/name", "value": "after"},
        {"op": "add", "path": "/bar", "value": "2"},
        {"op": "add", "path": "/foo", "value": "3"},
        {"op": "remove", "path": "/foo"},
        {"op": "replace", "path": "/tags", "value": ["x", "y"]},
        {"op": "replace", "path": "/min_ram", "value": 512},
        {"op": "add", "path": "/a~1b", "value": "slash"},
    ], expect=200).json()
    assert r["name"] == "after" and r["bar"] == "2" and "foo" not in r
    assert sorted(r["tags"]) == ["x", "y"] and r["min_ram"] == 512 and r["a/b"] == "slash"
    assert img.show(iid)["bar"] == "2"
    # atomic: a failing op leaves everything as it was
    r = img.patch(f"/v2/images/{iid}", [
        {"op": "replace", "path": "/name", "value": "nope"},
        {"op": "replace", "path": "/missing", "value": "x"},
    ])
    assert_glance_error(r, 409)
    assert img.show(iid)["name"] == "after"
    assert_glance_error(img.patch(f"/v2/images/{iid}", [{"op": "remove", "path": "/nothere"}]), 409)
    assert_glance_error(img.patch(f"/v2/images/{iid}", [{"op": "replace", "path": "/status", "value": "active"}]), 403)
    assert_glance_error(img.patch(f"/v2/images/{iid}", [{"op": "add", "path": "/os_glance_x", "value": "1"}]), 403)
    assert_glance_error(img.patch(f"/v2/images/{iid}", [{"op": "remove", "path": "/name"}]), 403)
    assert_glance_error(img.patch(f"/v2/images/{iid}", [{"op": "move", "path": "/name"}]), 400)
    assert_glance_error(img.patch(f"/v2/images/{iid}", [{"op": "add", "path": "/k", "value": 1}]), 400)
    assert_glance_error(img.patch(f"/v2/images/{iid}", [{"op": "replace", "path": "/disk_format", "value": "floppy"}]), 400)
    # plain JSON is not a patch media type
    r = img.request("PATCH", f"/v2/images/{iid}", json=[{"op": "replace", "path": "/name", "value": "z"}])
    assert_glance_error(r, 415)
    # the older v2.0 patch form
    r = img.request("PATCH", f"/v2/images/{iid}", data='[{"replace": "/name", "value": "old-style"}]',
                    headers={"Content-Type": "application/openstack-images-v2.0-json-patch"}, expect=200)
    assert r.json()["name"] == "old-style"
    # tags endpoints
    img.put(f"/v2/images/{iid}/tags/new-tag", expect=204)
    assert "new-tag" in img.show(iid)["tags"]
    img.delete(f"/v2/images/{iid}/tags/new-tag", expect=204)
    assert_glance_error(img.delete(f"/v2/images/{iid}/tags/new-tag"), 404)


def test_protected_and_delete_removes_data(img, server):
    iid = img.create(name=uniq("prot"), protected=True)["id"]
    img.upload(iid, b"abc" * 1000)
    assert (server.data_dir / "images" / iid).exists()
    assert_glance_error(img.delete(f"/v2/images/{iid}"), 403)
    img.patch(f"/v2/images/{iid}", [{"op": "replace", "path": "/protected", "value": False}], expect=200)
    img.delete(f"/v2/images/{iid}", expect=204)
    assert not (server.data_dir / "images" / iid).exists()
    assert_glance_error(img.get(f"/v2/images/{iid}"), 404)
    assert_glance_error(img.delete(f"/v2/images/{iid}"), 404)


def test_name_lookup_is_404(img):
    name = uniq("byname")
    iid = img.create(name=name)["id"]
    assert_glance_error(img.get(f"/v2/images/{name}"), 404)
    assert img.list_ids(name=name) == [iid]


def test_filters_sorting_pagination(img):
    tag = uniq("tag")
    made = []
    for i in range(7):
        body = img.create(name=f"{tag}-{i}", tags=[tag], disk_format="qcow2" if i % 2 else "raw",
                          color="red" if i < 3 else "blue")
        img.upload(body["id"], b"z" * (100 * (i + 1)))
        made.append(body["id"])
    # in: lists
    assert sorted(img.list_ids(id=f"in:{made[0]},{made[3]},{uuid.uuid4()}")) == sorted([made[0], made[3]])
    assert sorted(img.list_ids(name=f"in:{tag}-1,{tag}-2")) == sorted(made[1:3])
    assert set(img.list_ids(tag=tag, disk_format="qcow2")) == {made[1], made[3], made[5]}
    assert set(img.list_ids(tag=tag, color="red")) == set(made[:3])
    assert set(img.list_ids(tag=tag, size_min=300, size_max=500)) == set(made[2:5])
    assert set(img.list_ids(tag=tag, status="active")) == set(made)
    assert img.list_ids(tag=tag, status="queued") == []
    # sorting
    asc = img.list_ids(tag=tag, sort_key="size", sort_dir="asc")
    assert asc == made
    assert img.list_ids(tag=tag, sort="size:desc") == made[::-1]
    assert img.list_ids(tag=tag, sort="name:asc,size:desc") == made
    assert_glance_error(img.get("/v2/images", params={"sort_key": "bogus"}), 400)
    assert_glance_error(img.get("/v2/images", params={"sort": "name:up"}), 400)
    assert_glance_error(img.get("/v2/images", params={"sort": "name", "sort_key": "id"}), 400)
    # pagination by following next
    seen, url, pages = [], f"/v2/images?tag={tag}&limit=3&sort_key=name&sort_dir=asc", 0
    while url:
        body = img.get(url.replace("/v2", "/v2", 1), expect=200).json()
        assert body["schema"] == "/v2/schemas/images"
        assert body["first"].startswith("/v2/images")
        seen += [i["id"] for i in body["images"]]
        url = body.get("next")
        pages += 1
        assert pages < 10
    assert seen == made and pages == 3
    assert_glance_error(img.get("/v2/images", params={"marker": str(uuid.uuid4())}), 400)
    assert_glance_error(img.get("/v2/images", params={"limit": "-1"}), 400)
    assert_glance_error(img.get("/v2/images", params={"size_min": "big"}), 400)
    assert_glance_error(img.get("/v2/images", params={"visibility": "everyone"}), 400)


def _member(ks, role="member", project=None):
    user, project, token = ks.user_with_role(role, project)
    return project, token


def test_isolation_between_projects(server):
    ks = project_users(server)
    admin = Images(server, server.admin_token())
    proj_a, tok_a = _member(ks)
    proj_b, tok_b = _member(ks)
    a, b = Images(server, tok_a), Images(server, tok_b)
    private = a.create(name=uniq("a-priv"), visibility="private")
    shared = a.create(name=uniq("a-shared"))
    community = a.create(name=uniq("a-comm"), visibility="community")
    a.upload(private["id"], b"secret")
    # only admin may publicize
    assert_glance_error(a.post("/v2/images", json={"name": "x", "visibility": "public"}), 403)
    assert_glance_error(a.patch(f"/v2/images/{private['id']}",
                                [{"op": "replace", "path": "/visibility", "value": "public"}]), 403)
    public = admin.create(name=uniq("pub"), visibility="public")
    # B: 404 on A's private and shared images, sees public and community
    for iid in (private["id"], shared["id"]):
        assert_glance_error(b.get(f"/v2/images/{iid}"), 404)
        assert_glance_error(b.get(f"/v2/images/{iid}/file"), 404)
        assert_glance_error(b.get(f"/v2/images/{iid}/tasks"), 404)
        assert_glance_error(b.delete(f"/v2/images/{iid}"), 404)
        assert_glance_error(b.patch(f"/v2/images/{iid}", [{"op": "replace", "path": "/name", "value": "x"}]), 404)
    assert b.show(public["id"])["id"] == public["id"]
    # uploads are synchronous: no image ever has an asynchronous task
    assert b.get(f"/v2/images/{public['id']}/tasks", expect=200).json() == {"tasks": []}
    assert a.get(f"/v2/images/{private['id']}/tasks", expect=200).json() == {"tasks": []}
    assert b.show(community["id"])["id"] == community["id"]
    listed = b.list_ids()
    assert public["id"] in listed and private["id"] not in listed and shared["id"] not in listed
    assert community["id"] not in listed and community["id"] in b.list_ids(visibility="community")
    # B cannot change or delete what it can see but does not own
    assert_glance_error(b.delete(f"/v2/images/{public['id']}"), 403)
    assert_glance_error(b.delete(f"/v2/images/{community['id']}"), 403)
    assert_glance_error(b.patch(f"/v2/images/{community['id']}", [{"op": "replace", "path": "/name", "value": "x"}]), 403)
    assert_glance_error(b.put(f"/v2/images/{public['id']}/tags/t"), 403)
    # sharing: A adds B as member; B sees it after accepting
    a.post(f"/v2/images/{shared['id']}/members", json={"member": proj_b["id"]}, expect=200)
    assert b.show(shared["id"])["id"] == shared["id"]
    assert shared["id"] not in b.list_ids()
    assert shared["id"] in b.list_ids(visibility="shared", member_status="pending")
    assert_glance_error(a.put(f"/v2/images/{shared['id']}/members/{proj_b['id']}", json={"status": "accepted"}), 403)
    b.put(f"/v2/images/{shared['id']}/members/{proj_b['id']}", json={"status": "accepted"}, expect=200)
    assert shared["id"] in b.list_ids()
    assert_glance_error(b.delete(f"/v2/images/{shared['id']}"), 403)
    assert_glance_error(a.post(f"/v2/images/{private['id']}/members", json={"member": proj_b["id"]}), 403)
    # a reader may look but not create or change
    _, tok_r = _member(ks, "reader", proj_a)
    reader = Images(server, tok_r)
    assert reader.show(private["id"])["id"] == private["id"]
    assert_glance_error(reader.post("/v2/images", json={"name": "r"}), 403)
    assert_glance_error(reader.delete(f"/v2/images/{private['id']}"), 403)
    assert_glance_error(reader.patch(f"/v2/images/{private['id']}", [{"op": "replace", "path": "/name", "value": "x"}]), 403)
    # admin sees everything
    assert admin.show(private["id"])["owner"] == proj_a["id"]
    # A still has its images intact
    assert a.show(private["id"])["name"] == private["name"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_classic_port(tmp_path):
    ports = {k: _free_port() for k in ("identity", "compute", "network", "image", "block_storage")}
    cfg = tmp_path / "ferrostack.toml"
    cfg.write_text("[ports]\n" + "".join(f"{k} = {v}\n" for k, v in ports.items()))
    srv = ferro.Server(tmp_path / "data", extra_args=["--classic-ports", "--config", str(cfg)])
    srv.start()
    try:
        base = f"http://127.0.0.1:{ports['image']}"
        r = requests.get(base + "/", timeout=10)
        assert r.status_code == 300
        assert r.json()["versions"][0]["links"][0]["href"] == base + "/v2/"
        classic = Images(srv, srv.admin_token(), base=base)
        iid = classic.create(name=uniq("classic"))["id"]
        classic.upload(iid, b"hello")
        assert classic.get(f"/v2/images/{iid}/file", expect=200).content == b"hello"
        prefixed = Images(srv, srv.admin_token())
        assert prefixed.show(iid)["size"] == 5
    finally:
        srv.stop()


def test_null_image_id(img):
    # `/v2/images/` is a show or delete of an empty id: 404 as Glance answers
    assert_glance_error(img.get("/v2/images/"), 404)
    assert_glance_error(img.delete("/v2/images/"), 404)
    # the collection itself takes no DELETE
    r = img.delete("/v2/images")
    assert_glance_error(r, 405)
    assert "POST" in r.headers.get("Allow", "")
    assert img.get("/v2/images", expect=200).json()["images"] is not None
