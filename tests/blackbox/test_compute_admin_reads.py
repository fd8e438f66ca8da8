"""Admin read APIs of the one host: os-services (list, enable/disable,
delete), os-hypervisors (list, detail, show, statistics, uptime, search,
servers) and os-simple-tenant-usage, with policy and bad input."""

import datetime

import requests

from computehelp import Nova, boot_active, image, project_token, token, wait
from test_identity_cli import Cli


def test_services(server):
    s = server
    admin = Nova(s, token(s))
    svcs = admin.get("/os-services").json()["services"]
    assert sorted(x["binary"] for x in svcs) == ["nova-compute", "nova-conductor", "nova-scheduler"]
    for x in svcs:
        assert set(x) == {"id", "binary", "host", "zone", "status", "state", "updated_at",
                          "disabled_reason"}
        assert isinstance(x["id"], int) and x["host"] == "ferrostack"
        assert x["state"] == "up" and x["status"] == "enabled" and x["disabled_reason"] is None
        assert x["zone"] == ("nova" if x["binary"] == "nova-compute" else "internal")
    assert [x["binary"] for x in admin.get("/os-services?binary=nova-compute").json()["services"]] == ["nova-compute"]
    assert admin.get("/os-services?host=other").json()["services"] == []
    assert len(admin.get("/os-services?xxx=1").json()["services"]) == 3
    # disable with a reason, then enable
    r = admin.req("PUT", "/os-services/disable-log-reason",
                  json={"host": "ferrostack", "binary": "nova-compute", "disabled_reason": "maint"})
    assert r.status_code == 200 and r.json() == {"service": {
        "host": "ferrostack", "binary": "nova-compute", "status": "disabled", "disabled_reason": "maint"}}
    (comp,) = admin.get("/os-services?binary=nova-compute").json()["services"]
    assert comp["status"] == "disabled" and comp["disabled_reason"] == "maint"
    r = admin.req("PUT", "/os-services/enable", json={"host": "ferrostack", "binary": "nova-compute"})
    assert r.json() == {"service": {"host": "ferrostack", "binary": "nova-compute", "status": "enabled"}}
    # errors
    for path, body, code, word in [
        ("/os-services/disable", {"host": "nope", "binary": "nova-compute"}, 404, "nope"),
        ("/os-services/disable", {"host": "ferrostack", "binary": "nova-scheduler"}, 400, "nova-scheduler"),
        ("/os-services/disable", {"binary": "nova-compute"}, 400, "host"),
        ("/os-services/disable", {"host": "ferrostack", "binary": 3}, 400, "binary"),
        ("/os-services/disable", {"host": "ferrostack", "binary": "nova-compute", "x": 1}, 400, "x"),
        ("/os-services/disable-log-reason", {"host": "ferrostack", "binary": "nova-compute"}, 400, "reason"),
        ("/os-services/force-down", {"host": "ferrostack", "binary": "nova-compute"}, 404, "Unknown"),
    ]:
        r = admin.req("PUT", path, json=body)
        assert r.status_code == code, (path, body, r.text)
        assert word in r.text, r.text
    assert admin.req("DELETE", "/os-services/abc").status_code == 400
    assert admin.req("DELETE", "/os-services/999").status_code == 404
    sched = admin.get("/os-services?binary=nova-scheduler").json()["services"][0]
    assert admin.req("DELETE", f"/os-services/{sched['id']}").status_code == 204
    assert len(admin.get("/os-services").json()["services"]) == 2
    member = Nova(s, project_token(s, token(s), "pa"))
    assert member.get("/os-services").status_code == 403
    assert member.req("PUT", "/os-services/enable",
                      json={"host": "ferrostack", "binary": "nova-compute"}).status_code == 403


def test_disabled_compute_fails_scheduling(sqlite_server):
    s = sqlite_server
    tok = token(s)
    admin = Nova(s, tok)
    sid = boot_active(admin, s, tok, "adm")
    comp = admin.get("/os-services?binary=nova-compute").json()["services"][0]
    r = admin.req("DELETE", f"/os-services/{comp['id']}")
    assert r.status_code == 409 and "conflictingRequest" in r.json()
    admin.req("PUT", "/os-services/disable", json={"host": "ferrostack", "binary": "nova-compute"})
    iid = image(s, tok)
    nid = admin.get(f"/servers/{sid}/os-interface").json()["interfaceAttachments"][0]["net_id"]
    r = admin.post("/servers", {"server": {"name": "x", "imageRef": iid, "flavorRef": "42",
                                           "networks": [{"uuid": nid}]}})
    failed = wait(admin, r.json()["server"]["id"], "ERROR")
    assert "No valid host" in failed["fault"]["message"]


def test_hypervisors(sqlite_server):
    s = sqlite_server
    tok = token(s)
    admin = Nova(s, tok)
    sid = boot_active(admin, s, tok, "adm")
    (h,) = admin.get("/os-hypervisors").json()["hypervisors"]
    assert h == {"id": h["id"], "hypervisor_hostname": "ferrostack", "state": "up", "status": "enabled"}
    (d,) = admin.get("/os-hypervisors/detail").json()["hypervisors"]
    shown = admin.get(f"/os-hypervisors/{h['id']}").json()["hypervisor"]
    assert shown == d
    f = admin.get("/flavors/42").json()["flavor"]
    assert (d["vcpus_used"], d["memory_mb_used"], d["local_gb_used"]) == (
        f["vcpus"], f["ram"], f["disk"] + f["OS-FLV-EXT-DATA:ephemeral"])
    assert d["running_vms"] == 1 and d["free_ram_mb"] == d["memory_mb"] - f["ram"]
    assert d["hypervisor_type"] == "fake" and d["host_ip"] == "127.0.0.1"
    assert d["service"] == {"host": "ferrostack", "id": h["id"], "disabled_reason": None}
    st = admin.get("/os-hypervisors/statistics").json()["hypervisor_statistics"]
    assert st["count"] == 1 and st["running_vms"] == 1 and st["vcpus"] == d["vcpus"]
    up = admin.get(f"/os-hypervisors/{h['id']}/uptime").json()["hypervisor"]
    assert "load average" in up["uptime"]
    assert admin.get("/os-hypervisors/rost/search").json()["hypervisors"] == [h]
    servers = admin.get("/os-hypervisors/ferro/servers").json()["hypervisors"]
    assert servers[0]["servers"] == [{"uuid": sid, "name": "adm"}]
    for path in ["/os-hypervisors/999", "/os-hypervisors/abc", "/os-hypervisors/999/uptime",
                 "/os-hypervisors/zzz/search", "/os-hypervisors/zzz/servers"]:
        r = admin.get(path)
        assert r.status_code == 404 and "itemNotFound" in r.json(), path
    member = Nova(s, project_token(s, tok, "pa"))
    for path in ["/os-hypervisors", "/os-hypervisors/detail", f"/os-hypervisors/{h['id']}",
                 "/os-hypervisors/statistics", "/os-hypervisors/ferro/search"]:
        assert member.get(path).status_code == 403, path


def test_hypervisor_cli(sqlite_server):
    cli = Cli(sqlite_server)
    out = cli.json("hypervisor", "list")
    assert [h["Hypervisor Hostname"] for h in out] == ["ferrostack"]
    names = {x["Binary"] for x in cli.json("compute", "service", "list")}
    assert names == {"nova-compute", "nova-conductor", "nova-scheduler"}


def _fmt(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")


def test_tenant_usage(server):
    s = server
    admin_tok = token(s)
    admin = Nova(s, admin_tok)
    sid = boot_active(admin, s, admin_tok, "adm")
    gone = boot_active(admin, s, admin_tok, "gone")
    assert admin.req("DELETE", f"/servers/{gone}").status_code == 204
    wait(admin, gone, "DELETED")
    now = datetime.datetime.utcnow()
    q = {"start": _fmt(now - datetime.timedelta(days=1)), "end": _fmt(now + datetime.timedelta(days=1))}
    (u,) = admin.get("/os-simple-tenant-usage", params=dict(q, detailed="1")).json()["tenant_usages"]
    assert len(u) == 8 and u["total_hours"] > 0
    by_id = {x["instance_id"]: x for x in u["server_usages"]}
    assert by_id[sid]["state"] == "active" and by_id[sid]["ended_at"] is None
    assert by_id[gone]["state"] == "terminated" and by_id[gone]["ended_at"]
    assert by_id[sid]["flavor"] == "m1.nano" and by_id[sid]["vcpus"] == 1
    assert abs(u["total_vcpus_usage"] - u["total_hours"]) < 1e-9
    (brief,) = admin.get("/os-simple-tenant-usage", params=q).json()["tenant_usages"]
    assert "server_usages" not in brief and len(brief) == 7
    project = u["tenant_id"]
    shown = admin.get(f"/os-simple-tenant-usage/{project}", params=q).json()["tenant_usage"]
    assert len(shown) == 8 and len(shown["server_usages"]) == 2
    # a window before anything ran
    old = {"start": "2001-01-01T00:00:00", "end": "2001-01-02T00:00:00"}
    assert admin.get("/os-simple-tenant-usage", params=old).json() == {"tenant_usages": []}
    assert admin.get(f"/os-simple-tenant-usage/{project}", params=old).json() == {"tenant_usage": {}}
    # errors and policy
    r = admin.get(f"/os-simple-tenant-usage/{project}", params={"start": q["end"], "end": q["start"]})
    assert r.status_code == 400 and "start" in r.json()["badRequest"]["message"]
    r = admin.get("/os-simple-tenant-usage", params={"start": "yesterday"})
    assert r.status_code == 400 and "start" in r.json()["badRequest"]["message"]
    assert admin.get("/os-simple-tenant-usage/").status_code == 404
    member_tok = project_token(s, admin_tok, "pa")
    member = Nova(s, member_tok)
    assert member.get("/os-simple-tenant-usage", params=q).status_code == 403
    assert member.get(f"/os-simple-tenant-usage/{project}", params=q).status_code == 403
    mine = requests.get(s.identity_url + "/v3/auth/tokens", timeout=10,
                        headers={"X-Auth-Token": admin_tok, "X-Subject-Token": member_tok})
    pa = mine.json()["token"]["project"]["id"]
    assert member.get(f"/os-simple-tenant-usage/{pa}", params=q).json() == {"tenant_usage": {}}
