"""`GET /servers/detail` renders a whole page at once (one network read and
one attachments query per page): every server in a list must look exactly
as `GET /servers/{id}` shows it — addresses, security groups, attached
volumes — across projects, pages and the `ip` filter."""

import requests

from computehelp import Nova, image, net, project_token, token, wait
from volumehelp import admin_cinder


def _security_group(s, tok, name):
    r = requests.post(s.url + "/networking/v2.0/security-groups", headers={"X-Auth-Token": tok},
                      json={"security_group": {"name": name}}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["security_group"]["id"]


def _fixed_ip(server):
    return [a["addr"] for addrs in server["addresses"].values() for a in addrs
            if a["OS-EXT-IPS:type"] == "fixed"][0]


def test_detail_page_matches_show(sqlite_server):
    s = sqlite_server
    admin_tok = token(s)
    admin = Nova(s, admin_tok)
    iid, nid = image(s, admin_tok), net(s, admin_tok)

    def boot(name, **extra):
        body = {"server": {"name": name, "imageRef": iid, "flavorRef": "42",
                           "networks": [{"uuid": nid}], **extra}}
        r = admin.post("/servers", body)
        assert r.status_code == 202, r.text
        return wait(admin, r.json()["server"]["id"], "ACTIVE")["id"]

    _security_group(s, admin_tok, "web")
    plain = boot("plain")
    grouped = boot("grouped", security_groups=[{"name": "default"}, {"name": "web"}])
    with_volume = boot("with-volume")
    cinder, _ks = admin_cinder(s)
    vid = cinder.create_volume(size=1)["id"]
    r = admin.post(f"/servers/{with_volume}/os-volume_attachments",
                   {"volumeAttachment": {"volumeId": vid}})
    assert r.status_code == 200, r.text
    assert cinder.wait_volume(vid, until=("in-use", "error"))["status"] == "in-use"

    other_tok = project_token(s, admin_tok, "detailpage")
    other = Nova(s, other_tok)
    r = other.post("/servers", {"server": {"name": "foreign", "imageRef": iid, "flavorRef": "42",
                                           "networks": [{"uuid": net(s, other_tok)}]}})
    assert r.status_code == 202, r.text
    foreign = wait(other, r.json()["server"]["id"], "ACTIVE")["id"]

    servers = admin.get("/servers/detail?all_tenants=1").json()["servers"]
    by_id = {x["id"]: x for x in servers}
    assert set(by_id) == {plain, grouped, with_volume, foreign}
    for sid, listed in by_id.items():
        shown = admin.get(f"/servers/{sid}").json()["server"]
        assert listed == shown, sid

    assert [g["name"] for g in by_id[plain]["security_groups"]] == ["default"]
    assert sorted(g["name"] for g in by_id[grouped]["security_groups"]) == ["default", "web"]
    assert by_id[with_volume]["os-extended-volumes:volumes_attached"] == [{"id": vid}]
    assert by_id[plain]["os-extended-volumes:volumes_attached"] == []
    assert list(by_id[foreign]["addresses"]) == ["n1"]
    for sid in (plain, grouped, with_volume):
        assert list(by_id[sid]["addresses"]) == ["n1"]
        (addr,) = by_id[sid]["addresses"]["n1"]
        assert addr["version"] == 4 and addr["addr"].startswith("10.1.0.")
        assert addr["OS-EXT-IPS-MAC:mac_addr"]

    # Pages of one: the same views, page by page.
    seen, url = [], "/servers/detail?all_tenants=1&limit=1"
    while url:
        body = admin.get(url).json()
        assert len(body["servers"]) <= 1
        seen += body["servers"]
        nxt = [link["href"] for link in body.get("servers_links", []) if link["rel"] == "next"]
        url = nxt[0].split("/v2.1", 1)[1] if nxt else None
    assert {x["id"]: x for x in seen} == by_id

    # The other project sees only its own server, as its owner shows it.
    mine = other.get("/servers/detail").json()["servers"]
    assert [x["id"] for x in mine] == [foreign]
    assert mine[0] == other.get(f"/servers/{foreign}").json()["server"]

    # The ip filter reads every candidate's ports in one go too.
    ip = _fixed_ip(by_id[grouped])
    hits = admin.get("/servers/detail", params={"ip": "^" + ip.replace(".", r"\.") + "$"})
    assert [x["id"] for x in hits.json()["servers"]] == [grouped]
    assert admin.get("/servers", params={"ip": "^192\\.0\\.2\\."}).json()["servers"] == []


def _walk(nova, path, params):
    """Every page of a list, following the next links; the ids in order."""
    ids, url, params = [], path, dict(params)
    while True:
        r = nova.get(url, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [x["id"] for x in body["servers"]]
        nxt = [link["href"] for link in body.get("servers_links", []) if link["rel"] == "next"]
        if not nxt:
            return ids
        url, params = nxt[0].split("/v2.1", 1)[1], {}


def test_pages_from_the_database_match_filtered_pages(server):
    """Without row filters the database sorts and cuts the page; with one
    (`flavor`, true of every server here) every row is read and paged in
    memory. Both must give the same pages, markers, order and errors."""
    s = server
    admin_tok = token(s)
    iid = image(s, admin_tok)
    tok = project_token(s, admin_tok, "paging")
    nova = Nova(s, tok)
    nid = net(s, tok)
    r = nova.post("/servers", {"server": {"name": "p", "imageRef": iid, "flavorRef": "42",
                                          "networks": [{"uuid": nid}], "min_count": 7}})
    assert r.status_code == 202, r.text
    everything = [x["id"] for x in nova.get("/servers").json()["servers"]]
    assert len(everything) == 7
    for sid in everything:
        wait(nova, sid, "ACTIVE")

    for path in ("/servers", "/servers/detail"):
        for extra in ({}, {"sort_dir": "asc"}):
            for limit in (1, 2, 3, 7, 50):
                fast = _walk(nova, path, {"limit": limit, **extra})
                slow = _walk(nova, path, {"limit": limit, "flavor": "42", **extra})
                assert fast == slow, (path, extra, limit)
                assert sorted(fast) == sorted(everything)
            assert _walk(nova, path, extra) == (everything[::-1] if extra else everything)

    # Markers: after the third, and the last (an empty page, no next link).
    third = everything[2]
    for extra in ({}, {"flavor": "42"}):
        body = nova.get("/servers", params={"marker": third, "limit": 2, **extra}).json()
        assert [x["id"] for x in body["servers"]] == everything[3:5]
        body = nova.get("/servers", params={"marker": everything[-1], **extra}).json()
        assert body["servers"] == [] and "servers_links" not in body
        assert nova.get("/servers", params={"limit": 0, **extra}).json()["servers"] == []
        for bad in ({"marker": "no-such-server"}, {"limit": "ten"}, {"limit": "-1"}):
            r = nova.get("/servers/detail", params={**bad, **extra})
            assert r.status_code == 400, (bad, extra, r.text)
            assert r.json()["badRequest"]["code"] == 400
    # Another project's server is not a marker here.
    admin = Nova(s, admin_tok)
    r = admin.post("/servers", {"server": {"name": "adm", "imageRef": iid, "flavorRef": "42",
                                           "networks": [{"uuid": net(s, admin_tok)}]}})
    assert r.status_code == 202, r.text
    assert nova.get("/servers", params={"marker": r.json()["server"]["id"]}).status_code == 400
