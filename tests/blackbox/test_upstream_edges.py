"""Edge cases where we answered differently from upstream (found by a sweep,
issue 12), each checked against what Neutron and Glance answer: a subnet's
`gateway_ip: ""` (400, not "no gateway"), Neutron quotas beyond the 32-bit
column (400), floating IPs on router interface ports (allowed; only DHCP
ports are refused), Glance's image property quota (128: 413, counted when a
property is added), and a `Range` end past 2^64 (206 with the data to the
end, as Glance's unbounded integers clamp it). Both backends. Also: tenant
networks are VXLAN with a VNI of their own (admin view)."""

import requests

from nethelp import admin_net, assert_neutron_error, external_network


def test_subnet_gateway_empty_string_is_refused(server):
    net = admin_net(server)
    n = net.network()
    err = assert_neutron_error(net.post("/v2.0/subnets", json={"subnet": {
        "network_id": n["id"], "cidr": "10.9.0.0/24", "ip_version": 4, "gateway_ip": ""}}),
        400, "HTTPBadRequest")
    assert "gateway_ip" in err["message"]
    sub = net.subnet(n["id"], "10.9.0.0/24", gateway_ip=None)
    assert sub["gateway_ip"] is None
    assert_neutron_error(net.put(f"/v2.0/subnets/{sub['id']}",
                                 json={"subnet": {"gateway_ip": ""}}), 400)
    sub = net.subnet(n["id"], "10.9.1.0/24")
    r = net.put(f"/v2.0/subnets/{sub['id']}", json={"subnet": {"gateway_ip": None}},
                expect=200)
    assert r.json()["subnet"]["gateway_ip"] is None


def test_quota_beyond_32_bits_is_refused(server):
    net = admin_net(server)
    project = "0123456789abcdef0123456789abcdef"
    err = assert_neutron_error(net.put(f"/v2.0/quotas/{project}",
                                       json={"quota": {"network": 2**31}}), 400)
    assert "network" in err["message"] and "2147483647" in err["message"]
    r = net.put(f"/v2.0/quotas/{project}", json={"quota": {"network": 2**31 - 1}}, expect=200)
    assert r.json()["quota"]["network"] == 2**31 - 1


def test_floating_ip_on_router_interface_port_but_not_dhcp(server):
    net = admin_net(server)
    ext, _ = external_network(net)
    n = net.network()
    sub = net.subnet(n["id"], "10.10.0.0/24")
    router = net.create("router", name="r", external_gateway_info={"network_id": ext["id"]})
    net.put(f"/v2.0/routers/{router['id']}/add_router_interface",
            json={"subnet_id": sub["id"]}, expect=200)
    rif = [p for p in net.get(f"/v2.0/ports?device_id={router['id']}").json()["ports"]
           if p["device_owner"] == "network:router_interface"][0]
    fip = net.create("floatingip", floating_network_id=ext["id"], port_id=rif["id"])
    assert fip["port_id"] == rif["id"] and fip["router_id"] == router["id"]
    assert fip["fixed_ip_address"] == "10.10.0.1"
    dhcp = net.create("port", network_id=n["id"], device_owner="network:dhcp")
    err = assert_neutron_error(net.post("/v2.0/floatingips", json={"floatingip": {
        "floating_network_id": ext["id"], "port_id": dhcp["id"]}}), 400, "BadRequest")
    assert "unable to be assigned a floating IP" in err["message"]


def test_tenant_networks_are_vxlan_with_their_own_vni(server):
    net = admin_net(server)
    a, b = net.network(), net.network()
    assert a["provider:network_type"] == b["provider:network_type"] == "vxlan"
    assert a["provider:segmentation_id"] != b["provider:segmentation_id"]
    assert a["mtu"] == 1450 and a["provider:physical_network"] is None
    c = net.network(mtu=1400)
    assert c["mtu"] == 1400


def _glance(server):
    h = {"X-Auth-Token": server.admin_token()}
    return server.url + "/image/v2", h


def test_image_property_quota(server):
    base, h = _glance(server)
    props = {f"p{i}": "x" for i in range(129)}
    r = requests.post(base + "/images", headers=h, json=dict(name="many", **props), timeout=30)
    assert r.status_code == 413, r.text
    assert "Attempted: 129, Maximum: 128" in r.json()["message"]
    del props["p128"]
    r = requests.post(base + "/images", headers=h, json=dict(name="full", **props), timeout=30)
    assert r.status_code == 201, r.text
    img = r.json()
    patch = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
    # Adding one more: 413; replacing one: fine (nothing added).
    r = requests.patch(f"{base}/images/{img['id']}", headers=dict(h, **patch), timeout=30,
                       json=[{"op": "add", "path": "/extra", "value": "y"}])
    assert r.status_code == 413, r.text
    r = requests.patch(f"{base}/images/{img['id']}", headers=dict(h, **patch), timeout=30,
                       json=[{"op": "replace", "path": "/p0", "value": "y"}])
    assert r.status_code == 200 and r.json()["p0"] == "y"


def test_range_end_past_64_bits(server):
    base, h = _glance(server)
    img = requests.post(base + "/images", headers=h, timeout=30, json={
        "name": "r", "disk_format": "raw", "container_format": "bare"}).json()
    data = bytes(range(256)) * 4
    r = requests.put(f"{base}/images/{img['id']}/file", data=data, timeout=30,
                     headers=dict(h, **{"Content-Type": "application/octet-stream"}))
    assert r.status_code == 204
    r = requests.get(f"{base}/images/{img['id']}/file", timeout=30,
                     headers=dict(h, Range="bytes=10-99999999999999999999999"))
    assert r.status_code == 206 and r.content == data[10:]
    assert r.headers["Content-Range"] == f"bytes 10-{len(data) - 1}/{len(data)}"
    r = requests.get(f"{base}/images/{img['id']}/file", timeout=30,
                     headers=dict(h, Range="bytes=99999999999999999999999-"))
    assert r.status_code == 416


def test_shared_network_port_attributes_are_the_network_owners(server):
    """What the data plane trusts (MAC, port security, allowed address
    pairs, a `network:` owner) is the network owner's to set (Neutron's
    policy); another project on a shared network gets 403, on its own
    network it may. A free fixed address may be asked for by anyone."""
    from nethelp import project_user
    admin = admin_net(server)
    shared = admin.network(shared=True)
    admin.subnet(shared["id"], "10.11.0.0/24")
    user, _project = project_user(server)
    for attrs, what in (({"mac_address": "fa:16:3e:11:22:33"}, "mac_address"),
                        ({"port_security_enabled": False}, "port_security_enabled"),
                        ({"allowed_address_pairs": [{"ip_address": "10.11.0.60"}]},
                         "allowed_address_pairs"),
                        ({"device_owner": "network:router_interface"}, "device_owner")):
        err = assert_neutron_error(user.post("/v2.0/ports", json={"port": dict(
            network_id=shared["id"], **attrs)}), 403)
        assert f"create_port:{what}" in err["message"], err
    port = user.create("port", network_id=shared["id"], fixed_ips=[{"ip_address": "10.11.0.50"}])
    err = assert_neutron_error(user.put(f"/v2.0/ports/{port['id']}", json={"port": {
        "allowed_address_pairs": [{"ip_address": "10.11.0.60"}]}}), 403)
    assert "update_port:allowed_address_pairs" in err["message"]
    user.put(f"/v2.0/ports/{port['id']}", json={"port": {"name": "fine"}}, expect=200)
    own = user.network()
    user.subnet(own["id"], "10.12.0.0/24")
    mine = user.create("port", network_id=own["id"], mac_address="fa:16:3e:11:22:34",
                       fixed_ips=[{"ip_address": "10.12.0.50"}],
                       allowed_address_pairs=[{"ip_address": "10.12.0.60"}])
    assert mine["mac_address"] == "fa:16:3e:11:22:34"
