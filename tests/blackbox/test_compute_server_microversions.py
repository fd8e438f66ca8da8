"""Servers per compute microversion, at each boundary that changes a shape,
on both sides of it: the view (2.3, 2.9, 2.16, 2.19, 2.26, 2.47, 2.63, 2.71,
2.73, 2.75, 2.90, 2.96, 2.98, 2.100), create/update/rebuild bodies (2.19,
2.37, 2.52, 2.57, 2.90, 2.94, 2.104), tags (2.26), createImage (2.45),
volume attachments (2.70, 2.79, 2.89, 2.101) and the list query (2.38,
2.75)."""

import subprocess
import time

import pytest
import requests

from computehelp import Nova, image, net, settled, token, wait


def at(version):
    return {"OpenStack-API-Version": f"compute {version}"}


@pytest.fixture
def env(server):
    tok = token(server)
    nova = Nova(server, tok)
    iid = image(server, tok)
    nid = net(server, tok, name="mv-net", cidr="10.77.0.0/24")
    return server, nova, iid, nid, tok


def boot(nova, iid, nid, version="2.1", **extra):
    body = {"server": dict({"name": "mv", "imageRef": iid, "flavorRef": "42",
                            "networks": [{"uuid": nid}]}, **extra)}
    r = nova.post("/servers", body, headers=at(version))
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    return sid


def show(nova, sid, version):
    r = nova.get(f"/servers/{sid}", headers=at(version))
    assert r.status_code == 200, r.text
    assert r.headers["OpenStack-API-Version"] == f"compute {version}"
    return r.json()["server"]


def test_version_range_and_headers(env):
    s, nova, *_ = env
    v = requests.get(s.url + "/compute/v2.1", timeout=10).json()["version"]
    assert v["version"] == "2.104" and v["min_version"] == "2.1"
    r = nova.get("/flavors", headers={"X-OpenStack-Nova-API-Version": "latest"})
    assert r.headers["X-OpenStack-Nova-API-Version"] == "2.104"
    assert "X-OpenStack-Nova-API-Version" in r.headers["Vary"]
    assert nova.get("/flavors", headers=at("2.105")).status_code == 406
    assert nova.get("/flavors", headers=at("2.x")).status_code == 400


def test_view_fields_appear_at_their_versions(env):
    _, nova, iid, nid, _ = env
    sid = boot(nova, iid, nid, "2.100", description="first", tags=["a", "b"],
               hostname="web-one")
    before = {
        "2.2": ["OS-EXT-SRV-ATTR:reservation_id", "locked"],
        "2.8": ["locked"],
        "2.15": ["host_status"],
        "2.18": ["description"],
        "2.25": ["tags"],
        "2.62": ["trusted_image_certificates"],
        "2.70": ["server_groups"],
        "2.72": ["locked_reason"],
        "2.95": ["pinned_availability_zone"],
        "2.99": ["scheduler_hints"],
    }
    for version, absent in before.items():
        srv = show(nova, sid, version)
        for key in absent:
            assert key not in srv, (version, key)
    srv = show(nova, sid, "2.3")
    assert srv["OS-EXT-SRV-ATTR:reservation_id"].startswith("r-")
    assert srv["OS-EXT-SRV-ATTR:launch_index"] == 0
    assert srv["OS-EXT-SRV-ATTR:hostname"] == "web-one"
    assert srv["flavor"]["links"] and "vcpus" not in srv["flavor"]
    assert show(nova, sid, "2.9")["locked"] is False
    assert show(nova, sid, "2.16")["host_status"] == "UP"
    assert show(nova, sid, "2.19")["description"] == "first"
    assert show(nova, sid, "2.26")["tags"] == ["a", "b"]
    flavor = show(nova, sid, "2.47")["flavor"]
    assert flavor["original_name"] == "m1.nano" and flavor["vcpus"] == 1 and "id" not in flavor
    assert show(nova, sid, "2.63")["trusted_image_certificates"] is None
    assert show(nova, sid, "2.71")["server_groups"] == []
    assert show(nova, sid, "2.73")["locked_reason"] is None
    latest = show(nova, sid, "2.100")
    assert latest["pinned_availability_zone"] is None
    assert latest["scheduler_hints"] == {}
    assert isinstance(latest["image"]["properties"], dict)
    assert "properties" not in show(nova, sid, "2.97")["image"]
    # the detail list never shows server_groups; show does from 2.71
    detail = nova.get("/servers/detail", headers=at("2.71")).json()["servers"]
    assert all("server_groups" not in x for x in detail)


def test_create_body_per_version(env):
    _, nova, iid, nid, _ = env
    base = {"name": "cb", "imageRef": iid, "flavorRef": "42", "networks": [{"uuid": nid}]}
    for version, key, value in [("2.18", "description", "d"), ("2.51", "tags", []),
                                ("2.62", "trusted_image_certificates", ["x"]),
                                ("2.89", "hostname", "h1")]:
        r = nova.post("/servers", {"server": dict(base, **{key: value})}, headers=at(version))
        assert r.status_code == 400 and key in r.json()["badRequest"]["message"], (version, r.text)
    # personality is gone from 2.57
    r = nova.post("/servers", {"server": dict(base, personality=[])}, headers=at("2.57"))
    assert r.status_code == 400 and "personality" in r.text
    # networks is required from 2.37, "none" makes a server without ports
    r = nova.post("/servers", {"server": {k: v for k, v in base.items() if k != "networks"}},
                  headers=at("2.37"))
    assert r.status_code == 400 and "networks" in r.text
    r = nova.post("/servers", {"server": dict(base, networks="none")}, headers=at("2.37"))
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    assert wait(nova, sid, "ACTIVE")["addresses"] == {}
    # "none" is not a network list before 2.37
    assert nova.post("/servers", {"server": dict(base, networks="none")},
                     headers=at("2.36")).status_code == 400
    # FQDN host names from 2.94 only
    r = nova.post("/servers", {"server": dict(base, hostname="a.example.org")}, headers=at("2.90"))
    assert r.status_code == 400
    r = nova.post("/servers", {"server": dict(base, hostname="a.example.org")}, headers=at("2.94"))
    assert r.status_code == 202, r.text


def test_strict_create_fields(env):
    _, nova, iid, nid, _ = env
    base = {"name": "st", "imageRef": iid, "flavorRef": "42", "networks": [{"uuid": nid}]}
    bad = [
        {"metadata": None}, {"min_count": None}, {"key_name": None}, {"security_groups": None},
        {"name": " lead"}, {"name": "ctl\u0001"}, {"metadata": {"a/b": "x"}},
        {"security_groups": [{"name": "default", "x": 1}]}, {"config_drive": "maybe"},
        {"tags": ["a/b"]}, {"unknown": 1},
    ]
    for extra in bad:
        r = nova.post("/servers", {"server": dict(base, **extra)}, headers=at("2.100"))
        assert r.status_code == 400, (extra, r.text)
        assert "badRequest" in r.json()
    r = nova.post("/servers", {"server": base, "bogus": {}})
    assert r.status_code == 400 and "bogus" in r.text


def test_update_rebuild_shapes(env):
    _, nova, iid, nid, _ = env
    sid = boot(nova, iid, nid)
    r = nova.req("PUT", f"/servers/{sid}", json={"server": {"description": "x"}}, headers=at("2.18"))
    assert r.status_code == 400
    r = nova.req("PUT", f"/servers/{sid}", json={"server": {"description": "x"}}, headers=at("2.19"))
    assert r.status_code == 200 and r.json()["server"]["description"] == "x"
    assert "OS-EXT-STS:vm_state" not in r.json()["server"]
    r = nova.req("PUT", f"/servers/{sid}", json={"server": {"name": "n2"}}, headers=at("2.75"))
    assert r.status_code == 200 and r.json()["server"]["OS-EXT-STS:vm_state"] == "active"
    # rebuild: key_name from 2.54, user_data from 2.57; REBUILD is visible
    r = nova.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": iid, "key_name": None}},
                  headers=at("2.53"))
    assert r.status_code == 400
    r = nova.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": iid, "user_data": "aGk="}},
                  headers=at("2.57"))
    assert r.status_code == 202, r.text
    body = r.json()["server"]
    assert body["user_data"] == "aGk=" and body["status"] == "REBUILD"
    assert "adminPass" in body
    wait(nova, sid, "ACTIVE")


def test_pin_and_unpin_availability_zone(env):
    _, nova, iid, nid, _ = env
    sid = boot(nova, iid, nid, "2.104", availability_zone="nova")
    assert show(nova, sid, "2.96")["pinned_availability_zone"] == "nova"
    put = lambda z, v="2.104": nova.req("PUT", f"/servers/{sid}", headers=at(v),  # noqa: E731
                                        json={"server": {"pinned_availability_zone": z}})
    assert put(None, "2.103").status_code == 400
    assert put("other").status_code == 409
    r = put(None)
    assert r.status_code == 200 and r.json()["server"]["pinned_availability_zone"] is None
    assert put("elsewhere").status_code == 409
    assert put("nova").json()["server"]["pinned_availability_zone"] == "nova"


def test_tags_api(env):
    _, nova, iid, nid, _ = env
    sid = boot(nova, iid, nid)
    assert nova.get(f"/servers/{sid}/tags", headers=at("2.25")).status_code == 404
    r = nova.req("PUT", f"/servers/{sid}/tags", json={"tags": ["x", "y"]}, headers=at("2.26"))
    assert r.status_code == 200 and r.json()["tags"] == ["x", "y"]
    assert nova.req("PUT", f"/servers/{sid}/tags/z", headers=at("2.26")).status_code == 201
    assert nova.req("PUT", f"/servers/{sid}/tags/z", headers=at("2.26")).status_code == 204
    assert nova.get(f"/servers/{sid}/tags/z", headers=at("2.26")).status_code == 204
    assert nova.get(f"/servers/{sid}/tags/q", headers=at("2.26")).status_code == 404
    assert nova.req("PUT", f"/servers/{sid}/tags", json={"tags": ["a,b"]},
                    headers=at("2.26")).status_code == 400
    ids = lambda q: {x["id"] for x in nova.get(f"/servers?{q}", headers=at("2.26")).json()["servers"]}  # noqa: E731
    assert sid in ids("tags=x,z") and sid not in ids("tags=x,q")
    assert sid in ids("tags-any=q,z") and sid not in ids("not-tags-any=z")
    assert nova.req("DELETE", f"/servers/{sid}/tags/z", headers=at("2.26")).status_code == 204
    assert nova.req("DELETE", f"/servers/{sid}/tags", headers=at("2.26")).status_code == 204
    assert nova.get(f"/servers/{sid}/tags", headers=at("2.26")).json()["tags"] == []


def test_list_query_checks(env):
    _, nova, *_ = env
    assert nova.get("/servers?status=nonsense", headers=at("2.37")).status_code == 200
    assert nova.get("/servers?status=nonsense", headers=at("2.38")).status_code == 400
    assert nova.get("/servers?whatever=1", headers=at("2.74")).status_code == 200
    assert nova.get("/servers?whatever=1", headers=at("2.75")).status_code == 400


def test_create_image_answer(env):
    _, nova, iid, nid, _ = env
    sid = boot(nova, iid, nid)
    r = nova.post(f"/servers/{sid}/action", {"createImage": {"name": "s1"}}, headers=at("2.44"))
    assert r.status_code == 202 and "Location" in r.headers and not r.content
    # A second snapshot while the first runs: 409, as Nova (task_state).
    settled(nova, sid)
    r = nova.post(f"/servers/{sid}/action", {"createImage": {"name": "s2"}}, headers=at("2.45"))
    assert r.status_code == 202 and "Location" not in r.headers and r.json()["image_id"]
    r = nova.post(f"/servers/{sid}/action", {"createImage": {"name": "s3", "metadata": None}})
    assert r.status_code == 400


def test_volume_attachment_views(env):
    s, nova, iid, nid, tok = env
    sid = boot(nova, iid, nid)
    h = {"X-Auth-Token": tok}
    project = requests.get(s.identity_url + "/v3/auth/tokens", timeout=10,
                           headers=dict(h, **{"X-Subject-Token": tok})).json()["token"]["project"]["id"]
    vbase = f"{s.url}/volume/v3/{project}/volumes"
    vol = requests.post(vbase, json={"volume": {"size": 1}}, headers=h, timeout=10).json()["volume"]
    for _ in range(100):
        if requests.get(f"{vbase}/{vol['id']}", headers=h, timeout=10).json()["volume"]["status"] == "available":
            break
        time.sleep(0.1)
    body = {"volumeAttachment": {"volumeId": vol["id"], "tag": "disk1", "delete_on_termination": True}}
    assert nova.post(f"/servers/{sid}/os-volume_attachments", body, headers=at("2.48")).status_code == 400
    r = nova.post(f"/servers/{sid}/os-volume_attachments", body, headers=at("2.79"))
    assert r.status_code == 200, r.text
    a = r.json()["volumeAttachment"]
    assert a["tag"] == "disk1" and a["delete_on_termination"] is True and a["id"] == vol["id"]
    old = nova.get(f"/servers/{sid}/os-volume_attachments/{vol['id']}", headers=at("2.69")).json()
    assert "tag" not in old["volumeAttachment"] and "delete_on_termination" not in old["volumeAttachment"]
    new = nova.get(f"/servers/{sid}/os-volume_attachments", headers=at("2.89")).json()["volumeAttachments"][0]
    assert "id" not in new and new["attachment_id"] and new["bdm_uuid"]
    r = nova.req("PUT", f"/servers/{sid}/os-volume_attachments/{vol['id']}", headers=at("2.85"),
                 json={"volumeAttachment": {"volumeId": vol["id"], "delete_on_termination": False}})
    assert r.status_code == 202, r.text
    srv = show(nova, sid, "2.3")
    assert srv["os-extended-volumes:volumes_attached"] == [{"id": vol["id"], "delete_on_termination": False}]
    assert show(nova, sid, "2.1")["os-extended-volumes:volumes_attached"] == [{"id": vol["id"]}]


def test_interface_tags(env):
    s, nova, iid, nid, tok = env
    r = nova.post("/servers", {"server": {"name": "if", "imageRef": iid, "flavorRef": "42",
                                          "networks": [{"uuid": nid, "tag": "nic0"}]}},
                  headers=at("2.42"))
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    # a network tag is refused between 2.37 and 2.41
    r = nova.post("/servers", {"server": {"name": "if2", "imageRef": iid, "flavorRef": "42",
                                          "networks": [{"uuid": nid, "tag": "x"}]}},
                  headers=at("2.41"))
    assert r.status_code == 400
    old = nova.get(f"/servers/{sid}/os-interface", headers=at("2.69")).json()["interfaceAttachments"]
    assert len(old) == 1 and "tag" not in old[0]
    new = nova.get(f"/servers/{sid}/os-interface", headers=at("2.70")).json()["interfaceAttachments"]
    assert new[0]["tag"] == "nic0"
    body = {"interfaceAttachment": {"net_id": nid, "tag": "nic1"}}
    assert nova.post(f"/servers/{sid}/os-interface", body, headers=at("2.48")).status_code == 400
    r = nova.post(f"/servers/{sid}/os-interface", body, headers=at("2.70"))
    assert r.status_code == 200, r.text
    assert r.json()["interfaceAttachment"]["tag"] == "nic1"


def test_single_host_moves_and_extras(env):
    """What needs a second host answers as Nova on a one-host deployment."""
    _, nova, iid, nid, _ = env
    sid = boot(nova, iid, nid)
    r = nova.post(f"/servers/{sid}/action", {"migrate": None})
    assert r.status_code == 202
    assert show(nova, sid, "2.1")["status"] == "ACTIVE"
    actions = nova.get(f"/servers/{sid}/os-instance-actions").json()["instanceActions"]
    assert actions[0]["action"] == "migrate"
    r = nova.post(f"/servers/{sid}/action", {"migrate": {"host": "elsewhere"}}, headers=at("2.56"))
    assert r.status_code == 400 and "elsewhere" in r.text
    assert nova.post(f"/servers/{sid}/action", {"migrate": {"host": "x"}},
                     headers=at("2.55")).status_code == 400
    live = {"os-migrateLive": {"host": None, "block_migration": "auto"}}
    # checked synchronously before 2.34 (400 NoValidHost), asynchronously after
    r = nova.post(f"/servers/{sid}/action", live, headers=at("2.25"))
    assert r.status_code == 400 and "No valid host" in r.text
    assert nova.post(f"/servers/{sid}/action", live, headers=at("2.34")).status_code == 202
    r = nova.post(f"/servers/{sid}/action",
                  {"os-migrateLive": {"host": None, "block_migration": "auto", "force": True}},
                  headers=at("2.68"))
    assert r.status_code == 400 and "force" in r.text
    r = nova.post(f"/servers/{sid}/action", {"evacuate": {}}, headers=at("2.29"))
    assert r.status_code == 400 and "still in use" in r.text
    assert nova.get(f"/servers/{sid}/migrations", headers=at("2.22")).status_code == 404
    assert nova.get(f"/servers/{sid}/migrations", headers=at("2.23")).json() == {"migrations": []}
    assert nova.get(f"/servers/{sid}/topology", headers=at("2.77")).status_code == 404
    assert nova.get(f"/servers/{sid}/topology", headers=at("2.78")).json()["nodes"] == []
    body = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
    r = nova.post(f"/servers/{sid}/remote-consoles", body, headers=at("2.6"))
    assert r.status_code == 400 and "Unavailable console type" in r.text
    body = {"remote_console": {"protocol": "mks", "type": "webmks"}}
    assert "protocol" in nova.post(f"/servers/{sid}/remote-consoles", body, headers=at("2.7")).text


def test_create_checks_what_it_names(env):
    """Unknown networks, ports and addresses are refused at once, as Nova."""
    s, nova, iid, nid, tok = env
    base = {"name": "chk", "imageRef": iid, "flavorRef": "42"}
    missing = "6b8f2d1e-0000-4000-8000-00000000dead"
    for nets, status in [([{"uuid": missing}], 400), ([{"port": missing}], 400),
                         ([{"uuid": nid, "fixed_ip": "192.0.2.9"}], 400)]:
        r = nova.post("/servers", {"server": dict(base, networks=nets)})
        assert r.status_code == status, (nets, r.text)
    sid = boot(nova, iid, nid)
    port = requests.get(f"{s.url}/networking/v2.0/ports?device_id={sid}", timeout=10,
                        headers={"X-Auth-Token": tok}).json()["ports"][0]
    r = nova.post("/servers", {"server": dict(base, networks=[{"port": port["id"]}])})
    assert r.status_code == 409, r.text
    taken = port["fixed_ips"][0]["ip_address"]
    r = nova.post("/servers", {"server": dict(base, networks=[{"uuid": nid, "fixed_ip": taken}])})
    assert r.status_code == 400 and "in use" in r.text


def test_long_actions_show_their_transitional_status(tmp_path):
    """With a slow (fake) driver every long action is seen in its
    transitional status before it settles, as Nova shows them."""
    import ferro

    cfg = tmp_path / "slow.toml"
    cfg.write_text("[compute]\nfake_delay_ms = 1500\n")
    srv = ferro.Server(tmp_path / "data", extra_args=["--config", str(cfg)]).start()
    try:
        tok = token(srv)
        nova = Nova(srv, tok)
        iid, nid = image(srv, tok), net(srv, tok)
        r = nova.post("/servers", {"server": {"name": "slow", "imageRef": iid, "flavorRef": "42",
                                              "networks": [{"uuid": nid}]}})
        sid = r.json()["server"]["id"]
        wait(nova, sid, "ACTIVE", timeout=60)
        steps = [({"reboot": {"type": "SOFT"}}, "REBOOT", "ACTIVE"),
                 ({"rebuild": {"imageRef": iid}}, "REBUILD", "ACTIVE"),
                 ({"resize": {"flavorRef": "84"}}, "RESIZE", "VERIFY_RESIZE"),
                 ({"revertResize": None}, "REVERT_RESIZE", "ACTIVE")]
        for body, during, after in steps:
            assert nova.post(f"/servers/{sid}/action", body).status_code == 202, body
            assert show(nova, sid, "2.1")["status"] == during, body
            wait(nova, sid, after, timeout=60)
        assert show(nova, sid, "2.47")["flavor"]["original_name"] == "m1.nano"
    finally:
        srv.stop()


def test_blank_and_snapshot_block_devices(env):
    """A blank volume and a volume from a snapshot are made, attached, and
    (with delete_on_termination) deleted with the server."""
    s, nova, iid, nid, tok = env
    h = {"X-Auth-Token": tok}
    project = requests.get(s.identity_url + "/v3/auth/tokens", timeout=10,
                           headers=dict(h, **{"X-Subject-Token": tok})).json()["token"]["project"]["id"]
    vbase = f"{s.url}/volume/v3/{project}"

    def settle(vid, status="available"):
        for _ in range(150):
            v = requests.get(f"{vbase}/volumes/{vid}", headers=h, timeout=10)
            if v.status_code == 200 and v.json()["volume"]["status"] == status:
                return
            time.sleep(0.1)
        raise AssertionError(f"volume {vid} not {status}")

    src = requests.post(f"{vbase}/volumes", json={"volume": {"size": 1}}, headers=h, timeout=10).json()["volume"]
    settle(src["id"])
    snap = requests.post(f"{vbase}/snapshots", json={"snapshot": {"volume_id": src["id"]}},
                         headers=h, timeout=10).json()["snapshot"]
    for _ in range(150):
        if requests.get(f"{vbase}/snapshots/{snap['id']}", headers=h, timeout=10).json()["snapshot"]["status"] == "available":
            break
        time.sleep(0.1)
    bdm = [{"boot_index": 0, "source_type": "image", "uuid": iid, "destination_type": "local"},
           {"boot_index": 1, "source_type": "blank", "destination_type": "volume",
            "volume_size": 1, "delete_on_termination": True},
           {"boot_index": 2, "source_type": "snapshot", "uuid": snap["id"],
            "destination_type": "volume", "volume_size": 1, "delete_on_termination": True}]
    sid = boot(nova, iid, nid, "2.67", block_device_mapping_v2=bdm)
    atts = nova.get(f"/servers/{sid}/os-volume_attachments").json()["volumeAttachments"]
    assert len(atts) == 2, atts
    made = [a["volumeId"] for a in atts]
    for vid in made:
        assert requests.get(f"{vbase}/volumes/{vid}", headers=h, timeout=10).json()["volume"]["status"] == "in-use"
    assert nova.req("DELETE", f"/servers/{sid}").status_code == 204
    wait(nova, sid, "DELETED")
    for vid in made:
        for _ in range(100):
            if requests.get(f"{vbase}/volumes/{vid}", headers=h, timeout=10).status_code == 404:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"volume {vid} outlived its server")


def test_create_checks_block_devices(env):
    _, nova, iid, nid, _ = env
    base = {"name": "bd", "imageRef": iid, "flavorRef": "42", "networks": [{"uuid": nid}]}
    missing = "6b8f2d1e-0000-4000-8000-00000000dead"
    for entry in [{"boot_index": 1, "source_type": "snapshot", "uuid": missing,
                   "destination_type": "volume", "volume_size": 1},
                  {"boot_index": 1, "source_type": "blank", "destination_type": "volume"}]:
        r = nova.post("/servers", {"server": dict(base, block_device_mapping_v2=[entry])})
        assert r.status_code == 400 and "Block Device Mapping is Invalid" in r.text, r.text


def _raw_image(server, tok, name, data):
    h = {"X-Auth-Token": tok}
    base = server.url + "/image/v2"
    r = requests.post(base + "/images", headers=h, timeout=30, json={
        "name": name, "disk_format": "raw", "container_format": "bare"})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    r = requests.put(f"{base}/images/{iid}/file", data=data, timeout=30,
                     headers=dict(h, **{"Content-Type": "application/octet-stream"}))
    assert r.status_code == 204, r.text
    return iid


def test_rebuild_volume_backed_server_reimages_from_2_93(env):
    """Nova keeps a volume-backed server's image empty over a rebuild;
    before 2.93 the image may not change (400 ImageUnacceptable), from 2.93
    the root volume is re-imaged (Cinder's os-reimage) and comes back in use
    with the new image's data and metadata."""
    s, nova, _, nid, tok = env
    first = _raw_image(s, tok, "first", b"A" * 65536)
    second = _raw_image(s, tok, "second", b"B" * 65536)
    vbase = s.url + "/volume/v3"
    h = {"X-Auth-Token": tok}
    bdm = [{"boot_index": 0, "source_type": "image", "uuid": first,
            "destination_type": "volume", "volume_size": 1, "delete_on_termination": True}]
    r = nova.post("/servers", {"server": {"name": "bfv", "imageRef": "", "flavorRef": "42",
                                          "networks": [{"uuid": nid}],
                                          "block_device_mapping_v2": bdm}}, headers=at("2.92"))
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    vid = nova.get(f"/servers/{sid}/os-volume_attachments").json()["volumeAttachments"][0]["volumeId"]

    def volume():
        return requests.get(f"{vbase}/volumes/{vid}", headers=h, timeout=10).json()["volume"]

    assert volume()["volume_image_metadata"]["image_id"] == first
    r = nova.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": second}}, headers=at("2.92"))
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == (
        f"Image {second} is unacceptable: Unable to rebuild with a different image for a "
        "volume-backed server.")
    # the same image: a rebuild that leaves the volume alone
    r = nova.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": first}}, headers=at("2.92"))
    assert r.status_code == 202, r.text
    assert r.json()["server"]["image"] == ""
    wait(nova, sid, "ACTIVE")

    r = nova.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": second, "name": "bfv2"}},
                  headers=at("2.93"))
    assert r.status_code == 202, r.text
    assert r.json()["server"]["image"] == "" and r.json()["server"]["name"] == "bfv2"
    wait(nova, sid, "ACTIVE")
    assert show(nova, sid, "2.93")["image"] == ""
    for _ in range(100):
        v = volume()
        if v["volume_image_metadata"]["image_id"] == second and v["status"] == "in-use":
            break
        time.sleep(0.1)
    assert v["status"] == "in-use", v
    assert v["volume_image_metadata"]["image_id"] == second
    assert v["volume_image_metadata"]["image_name"] == "second"
    assert v["attachments"][0]["server_id"] == sid
    # the volume's data is the second image's
    found = list(s.data_dir.rglob(f"volume-{vid}.qcow2"))
    assert len(found) == 1, found
    raw = s.data_dir.parent / f"{vid}.raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(found[0]), str(raw)],
                   check=True, timeout=60)
    with open(raw, "rb") as f:
        assert f.read(65536) == b"B" * 65536
    raw.unlink()
