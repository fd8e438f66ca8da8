"""Server groups (os-server-groups at microversion 2.1): create/list/show/
delete, members through the `group` scheduler hint, anti-affinity on the one
compute host (the second member goes ERROR with NoValidHost), quotas,
isolation between projects, and the openstack CLI."""

import requests

from computehelp import Nova, image, net, project_token, token, wait
from test_identity_cli import Cli


def _boot(nova, iid, nid, name, group=None):
    body = {"server": {"name": name, "imageRef": iid, "flavorRef": "42", "networks": [{"uuid": nid}]}}
    if group:
        body["os:scheduler_hints"] = {"group": group}
    return nova.post("/servers", body)


def test_server_group_lifecycle(server):
    tok = token(server)
    nova = Nova(server, tok)
    iid, nid = image(server, tok), net(server, tok)
    r = nova.post("/os-server-groups", {"server_group": {"name": "aff", "policies": ["affinity"]}})
    assert r.status_code == 200, r.text
    aff = r.json()["server_group"]
    assert aff == {"id": aff["id"], "name": "aff", "policies": ["affinity"], "members": [], "metadata": {}}
    assert nova.get(f"/os-server-groups/{aff['id']}").json()["server_group"] == aff
    assert aff in nova.get("/os-server-groups").json()["server_groups"]
    # two affinity members are fine on one host
    ids = []
    for n in range(2):
        r = _boot(nova, iid, nid, f"a{n}", aff["id"])
        assert r.status_code == 202, r.text
        ids.append(r.json()["server"]["id"])
    for sid in ids:
        wait(nova, sid, "ACTIVE")
    assert nova.get(f"/os-server-groups/{aff['id']}").json()["server_group"]["members"] == ids
    # anti-affinity: the second member finds no valid host
    anti = nova.post("/os-server-groups", {"server_group": {"name": "anti", "policies": ["anti-affinity"]}}).json()["server_group"]
    first = _boot(nova, iid, nid, "b0", anti["id"]).json()["server"]["id"]
    wait(nova, first, "ACTIVE")
    second = _boot(nova, iid, nid, "b1", anti["id"]).json()["server"]["id"]
    failed = wait(nova, second, "ERROR")
    assert failed["fault"]["code"] == 500 and "No valid host" in failed["fault"]["message"]
    assert set(nova.get(f"/os-server-groups/{anti['id']}").json()["server_group"]["members"]) == {first, second}
    # deleting a server removes it from its group
    assert nova.req("DELETE", f"/servers/{ids[0]}").status_code == 204
    wait(nova, ids[0], "DELETED")
    assert nova.get(f"/os-server-groups/{aff['id']}").json()["server_group"]["members"] == [ids[1]]
    # delete the group
    assert nova.req("DELETE", f"/os-server-groups/{aff['id']}").status_code == 204
    r = nova.get(f"/os-server-groups/{aff['id']}")
    assert r.status_code == 404 and "itemNotFound" in r.json()
    assert nova.req("DELETE", f"/os-server-groups/{aff['id']}").status_code == 404


def test_server_group_bad_input_and_quota(sqlite_server):
    s = sqlite_server
    tok = token(s)
    nova = Nova(s, tok)
    bad = [
        {"server_group": {"name": "x"}},
        {"server_group": {"policies": ["affinity"]}},
        {"server_group": {"name": "", "policies": ["affinity"]}},
        {"server_group": {"name": " x", "policies": ["affinity"]}},
        {"server_group": {"name": "x", "policies": "affinity"}},
        {"server_group": {"name": "x", "policies": []}},
        {"server_group": {"name": "x", "policies": ["affinity", "anti-affinity"]}},
        {"server_group": {"name": "x", "policies": ["soft-affinity"]}},  # needs 2.15
        {"server_group": {"name": "x", "policies": ["bogus"]}},
        {"server_group": {"name": "x", "policies": ["affinity"], "extra": 1}},
        {"server_group": "x"},
    ]
    for body in bad:
        r = nova.post("/os-server-groups", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["badRequest"]["code"] == 400
    msg = nova.post("/os-server-groups", bad[0]).json()["badRequest"]["message"]
    assert "policies" in msg
    assert nova.get("/os-server-groups?limit=x").status_code == 400
    assert nova.get("/os-server-groups?offset=-1").status_code == 400
    iid, nid = image(s, tok), net(s, tok)
    r = _boot(nova, iid, nid, "h", "not-a-uuid")
    assert r.status_code == 400
    r = _boot(nova, iid, nid, "h", "6b8f2d1e-0000-4000-8000-00000000dead")
    assert r.status_code == 400 and "could not be found" in r.json()["badRequest"]["message"]
    made = [nova.post("/os-server-groups", {"server_group": {"name": f"g{n}", "policies": ["affinity"]}})
            for n in range(11)]
    assert [m.status_code for m in made] == [200] * 10 + [403]
    assert "server groups" in made[-1].json()["forbidden"]["message"]
    assert nova.get("/limits").json()["limits"]["absolute"]["totalServerGroupsUsed"] == 10
    page = nova.get("/os-server-groups?limit=3&offset=8").json()["server_groups"]
    assert [g["name"] for g in page] == ["g8", "g9"]
    # members quota: 10 per group
    gid = made[0].json()["server_group"]["id"]
    body = {"server": {"name": "m", "imageRef": iid, "flavorRef": "42", "networks": [{"uuid": nid}],
                       "min_count": 11, "max_count": 11}, "os:scheduler_hints": {"group": gid}}
    r = nova.post("/servers", body)
    assert r.status_code == 403, r.text


def test_server_group_isolation(sqlite_server):
    s = sqlite_server
    admin = token(s)
    a = Nova(s, project_token(s, admin, "pa"))
    b = Nova(s, project_token(s, admin, "pb"))
    g = a.post("/os-server-groups", {"server_group": {"name": "mine", "policies": ["affinity"]}}).json()["server_group"]
    assert b.get(f"/os-server-groups/{g['id']}").status_code == 404
    assert b.req("DELETE", f"/os-server-groups/{g['id']}").status_code == 404
    assert b.get("/os-server-groups").json()["server_groups"] == []
    assert b.get("/os-server-groups?all_projects=True").json()["server_groups"] == []
    # another project cannot boot into the group
    iid = image(s, admin)
    nid = net(s, admin)
    requests.put(s.url + f"/networking/v2.0/networks/{nid}", headers={"X-Auth-Token": admin},
                 json={"network": {"shared": True}}, timeout=10)
    r = _boot(b, iid, nid, "intruder", g["id"])
    assert r.status_code == 400, r.text
    admin_nova = Nova(s, admin)
    assert admin_nova.get("/os-server-groups").json()["server_groups"] == []
    listed = admin_nova.get("/os-server-groups?all_projects=True").json()["server_groups"]
    assert [x["id"] for x in listed] == [g["id"]]
    assert admin_nova.get(f"/os-server-groups/{g['id']}").status_code == 200


def test_server_group_cli(sqlite_server):
    s = sqlite_server
    cli = Cli(s)
    g = cli.json("server", "group", "create", "--policy", "anti-affinity", "cli-group")
    assert g["name"] == "cli-group"
    assert "anti-affinity" in str(g.get("policies", g.get("policy")))
    listed = cli.json("server", "group", "list")
    assert [x["Name"] for x in listed] == ["cli-group"]
    shown = cli.json("server", "group", "show", "cli-group")
    assert shown["id"] == g["id"]
    cli.run("server", "group", "delete", "cli-group")
    assert cli.json("server", "group", "list") == []
