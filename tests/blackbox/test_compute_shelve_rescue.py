"""shelve / shelveOffload / unshelve and rescue / unrescue, per microversion:
each transition and status, the shelved image made and removed, unshelve
bodies at 2.77 and 2.91, volume-backed rescue at 2.87, volume attach to a
shelved server from 2.20, and the 409s of servers in the wrong state."""

import time

import requests

from computehelp import Nova, image, net, shared_net_server, token, wait


def at(v):
    return {"OpenStack-API-Version": f"compute {v}"}


def act(nova, sid, body, version="2.1"):
    return nova.post(f"/servers/{sid}/action", body, headers=at(version))


def boot(nova, s, tok, name, **extra):
    iid, nid = image(s, tok), net(s, tok, name="n-" + name)
    body = {"name": name, "imageRef": iid, "flavorRef": "42", "networks": [{"uuid": nid}]}
    body.update(extra)
    r = nova.post("/servers", {"server": body})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    return sid, iid, nid


def glance(s, tok, path):
    return requests.get(s.url + "/image/v2" + path, headers={"X-Auth-Token": tok}, timeout=10)


def shelved_images(s, tok, name):
    r = glance(s, tok, f"/images?name={name}-shelved")
    assert r.status_code == 200, r.text
    return r.json()["images"]


def show(nova, sid, version="2.1"):
    r = nova.get(f"/servers/{sid}", headers=at(version))
    assert r.status_code == 200, r.text
    return r.json()["server"]


def actions(nova, sid):
    r = nova.get(f"/servers/{sid}/os-instance-actions")
    return [a["action"] for a in r.json()["instanceActions"]]


def test_shelve_unshelve_cycle(server):
    s = server
    tok = token(s)
    nova = Nova(s, tok)
    sid, _, _ = boot(nova, s, tok, "sh1")
    host = show(nova, sid)["OS-EXT-SRV-ATTR:host"]
    assert host
    # unshelve / shelveOffload of an active server: 409
    assert act(nova, sid, {"unshelve": None}).status_code == 409
    assert act(nova, sid, {"shelveOffload": None}).status_code == 409
    r = act(nova, sid, {"shelve": None})
    assert r.status_code == 202 and r.text == "", r.text
    srv = wait(nova, sid, "SHELVED_OFFLOADED")
    assert srv["OS-EXT-STS:vm_state"] == "shelved_offloaded"
    assert srv["OS-EXT-STS:task_state"] is None
    assert srv["OS-EXT-SRV-ATTR:host"] is None
    assert srv["OS-EXT-STS:power_state"] == 0
    imgs = shelved_images(s, tok, "sh1")
    assert len(imgs) == 1, imgs
    img = imgs[0]
    assert img["status"] == "active" and img["instance_uuid"] == sid
    assert img["image_type"] == "snapshot"
    # a shelved-offloaded server refuses what needs a guest
    for body in ({"shelve": None}, {"os-stop": None}, {"reboot": {"type": "HARD"}},
                 {"rescue": None}, {"shelveOffload": None}):
        assert act(nova, sid, body).status_code == 409, body
    r = act(nova, sid, {"unshelve": None})
    assert r.status_code == 202 and r.text == "", r.text
    srv = wait(nova, sid, "ACTIVE")
    assert srv["OS-EXT-SRV-ATTR:host"] == host
    assert srv["OS-EXT-STS:power_state"] == 1
    assert glance(s, tok, f"/images/{img['id']}").status_code == 404
    acts = actions(nova, sid)
    assert acts[:2] == ["unshelve", "shelve"], acts


def test_shelve_from_shutoff_and_delete_removes_image(server):
    s = server
    tok = token(s)
    nova = Nova(s, tok)
    sid, _, _ = boot(nova, s, tok, "sh2")
    assert act(nova, sid, {"os-stop": None}).status_code == 202
    wait(nova, sid, "SHUTOFF")
    assert act(nova, sid, {"shelve": {}}).status_code == 202
    wait(nova, sid, "SHELVED_OFFLOADED")
    img = shelved_images(s, tok, "sh2")[0]
    assert nova.req("DELETE", f"/servers/{sid}").status_code == 204
    wait(nova, sid, "DELETED")
    assert glance(s, tok, f"/images/{img['id']}").status_code == 404


def test_unshelve_bodies_per_version(server):
    s = server
    admin = token(s)
    nova = Nova(s, admin)
    sid, _, _ = boot(nova, s, admin, "sh3")
    host = show(nova, sid)["OS-EXT-SRV-ATTR:host"]
    assert act(nova, sid, {"shelve": None}).status_code == 202
    wait(nova, sid, "SHELVED_OFFLOADED")
    # 2.77: {} and unknown keys are refused; an unknown zone is a 400
    for body in ({}, {"host": host}, {"availability_zone": ""}, {"availability_zone": None}):
        r = act(nova, sid, {"unshelve": body}, "2.77")
        assert r.status_code == 400, (body, r.text)
    r = act(nova, sid, {"unshelve": {"availability_zone": "elsewhere"}}, "2.77")
    assert r.status_code == 400 and "availability zone" in r.text, r.text
    # 2.91: host must exist; only admins may name one
    r = act(nova, sid, {"unshelve": {"host": "no-such-host"}}, "2.91")
    assert r.status_code == 400 and "no-such-host" in r.text, r.text
    r = act(nova, sid, {"unshelve": {"host": 5}}, "2.91")
    assert r.status_code == 400 and "host" in r.text
    r = act(nova, sid, {"unshelve": {"availability_zone": "nova", "bogus": 1}}, "2.91")
    assert r.status_code == 400 and "bogus" in r.text
    # 2.77 with a zone: the server is pinned to it (2.96 shows the pin)
    r = act(nova, sid, {"unshelve": {"availability_zone": "nova"}}, "2.77")
    assert r.status_code == 202, r.text
    wait(nova, sid, "ACTIVE")
    assert show(nova, sid, "2.96")["pinned_availability_zone"] == "nova"
    # a zone or host needs a shelved-offloaded server: an active one is 409
    r = act(nova, sid, {"unshelve": {"availability_zone": "nova"}}, "2.77")
    assert r.status_code == 409
    # 2.91: null unpins; a host (admin) is fine
    assert act(nova, sid, {"shelve": None}).status_code == 202
    wait(nova, sid, "SHELVED_OFFLOADED")
    r = act(nova, sid, {"unshelve": {"availability_zone": None, "host": host}}, "2.91")
    assert r.status_code == 202, r.text
    wait(nova, sid, "ACTIVE")
    assert show(nova, sid, "2.96")["pinned_availability_zone"] is None
    # before 2.77 any body is taken and ignored
    assert act(nova, sid, {"shelve": None}).status_code == 202
    wait(nova, sid, "SHELVED_OFFLOADED")
    assert act(nova, sid, {"unshelve": {"availability_zone": "x"}}, "2.76").status_code == 202
    wait(nova, sid, "ACTIVE")


def test_unshelve_to_host_is_admin_only(server):
    s = server
    admin = token(s)
    member, _, r = shared_net_server(s, admin, "sh4")
    tok = member.h["X-Auth-Token"]
    sid = r.json()["server"]["id"]
    assert act(member, sid, {"shelve": None}).status_code == 202
    wait(member, sid, "SHELVED_OFFLOADED")
    # shelveOffload is an admin action
    assert act(member, sid, {"shelveOffload": None}).status_code == 403
    r = act(member, sid, {"unshelve": {"host": "anything"}}, "2.91")
    assert r.status_code == 403, r.text
    assert act(member, sid, {"unshelve": {}}, "2.91").status_code == 202
    wait(member, sid, "ACTIVE")
    assert shelved_images(s, tok, "sh4") == []


def test_rescue_unrescue(server):
    s = server
    tok = token(s)
    nova = Nova(s, tok)
    sid, iid, _ = boot(nova, s, tok, "rs1")
    assert act(nova, sid, {"unrescue": None}).status_code == 409
    r = act(nova, sid, {"rescue": None})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"adminPass"} and r.json()["adminPass"]
    srv = wait(nova, sid, "RESCUE")
    assert srv["OS-EXT-STS:vm_state"] == "rescued"
    # Nova's state checks: a rescued server refuses these
    for body in ({"rescue": None}, {"reboot": {"type": "HARD"}}, {"reboot": {"type": "SOFT"}},
                 {"pause": None}, {"suspend": None}, {"os-stop": None}, {"os-start": None},
                 {"shelve": None}, {"resize": {"flavorRef": "1"}},
                 {"rebuild": {"imageRef": iid}},
                 {"createBackup": {"name": "b", "backup_type": "d", "rotation": 1}}):
        r = act(nova, sid, body)
        assert r.status_code == 409, (body, r.text)
    r = act(nova, sid, {"unrescue": None})
    assert r.status_code == 202 and r.text == ""
    wait(nova, sid, "ACTIVE")
    acts = actions(nova, sid)
    assert acts[:2] == ["unrescue", "rescue"], acts
    # a given password is the one answered; a rescue image by id
    r = act(nova, sid, {"rescue": {"adminPass": "s3cret", "rescue_image_ref": iid}})
    assert r.status_code == 200 and r.json() == {"adminPass": "s3cret"}, r.text
    wait(nova, sid, "RESCUE")
    assert act(nova, sid, {"unrescue": None}).status_code == 202
    wait(nova, sid, "ACTIVE")
    # from SHUTOFF too; PAUSED is refused
    assert act(nova, sid, {"pause": None}).status_code == 202
    wait(nova, sid, "PAUSED")
    assert act(nova, sid, {"rescue": None}).status_code == 409
    assert act(nova, sid, {"unpause": None}).status_code == 202
    wait(nova, sid, "ACTIVE")
    assert act(nova, sid, {"os-stop": None}).status_code == 202
    wait(nova, sid, "SHUTOFF")
    assert act(nova, sid, {"rescue": {}}).status_code == 200
    wait(nova, sid, "RESCUE")
    assert act(nova, sid, {"unrescue": None}).status_code == 202
    wait(nova, sid, "ACTIVE")


def test_rescue_bad_bodies(server):
    s = server
    tok = token(s)
    nova = Nova(s, tok)
    sid, _, _ = boot(nova, s, tok, "rs2")
    for body, field in [({"rescue": {"bogus": 1}}, "bogus"),
                        ({"rescue": {"adminPass": 5}}, "adminPass"),
                        ({"rescue": {"rescue_image_ref": "not-a-uuid"}}, "rescue_image_ref"),
                        ({"rescue": "x"}, "rescue")]:
        r = act(nova, sid, body)
        assert r.status_code == 400 and field in r.text, (body, r.text)
    missing = "6b8f2d1e-0000-4000-8000-00000000dead"
    r = act(nova, sid, {"rescue": {"rescue_image_ref": missing}})
    assert r.status_code == 400 and missing in r.text, r.text
    assert show(nova, sid)["status"] == "ACTIVE"


def _volume(s, tok, **extra):
    h = {"X-Auth-Token": tok}
    pid = requests.get(s.identity_url + "/v3/auth/tokens", timeout=10,
                       headers=dict(h, **{"X-Subject-Token": tok})).json()["token"]["project"]["id"]
    base = f"{s.url}/volume/v3/{pid}"
    v = requests.post(base + "/volumes", json={"volume": dict({"size": 1}, **extra)},
                      headers=h, timeout=10).json()["volume"]
    for _ in range(150):
        st = requests.get(f"{base}/volumes/{v['id']}", headers=h, timeout=10).json()["volume"]["status"]
        if st == "available":
            return v["id"], base
        time.sleep(0.1)
    raise AssertionError("volume not available")


def _raw_image(s, tok, name, **props):
    h = {"X-Auth-Token": tok}
    img = requests.post(s.url + "/image/v2/images", headers=h, timeout=10, json=dict({
        "name": name, "disk_format": "raw", "container_format": "bare"}, **props)).json()
    r = requests.put(f"{s.url}/image/v2/images/{img['id']}/file", data=b"r" * 4096, timeout=10,
                     headers=dict(h, **{"Content-Type": "application/octet-stream"}))
    assert r.status_code == 204, r.text
    return img["id"]


def test_rescue_volume_backed_per_version(server):
    s = server
    tok = token(s)
    nova = Nova(s, tok)
    iid, nid = _raw_image(s, tok, "bfv-src"), net(s, tok, name="n-bfv")
    bdm = [{"boot_index": 0, "source_type": "image", "uuid": iid,
            "destination_type": "volume", "volume_size": 1, "delete_on_termination": True}]
    r = nova.post("/servers", {"server": {"name": "bfv", "flavorRef": "42", "imageRef": "",
                                          "networks": [{"uuid": nid}],
                                          "block_device_mapping_v2": bdm}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    assert show(nova, sid)["image"] == ""
    r = act(nova, sid, {"rescue": None}, "2.86")
    assert r.status_code == 400 and "Cannot rescue a volume-backed instance" in r.text, r.text
    # 2.87 needs an image saying where the rescue disk goes
    r = act(nova, sid, {"rescue": {"rescue_image_ref": iid}}, "2.87")
    assert r.status_code == 400 and "volume-backed" in r.text, r.text
    rimg = _raw_image(s, tok, "rescue", hw_rescue_bus="virtio", hw_rescue_device="disk")
    r = act(nova, sid, {"rescue": {"rescue_image_ref": rimg}}, "2.86")
    assert r.status_code == 400, r.text
    r = act(nova, sid, {"rescue": {"rescue_image_ref": rimg}}, "2.87")
    assert r.status_code == 200, r.text
    wait(nova, sid, "RESCUE")
    assert act(nova, sid, {"unrescue": None}, "2.87").status_code == 202
    wait(nova, sid, "ACTIVE")
    # a volume-backed server shelves without an image
    assert act(nova, sid, {"shelve": None}).status_code == 202
    wait(nova, sid, "SHELVED_OFFLOADED")
    assert shelved_images(s, tok, "bfv") == []
    assert act(nova, sid, {"unshelve": None}).status_code == 202
    wait(nova, sid, "ACTIVE")


def test_volume_attach_shelved_from_2_20(server):
    s = server
    tok = token(s)
    nova = Nova(s, tok)
    sid, _, _ = boot(nova, s, tok, "shv")
    vid, _ = _volume(s, tok)
    assert act(nova, sid, {"shelve": None}).status_code == 202
    wait(nova, sid, "SHELVED_OFFLOADED")
    path = f"/servers/{sid}/os-volume_attachments"
    r = nova.post(path, {"volumeAttachment": {"volumeId": vid}}, headers=at("2.19"))
    assert r.status_code == 409, r.text
    r = nova.post(path, {"volumeAttachment": {"volumeId": vid, "tag": "t"}}, headers=at("2.49"))
    assert r.status_code == 400, r.text
    r = nova.post(path, {"volumeAttachment": {"volumeId": vid}}, headers=at("2.20"))
    assert r.status_code == 200, r.text
    assert r.json()["volumeAttachment"]["volumeId"] == vid
    r = nova.req("DELETE", f"{path}/{vid}", headers=at("2.19"))
    assert r.status_code == 409, r.text
    r = nova.req("DELETE", f"{path}/{vid}", headers=at("2.20"))
    assert r.status_code == 202, r.text
    r = nova.post(path, {"volumeAttachment": {"volumeId": vid}}, headers=at("2.20"))
    assert r.status_code == 200, r.text
    assert act(nova, sid, {"unshelve": None}).status_code == 202
    wait(nova, sid, "ACTIVE")
    atts = nova.get(path).json()["volumeAttachments"]
    assert [a["volumeId"] for a in atts] == [vid] and atts[0]["device"]
    # a rescued server: attach and detach are 409
    vid2, _ = _volume(s, tok)
    assert act(nova, sid, {"rescue": None}).status_code == 200
    wait(nova, sid, "RESCUE")
    r = nova.post(path, {"volumeAttachment": {"volumeId": vid2}})
    assert r.status_code == 409, r.text
    assert nova.req("DELETE", f"{path}/{vid}").status_code == 409
