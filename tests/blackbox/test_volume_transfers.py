"""Volume transfers: `/os-volume-transfer` (3.0) and `/volume-transfers`
(3.55 `no_snapshots`, 3.57 history fields, 3.59 paging), the auth key shown
once, accept moving the volume and its snapshots, isolation, bad input, and
`openstack volume transfer request create/accept` through the real CLI."""

import copy

import yaml

from kshelp import uniq
from test_identity_cli import Cli
from volumehelp import admin_cinder, assert_cinder_error, member_cinder


def mv(v):
    return {"OpenStack-API-Version": f"volume {v}"}


def test_transfer_lifecycle_and_versions(server):
    admin, ks = admin_cinder(server)
    giver, gp = member_cinder(server, ks)
    taker, tp = member_cinder(server, ks)
    v = giver.create_volume(1, name="moving")
    snap = giver.create_snapshot(v["id"])
    # 3.0 shape on the legacy route
    t = giver.post("/os-volume-transfer", json={"transfer": {"volume_id": v["id"],
                                                            "name": " t1 "}},
                   expect=202).json()["transfer"]
    assert set(t) == {"id", "created_at", "name", "volume_id", "auth_key", "links"}
    assert t["name"] == "t1" and len(t["auth_key"]) == 16
    assert giver.get(f"/volumes/{v['id']}", expect=200).json()["volume"]["status"] == \
        "awaiting-transfer"
    shown = giver.get(f"/os-volume-transfer/{t['id']}", expect=200).json()["transfer"]
    assert "auth_key" not in shown
    shown = giver.get(f"/volume-transfers/{t['id']}", headers=mv("3.57"),
                      expect=200).json()["transfer"]
    assert shown["no_snapshots"] is False and shown["accepted"] is False
    assert shown["source_project_id"] == gp["id"] and shown["destination_project_id"] is None
    shown = giver.get(f"/volume-transfers/{t['id']}", headers=mv("3.56"),
                      expect=200).json()["transfer"]
    assert "no_snapshots" in shown and "accepted" not in shown
    lst = giver.get("/os-volume-transfer", expect=200).json()["transfers"]
    assert [x["id"] for x in lst] == [t["id"]] and set(lst[0]) == {"id", "volume_id",
                                                                    "name", "links"}
    # other projects neither see nor delete it; a second offer is refused
    assert_cinder_error(taker.get(f"/os-volume-transfer/{t['id']}"), 404)
    assert taker.get("/os-volume-transfer", expect=200).json() == {"transfers": []}
    assert_cinder_error(taker.delete(f"/os-volume-transfer/{t['id']}"), 404)
    assert_cinder_error(giver.post("/os-volume-transfer", json={
        "transfer": {"volume_id": v["id"]}}), 400)
    # a wrong key is a 400, the right one moves volume and snapshot
    assert_cinder_error(taker.post(f"/os-volume-transfer/{t['id']}/accept",
                                   json={"accept": {"auth_key": "0" * 16}}), 400)
    r = taker.post(f"/os-volume-transfer/{t['id']}/accept",
                   json={"accept": {"auth_key": t["auth_key"]}}, expect=202).json()
    assert r["transfer"]["id"] == t["id"] and r["transfer"]["volume_id"] == v["id"]
    moved = taker.get(f"/volumes/{v['id']}", expect=200).json()["volume"]
    assert moved["status"] == "available"
    assert taker.get(f"/snapshots/{snap['id']}", expect=200).json()["snapshot"]["id"]
    assert_cinder_error(giver.get(f"/volumes/{v['id']}"), 404)
    assert_cinder_error(giver.get(f"/snapshots/{snap['id']}"), 404)
    # accepted: gone from the list, a second accept is a 404
    assert giver.get("/os-volume-transfer", expect=200).json() == {"transfers": []}
    assert_cinder_error(taker.post(f"/os-volume-transfer/{t['id']}/accept",
                                   json={"accept": {"auth_key": t["auth_key"]}}), 404)
    lim = taker.get("/limits", expect=200).json()["limits"]["absolute"]
    assert lim["totalVolumesUsed"] == 1 and lim["totalSnapshotsUsed"] == 1


def test_no_snapshots_355_and_delete(server):
    admin, ks = admin_cinder(server)
    giver, _ = member_cinder(server, ks)
    taker, tp = member_cinder(server, ks)
    v = giver.create_volume(1)
    snap = giver.create_snapshot(v["id"])
    body = {"transfer": {"volume_id": v["id"], "no_snapshots": True}}
    # no_snapshots: not on the legacy route, not below 3.55
    assert "no_snapshots" in assert_cinder_error(
        giver.post("/os-volume-transfer", json=body, headers=mv("3.55")), 400)
    assert "no_snapshots" in assert_cinder_error(
        giver.post("/volume-transfers", json=body, headers=mv("3.54")), 400)
    t = giver.post("/volume-transfers", json=body, headers=mv("3.57"),
                   expect=202).json()["transfer"]
    assert t["no_snapshots"] is True and t["accepted"] is False and t["auth_key"]
    # withdraw, offer again, accept: the snapshot stays behind
    giver.delete(f"/volume-transfers/{t['id']}", expect=202)
    assert giver.get(f"/volumes/{v['id']}", expect=200).json()["volume"]["status"] == \
        "available"
    assert_cinder_error(giver.get(f"/volume-transfers/{t['id']}"), 404)
    t = giver.post("/volume-transfers", json=body, headers=mv("3.55"),
                   expect=202).json()["transfer"]
    taker.post(f"/volume-transfers/{t['id']}/accept",
               json={"accept": {"auth_key": t["auth_key"]}}, expect=202)
    assert taker.get(f"/volumes/{v['id']}", expect=200).json()["volume"]["id"] == v["id"]
    assert giver.get(f"/snapshots/{snap['id']}", expect=200).json()["snapshot"]["id"]


def test_paging_359(server):
    c, _ = admin_cinder(server)
    ids = []
    for n in range(3):
        v = c.create_volume(1)
        ids.append(c.post("/volume-transfers", json={"transfer": {
            "volume_id": v["id"], "name": f"t{n}"}}, expect=202).json()["transfer"]["id"])
    r = c.get("/volume-transfers?limit=2&sort=name:asc", headers=mv("3.59"), expect=200).json()
    assert [t["name"] for t in r["transfers"]] == ["t0", "t1"]
    assert r["transfers_links"][0]["rel"] == "next"
    r = c.get(r["transfers_links"][0]["href"], headers=mv("3.59"), expect=200).json()
    assert [t["name"] for t in r["transfers"]] == ["t2"]
    # before 3.59: oldest first, a limit but no links
    r = c.get("/volume-transfers/detail?limit=2&sort=name:desc", headers=mv("3.58"),
              expect=200).json()
    assert [t["id"] for t in r["transfers"]] == ids[:2] and "transfers_links" not in r


def test_transfer_bad_input(server):
    c, _ = admin_cinder(server)
    vid = c.create_volume(1)["id"]
    for body, field in [({"transfer": {}}, "volume_id"),
                        ({"transfer": {"volume_id": "x"}}, "volume_id"),
                        ({"transfer": {"volume_id": vid, "bogus": 1}}, "bogus"),
                        ({"transfer": {"volume_id": vid, "name": 5}}, "name"),
                        ({"transfer": {"volume_id": vid, "name": "a\x01b"}}, "name"),
                        ({"transfer": {"volume_id": vid}, "extra": 1}, "extra"),
                        ({"transfer": None}, "transfer")]:
        for path in ("/os-volume-transfer", "/volume-transfers"):
            r = c.post(path, json=body, headers=mv("latest"))
            assert field in assert_cinder_error(r, 400), (path, body)
    t = c.post("/volume-transfers", json={"transfer": {"volume_id": vid}},
               expect=202).json()["transfer"]
    for body, field in [({"accept": {}}, "auth_key"), ({"accept": {"auth_key": None}},
                                                       "auth_key"),
                        ({"accept": {"auth_key": "k", "x": 1}}, "x")]:
        r = c.post(f"/volume-transfers/{t['id']}/accept", json=body)
        assert field in assert_cinder_error(r, 400)
    assert_cinder_error(c.get("/volume-transfers/" + "0" * 32), 404)


def _cli_for(server, tmp_path, user, password, project_id):
    doc = yaml.safe_load(server.clouds_yaml.read_text())
    cloud = copy.deepcopy(doc["clouds"]["ferrostack"])
    auth = cloud["auth"]
    for k in ("project_name", "project_domain_name", "project_domain_id", "token"):
        auth.pop(k, None)
    auth.update({"username": user, "password": password, "project_id": project_id,
                 "user_domain_id": "default"})
    auth.pop("user_domain_name", None)
    path = tmp_path / "taker-clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": {"taker": cloud}}))
    return Cli(server, config_file=path, cloud="taker")


def test_cli_transfer_request_create_accept(server, tmp_path):
    admin, ks = admin_cinder(server)
    cli = Cli(server)
    v = admin.create_volume(1, name="cli-moving")
    req = cli.json("volume", "transfer", "request", "create", "--name", "tr1", v["id"])
    assert req["volume_id"] == v["id"] and req["auth_key"]
    rows = cli.json("volume", "transfer", "request", "list")
    assert [r for r in rows if r["ID"] == req["id"]], rows
    shown = cli.json("volume", "transfer", "request", "show", req["id"])
    assert shown["name"] == "tr1"
    name, password = uniq("taker"), "secret-pass-1"
    project = ks.create_project(uniq("takerp"))
    user = ks.create_user(name, password=password)
    ks.grant_project(project["id"], user["id"], "member")
    taker = _cli_for(server, tmp_path, name, password, project["id"])
    got = taker.json("volume", "transfer", "request", "accept", "--auth-key",
                     req["auth_key"], req["id"])
    assert got["id"] == req["id"]
    shown = taker.json("volume", "show", v["id"])
    assert shown["status"] == "available"
    assert_cinder_error(admin.get(f"/volume-transfers/{req['id']}"), 404)
