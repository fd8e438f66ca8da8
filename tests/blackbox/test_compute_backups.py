"""createBackup (rotation over Glance images) and os-server-password, on the
wire and with openstacksdk."""

import requests

from computehelp import Nova, boot_active, settled, shared_net_server, token


def _backups(s, tok, sid, backup_type):
    r = requests.get(s.url + "/image/v2/images", headers={"X-Auth-Token": tok}, timeout=10,
                     params={"instance_uuid": sid, "image_type": "backup", "backup_type": backup_type,
                             "sort_key": "created_at", "sort_dir": "asc"})
    assert r.status_code == 200, r.text
    return [(i["id"], i["name"]) for i in r.json()["images"]]


def test_backup_rotation(sqlite_server):
    s = sqlite_server
    tok = token(s)
    nova = Nova(s, tok)
    sid = boot_active(nova, s, tok, "bk")
    ids = []
    for n in ("b1", "b2", "b3"):
        r = nova.post(f"/servers/{sid}/action",
                      {"createBackup": {"name": n, "backup_type": "daily", "rotation": 2,
                                        "metadata": {"k": "v"}}})
        assert r.status_code == 202 and r.text == "", r.text
        loc = r.headers["Location"]
        assert "/v2.1/images/" in loc
        ids.append(loc.rsplit("/", 1)[1])
        settled(nova, sid)  # one snapshot at a time (409 while one runs)
    # b1 rotated out; b2, b3 kept, oldest first
    assert _backups(s, tok, sid, "daily") == [(ids[1], "b2"), (ids[2], "b3")]
    img = requests.get(f"{s.url}/image/v2/images/{ids[2]}", headers={"X-Auth-Token": tok},
                       timeout=10).json()
    assert img["status"] == "active" and img["k"] == "v" and img["instance_uuid"] == sid
    assert img["image_type"] == "backup" and img["backup_type"] == "daily"
    # another backup_type is rotated on its own; rotation 0 keeps none (no Location)
    r = nova.post(f"/servers/{sid}/action",
                  {"createBackup": {"name": "w", "backup_type": "weekly", "rotation": "1"}})
    assert r.status_code == 202
    settled(nova, sid)
    assert len(_backups(s, tok, sid, "weekly")) == 1
    r = nova.post(f"/servers/{sid}/action",
                  {"createBackup": {"name": "w0", "backup_type": "weekly", "rotation": 0}})
    assert r.status_code == 202 and "Location" not in r.headers
    settled(nova, sid)
    assert _backups(s, tok, sid, "weekly") == []
    assert len(_backups(s, tok, sid, "daily")) == 2
    acts = nova.get(f"/servers/{sid}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in acts].count("createBackup") == 5


def test_backup_bad_input_and_state(sqlite_server):
    s = sqlite_server
    tok = token(s)
    nova = Nova(s, tok)
    sid = boot_active(nova, s, tok, "bk")
    for body, field in [({"name": "x", "backup_type": "daily"}, "rotation"),
                        ({"backup_type": "daily", "rotation": 1}, "name"),
                        ({"name": "x", "rotation": 1}, "backup_type"),
                        ({"name": "x", "backup_type": "daily", "rotation": -1}, "rotation"),
                        ({"name": "x", "backup_type": "daily", "rotation": "two"}, "rotation"),
                        ({"name": "x", "backup_type": 5, "rotation": 1}, "backup_type"),
                        ({"name": " x", "backup_type": "d", "rotation": 1}, "name"),
                        ({"name": "x", "backup_type": "d", "rotation": 1, "extra": 1}, "extra"),
                        ({"name": "x", "backup_type": "d", "rotation": 1, "metadata": []}, "metadata")]:
        r = nova.post(f"/servers/{sid}/action", {"createBackup": body})
        assert r.status_code == 400, (body, r.text)
        assert field in r.json()["badRequest"]["message"], (body, r.text)
    assert nova.post(f"/servers/{sid}/action", {"createBackup": None}).status_code == 400
    r = nova.post("/servers/6b8f2d1e-0000-4000-8000-00000000dead/action",
                  {"createBackup": {"name": "x", "backup_type": "d", "rotation": 1}})
    assert r.status_code == 404 and "itemNotFound" in r.json()


def test_server_password(sqlite_server):
    s = sqlite_server
    admin = token(s)
    member, other, r = shared_net_server(s, admin, "pw")
    sid = r.json()["server"]["id"]
    r = member.get(f"/servers/{sid}/os-server-password")
    assert r.status_code == 200 and r.json() == {"password": ""}
    r = member.req("DELETE", f"/servers/{sid}/os-server-password")
    assert r.status_code == 204 and r.text == ""
    assert other.get(f"/servers/{sid}/os-server-password").status_code == 404
    assert other.req("DELETE", f"/servers/{sid}/os-server-password").status_code == 404
    r = member.get("/servers/6b8f2d1e-0000-4000-8000-00000000dead/os-server-password")
    assert r.status_code == 404 and "itemNotFound" in r.json()


def test_backup_with_sdk(sqlite_server):
    import openstack

    s = sqlite_server
    tok = token(s)
    nova = Nova(s, tok)
    sid = boot_active(nova, s, tok, "bk")
    conn = openstack.connect(auth_url=s.identity_url + "/v3", username="admin",
                             password=s.admin_password, project_name="admin",
                             user_domain_id="default", project_domain_id="default")
    conn.compute.backup_server(sid, "sdk-backup", "daily", 1)
    assert [n for _, n in _backups(s, tok, sid, "daily")] == ["sdk-backup"]
    assert conn.compute.get_server_password(sid) == ""
