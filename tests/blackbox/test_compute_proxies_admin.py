"""Nova's proxy APIs and the admin/service extras of issue 12, end to end on
the real binary: what the old `os-*` routes create is really in Neutron,
Cinder and Glance (and the other way round), they are gone (404) from 2.36,
and a member cannot do through them what Neutron or Cinder would refuse.
Also: /extensions, server diagnostics, os-server-external-events and
injectNetworkInfo."""

import requests

from computehelp import Nova, boot_active, project_token, token

OLD = {"X-OpenStack-Nova-API-Version": "2.35"}


def test_security_groups_proxy_is_neutron(server):
    admin = token(server)
    nova = Nova(server, admin)
    neutron = server.url + "/networking/v2.0"
    h = {"X-Auth-Token": admin}
    r = nova.post("/os-security-groups", {"security_group": {"name": " web ", "description": ""}},
                  headers=OLD)
    assert r.status_code == 200, r.text
    g = r.json()["security_group"]
    assert g["name"] == " web " and g["rules"] == []  # Neutron's egress rules are not shown
    assert requests.get(f"{neutron}/security-groups/{g['id']}", headers=h, timeout=10).status_code == 200
    r = nova.post("/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": g["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "10.0.0.0/8"}}, headers=OLD)
    assert r.status_code == 200, r.text
    rule = r.json()["security_group_rule"]
    assert rule["ip_range"] == {"cidr": "10.0.0.0/8"} and rule["from_port"] == 22
    n = requests.get(f"{neutron}/security-group-rules/{rule['id']}", headers=h, timeout=10).json()
    assert n["security_group_rule"]["direction"] == "ingress"
    assert n["security_group_rule"]["port_range_min"] == 22
    # The same rule again: Neutron's conflict is Nova's 400.
    r = nova.post("/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": g["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "10.0.0.0/8"}}, headers=OLD)
    assert r.status_code == 400 and "badRequest" in r.json(), r.text
    for bad in ({"ip_protocol": "tcp", "from_port": 0, "to_port": 22},
                {"ip_protocol": "tcp", "from_port": 30, "to_port": 22},
                {"ip_protocol": "gre", "from_port": 1, "to_port": 2},
                {"ip_protocol": "tcp", "from_port": 22}):
        r = nova.post("/os-security-group-rules", {"security_group_rule": dict(
            parent_group_id=g["id"], **bad)}, headers=OLD)
        assert r.status_code == 400, (bad, r.text)
    r = nova.post("/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": "not-a-uuid", "ip_protocol": "tcp", "from_port": 1, "to_port": 2}},
        headers=OLD)
    assert r.status_code == 400, r.text
    # A member may not delete its default group (Neutron's 409, Nova's 400).
    member = Nova(server, project_token(server, admin, "psg"))
    default = [x for x in member.get("/os-security-groups", headers=OLD).json()["security_groups"]
               if x["name"] == "default"]
    assert default, "the project's default group is listed"
    assert member.req("DELETE", f"/os-security-groups/{default[0]['id']}",
                      headers=OLD).status_code == 400
    # Nova's limit/offset paging over the groups sorted by project and name.
    listed = nova.get("/os-security-groups", headers=OLD).json()["security_groups"]
    assert [x["name"] for x in listed] == sorted(x["name"] for x in listed), listed
    page = nova.get("/os-security-groups?offset=1&limit=1", headers=OLD).json()
    assert [x["id"] for x in page["security_groups"]] == [listed[1]["id"]]
    r = nova.get("/os-security-groups?limit=x", headers=OLD)
    assert r.status_code == 400 and "limit" in r.json()["badRequest"]["message"], r.text
    assert nova.req("DELETE", f"/os-security-groups/{g['id']}", headers=OLD).status_code == 202
    assert requests.get(f"{neutron}/security-groups/{g['id']}", headers=h, timeout=10).status_code == 404
    assert nova.req("DELETE", "/os-security-groups/", headers=OLD).status_code == 404
    r = nova.get("/os-security-groups", headers={"X-OpenStack-Nova-API-Version": "2.36"})
    assert r.status_code == 404 and "itemNotFound" in r.json()


def test_volumes_and_snapshots_proxy_is_cinder(server):
    admin = token(server)
    nova = Nova(server, admin)
    cinder = server.url + "/volume/v3"
    h = {"X-Auth-Token": admin}
    r = nova.post("/os-volumes", {"volume": {"size": 1, "display_name": "v1",
                                             "metadata": {"k": "v"}}}, headers=OLD)
    assert r.status_code == 200, r.text
    vol = r.json()["volume"]
    assert vol["displayName"] == "v1" and vol["size"] == 1 and vol["attachments"] == [{}]
    c = requests.get(f"{cinder}/volumes/{vol['id']}", headers=h, timeout=10).json()["volume"]
    assert c["name"] == "v1" and c["metadata"] == {"k": "v"}
    for _ in range(100):
        if nova.get(f"/os-volumes/{vol['id']}", headers=OLD).json()["volume"]["status"] == "available":
            break
    r = nova.post("/os-snapshots", {"snapshot": {"volume_id": vol["id"], "display_name": "s1"}},
                  headers=OLD)
    assert r.status_code == 200, r.text
    snap = r.json()["snapshot"]
    assert snap["volumeId"] == vol["id"] and snap["displayName"] == "s1"
    assert requests.get(f"{cinder}/snapshots/{snap['id']}", headers=h, timeout=10).status_code == 200
    assert any(s["id"] == snap["id"] for s in nova.get("/os-snapshots/detail",
                                                       headers=OLD).json()["snapshots"])
    for bad in ({"size": 0}, {"size": "x"}, {}):
        assert nova.post("/os-volumes", {"volume": bad}, headers=OLD).status_code == 400, bad
    assert nova.get("/os-volumes?limit=1", headers=OLD).json()["volumes"].__len__() == 1
    assert nova.get("/os-volumes/", headers=OLD).status_code == 404
    assert nova.get("/os-volumes/nope", headers=OLD).status_code == 404
    assert nova.get("/os-volumes", headers={"X-OpenStack-Nova-API-Version": "2.36"}).status_code == 404


def test_floating_ips_proxy_and_actions(server):
    admin = token(server)
    nova = Nova(server, admin)
    h = {"X-Auth-Token": admin}
    neutron = server.url + "/networking/v2.0"
    pub = requests.post(neutron + "/networks", headers=h, timeout=10, json={"network": {
        "name": "public", "router:external": True}}).json()["network"]
    requests.post(neutron + "/subnets", headers=h, timeout=10, json={"subnet": {
        "network_id": pub["id"], "cidr": "172.24.4.0/24", "ip_version": 4}})
    sid = boot_active(nova, server, admin, "fip")
    port = requests.get(neutron + "/ports", headers=h, params={"device_id": sid},
                        timeout=10).json()["ports"][0]
    router = requests.post(neutron + "/routers", headers=h, timeout=10, json={"router": {
        "name": "r", "external_gateway_info": {"network_id": pub["id"]}}}).json()["router"]
    requests.put(f"{neutron}/routers/{router['id']}/add_router_interface", headers=h, timeout=10,
                 json={"subnet_id": port["fixed_ips"][0]["subnet_id"]})
    assert nova.get("/os-floating-ip-pools", headers=OLD).json()["floating_ip_pools"] == [
        {"name": "public"}]
    assert nova.post("/os-floating-ips", {"pool": "nope"}, headers=OLD).status_code == 404
    r = nova.post("/os-floating-ips", {"pool": "public"}, headers=OLD)
    assert r.status_code == 200, r.text
    fip = r.json()["floating_ip"]
    assert fip["pool"] == "public" and fip["instance_id"] is None and fip["fixed_ip"] is None
    r = nova.post(f"/servers/{sid}/action", {"addFloatingIp": {"address": fip["ip"]}}, headers=OLD)
    assert r.status_code == 202, r.text
    n = requests.get(f"{neutron}/floatingips/{fip['id']}", headers=h, timeout=10).json()["floatingip"]
    assert n["port_id"] == port["id"]
    shown = nova.get(f"/os-floating-ips/{fip['id']}", headers=OLD).json()["floating_ip"]
    assert shown["instance_id"] == sid and shown["fixed_ip"] == port["fixed_ips"][0]["ip_address"]
    r = nova.post(f"/servers/{sid}/action", {"removeFloatingIp": {"address": fip["ip"]}},
                  headers=OLD)
    assert r.status_code == 202, r.text
    r = nova.post(f"/servers/{sid}/action", {"removeFloatingIp": {"address": fip["ip"]}},
                  headers=OLD)
    assert r.status_code == 409, r.text
    r = nova.post(f"/servers/{sid}/action", {"addFloatingIp": {"address": fip["ip"]}},
                  headers={"X-OpenStack-Nova-API-Version": "2.44"})
    assert r.status_code == 404, r.text
    assert nova.req("DELETE", f"/os-floating-ips/{fip['id']}", headers=OLD).status_code == 202
    assert requests.get(f"{neutron}/floatingips/{fip['id']}", headers=h,
                        timeout=10).status_code == 404
    nets = nova.get("/os-tenant-networks", headers=OLD).json()["networks"]
    assert {"id": pub["id"], "label": "public", "cidr": None} in nets
    assert nova.post("/os-tenant-networks", {"network": {}}, headers=OLD).status_code == 410
    assert nova.get(f"/os-networks/{pub['id']}", headers=OLD).json()["network"]["label"] == "public"


def test_image_metadata_proxy_is_glance(server):
    admin = token(server)
    nova = Nova(server, admin)
    h = {"X-Auth-Token": admin}
    glance = server.url + "/image/v2"
    img = requests.post(glance + "/images", headers=h, timeout=10, json={
        "name": "m", "disk_format": "raw", "container_format": "bare", "os_distro": "a"}).json()
    path = f"/images/{img['id']}/metadata"
    assert nova.get(path, headers=OLD).json() == {"metadata": {"os_distro": "a"}}
    r = nova.post(path, {"metadata": {"os_version": "1"}}, headers=OLD)
    assert r.json() == {"metadata": {"os_distro": "a", "os_version": "1"}}, r.text
    r = nova.req("PUT", path, json={"metadata": {"arch": "x"}}, headers=OLD)
    assert r.json() == {"metadata": {"arch": "x"}}, r.text
    g = requests.get(f"{glance}/images/{img['id']}", headers=h, timeout=10).json()
    assert g["arch"] == "x" and "os_distro" not in g
    r = nova.req("PUT", path + "/arch", json={"meta": {"other": "y"}}, headers=OLD)
    assert r.status_code == 400, r.text
    assert nova.req("DELETE", path + "/arch", headers=OLD).status_code == 204
    assert nova.get(path + "/arch", headers=OLD).status_code == 404
    assert nova.get(path, headers={"X-OpenStack-Nova-API-Version": "2.39"}).status_code == 404


def test_extensions_diagnostics_events_inject(server):
    admin = token(server)
    nova = Nova(server, admin)
    ext = nova.get("/extensions").json()["extensions"]
    assert "Hosts" in [e["name"] for e in ext] and len(ext) > 90
    assert nova.get("/extensions/os-consoles").json()["extension"]["alias"] == "os-consoles"
    assert nova.get("/extensions/nope").status_code == 404
    sid = boot_active(nova, server, admin, "diag")
    d = nova.get(f"/servers/{sid}/diagnostics", headers={"X-OpenStack-Nova-API-Version": "2.48"})
    assert d.status_code == 200, d.text
    d = d.json()
    assert d["state"] == "running" and d["num_cpus"] == 1 and d["memory_details"]["maximum"] == 128
    assert d["num_nics"] == len(d["nic_details"]) == 1 and d["num_disks"] == 1
    member = Nova(server, project_token(server, admin, "pdiag"))
    assert member.get(f"/servers/{sid}/diagnostics").status_code in (403, 404)
    ev = {"events": [{"name": "network-changed", "server_uuid": sid},
                     {"name": "network-vif-plugged", "server_uuid": "0" * 32}]}
    assert member.post("/os-server-external-events", ev).status_code == 403
    r = nova.post("/os-server-external-events", ev)
    assert r.status_code == 207, r.text
    assert [e["code"] for e in r.json()["events"]] == [200, 404]
    assert nova.post("/os-server-external-events",
                     {"events": [{"name": "bogus", "server_uuid": sid}]}).status_code == 400
    assert nova.post("/os-server-external-events", {"events": [ev["events"][1]]}).status_code == 404
    r = nova.post(f"/servers/{sid}/action", {"injectNetworkInfo": None})
    assert r.status_code == 202, r.text


def test_resize_records_a_migration(server):
    admin = token(server)
    nova = Nova(server, admin)
    sid = boot_active(nova, server, admin, "mig")
    r = nova.post(f"/servers/{sid}/action", {"resize": {"flavorRef": "84"}})
    assert r.status_code == 202, r.text
    from computehelp import wait
    wait(nova, sid, "VERIFY_RESIZE")
    new = {"X-OpenStack-Nova-API-Version": "2.80"}
    migs = [m for m in nova.get("/os-migrations", headers=new).json()["migrations"]
            if m["instance_uuid"] == sid]
    assert len(migs) == 1, migs
    m = migs[0]
    assert (m["migration_type"], m["status"]) == ("resize", "finished"), m
    assert (m["old_instance_type_id"], m["new_instance_type_id"]) == (42, 84)
    assert m["project_id"] and m["user_id"] and m["uuid"]
    assert nova.post(f"/servers/{sid}/action", {"confirmResize": None}).status_code == 204
    m = nova.get(f"/os-migrations?instance_uuid={sid}", headers=new).json()["migrations"][0]
    assert m["status"] == "confirmed"
    # A second resize, reverted.
    wait(nova, sid, "ACTIVE")
    assert nova.post(f"/servers/{sid}/action", {"resize": {"flavorRef": "42"}}).status_code == 202
    wait(nova, sid, "VERIFY_RESIZE")
    assert nova.post(f"/servers/{sid}/action", {"revertResize": None}).status_code == 202
    wait(nova, sid, "ACTIVE")
    migs = nova.get(f"/os-migrations?instance_uuid={sid}", headers=new).json()["migrations"]
    assert [x["status"] for x in migs] == ["reverted", "confirmed"], migs
    assert nova.get("/os-migrations?status=reverted", headers=new).json()["migrations"][0]["id"] \
        == migs[0]["id"]
    r = nova.get(f"/os-migrations?marker={migs[0]['uuid']}&instance_uuid={sid}", headers=new)
    assert [x["status"] for x in r.json()["migrations"]] == ["confirmed"], r.text
    assert nova.get("/os-migrations?marker=nope", headers=new).status_code == 400
    old = nova.get("/os-migrations", headers={"X-OpenStack-Nova-API-Version": "2.1"}).json()
    assert "migration_type" not in old["migrations"][0] and "uuid" not in old["migrations"][0]


def test_assisted_volume_snapshots(server):
    admin = token(server)
    nova = Nova(server, admin)
    sid = boot_active(nova, server, admin, "avs")
    cinder = server.url + "/volume/v3"
    h = {"X-Auth-Token": admin}
    vol = requests.post(f"{cinder}/volumes", headers=h, timeout=10,
                        json={"volume": {"size": 1}}).json()["volume"]
    body = {"snapshot": {"volume_id": vol["id"], "create_info": {
        "snapshot_id": "s-1", "type": "qcow2", "new_file": "new_file"}}}
    # Not attached yet: Nova's VolumeBDMNotFound (400).
    for _ in range(100):
        if requests.get(f"{cinder}/volumes/{vol['id']}", headers=h,
                        timeout=10).json()["volume"]["status"] == "available":
            break
    assert nova.post("/os-assisted-volume-snapshots", body).status_code == 400
    r = nova.post(f"/servers/{sid}/os-volume_attachments", {"volumeAttachment": {"volumeId": vol["id"]}})
    assert r.status_code == 200, r.text
    member = Nova(server, project_token(server, admin, "pavs"))
    assert member.post("/os-assisted-volume-snapshots", body).status_code == 403
    r = nova.post("/os-assisted-volume-snapshots", body)
    assert r.status_code == 200, r.text
    assert r.json() == {"snapshot": {"id": "s-1", "volumeId": vol["id"]}}
    bad = {"snapshot": {"volume_id": vol["id"], "create_info": {
        "snapshot_id": "s-1", "type": "raw", "new_file": "x"}}}
    assert nova.post("/os-assisted-volume-snapshots", bad).status_code == 400
    info = '{"volume_id": "%s"}' % vol["id"]
    r = nova.req("DELETE", "/os-assisted-volume-snapshots/s-1", params={"delete_info": info})
    assert r.status_code == 204, r.text
    assert nova.req("DELETE", "/os-assisted-volume-snapshots/s-1").status_code == 400
