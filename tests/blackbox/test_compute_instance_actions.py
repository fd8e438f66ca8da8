"""Instance actions (os-instance-actions at 2.1): every server action is
recorded with the request id the caller saw (X-Compute-Request-Id equals
X-Openstack-Request-Id), events only for admins, and the openstack CLI."""

from computehelp import Nova, image, net, shared_net_server, token, wait
from test_identity_cli import Cli


def test_actions_recorded_with_request_ids(server):
    tok = token(server)
    nova = Nova(server, tok)
    iid, nid = image(server, tok), net(server, tok)
    r = nova.post("/servers", {"server": {"name": "acts", "imageRef": iid, "flavorRef": "42",
                                          "networks": [{"uuid": nid}]}})
    assert r.status_code == 202
    create_rid = r.headers["X-Compute-Request-Id"]
    assert create_rid == r.headers["X-Openstack-Request-Id"] and create_rid.startswith("req-")
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    rids = {"create": create_rid}
    for action, body, status in [("stop", {"os-stop": None}, "SHUTOFF"),
                                 ("start", {"os-start": None}, "ACTIVE"),
                                 ("reboot", {"reboot": {"type": "SOFT"}}, "ACTIVE"),
                                 ("lock", {"lock": None}, "ACTIVE"),
                                 ("unlock", {"unlock": None}, "ACTIVE")]:
        r = nova.post(f"/servers/{sid}/action", body)
        assert r.status_code == 202, r.text
        rids[action] = r.headers["X-Compute-Request-Id"]
        wait(nova, sid, status)
    # a refused action is not recorded
    assert nova.post(f"/servers/{sid}/action", {"os-start": None}).status_code == 409
    listed = nova.get(f"/servers/{sid}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in listed] == ["unlock", "lock", "reboot", "start", "stop", "create"]
    for a in listed:
        assert a["request_id"] == rids[a["action"]]
        assert a["instance_uuid"] == sid and a["message"] is None and a["start_time"]
    shown = nova.get(f"/servers/{sid}/os-instance-actions/{create_rid}").json()["instanceAction"]
    assert shown["action"] == "create"
    (event,) = shown["events"]
    assert event["event"] == "compute__do_build_and_run_instance" and event["result"] == "Success"
    assert event["finish_time"]
    r = nova.get(f"/servers/{sid}/os-instance-actions/req-00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and "itemNotFound" in r.json()
    # errors answer with the header too
    r = nova.get("/servers/6b8f2d1e-0000-4000-8000-00000000dead/os-instance-actions")
    assert r.status_code == 404 and r.headers["X-Compute-Request-Id"].startswith("req-")


def test_events_for_admins_only_and_isolation(sqlite_server):
    s = sqlite_server
    admin = token(s)
    member, other, r = shared_net_server(s, admin, "m")
    sid, rid = r.json()["server"]["id"], r.headers["X-Compute-Request-Id"]
    mine = member.get(f"/servers/{sid}/os-instance-actions/{rid}").json()["instanceAction"]
    assert "events" not in mine
    as_admin = Nova(s, admin).get(f"/servers/{sid}/os-instance-actions/{rid}").json()["instanceAction"]
    assert as_admin["events"][0]["result"] == "Success"
    assert other.get(f"/servers/{sid}/os-instance-actions").status_code == 404
    assert other.get(f"/servers/{sid}/os-instance-actions/{rid}").status_code == 404


def test_failed_build_event(sqlite_server):
    s = sqlite_server
    tok = token(s)
    nova = Nova(s, tok)
    iid, nid = image(s, tok), net(s, tok)
    g = nova.post("/os-server-groups", {"server_group": {"name": "anti", "policies": ["anti-affinity"]}}).json()["server_group"]
    body = {"server": {"name": "a", "imageRef": iid, "flavorRef": "42", "networks": [{"uuid": nid}]},
            "os:scheduler_hints": {"group": g["id"]}}
    wait(nova, nova.post("/servers", body).json()["server"]["id"], "ACTIVE")
    r = nova.post("/servers", body)
    sid, rid = r.json()["server"]["id"], r.headers["X-Compute-Request-Id"]
    wait(nova, sid, "ERROR")
    a = nova.get(f"/servers/{sid}/os-instance-actions/{rid}").json()["instanceAction"]
    assert a["message"] == "Error"
    assert a["events"][0]["result"] == "Error" and "No valid host" in a["events"][0]["traceback"]


def test_instance_actions_cli(sqlite_server):
    s = sqlite_server
    cli = Cli(s)
    tok = token(s)
    iid, nid = image(s, tok), net(s, tok)
    cli.json("server", "create", "--image", iid, "--flavor", "m1.nano", "--network", nid, "--wait", "cli-acts")
    cli.run("server", "stop", "cli-acts")
    rows = cli.json("server", "event", "list", "cli-acts")
    assert sorted(r["Action"] for r in rows) == ["create", "stop"]
    rid = [r for r in rows if r["Action"] == "create"][0]["Request ID"]
    shown = cli.json("server", "event", "show", "cli-acts", rid)
    assert shown["action"] == "create"
