"""Neutron over plain HTTP: discovery, list semantics (filters, fields,
sorting, pagination links), error bodies, IPAM conflicts, quotas, the
classic port 9696 layout."""

import socket
import sys
from pathlib import Path

import requests

import ferro
from nethelp import Net, admin_net, assert_neutron_error, external_network, project_user, uniq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tempest"))
import gen_conf  # noqa: E402


def test_discovery(server):
    r = requests.get(server.url + "/networking", timeout=10)
    assert r.status_code == 200
    v = r.json()["versions"]
    assert v == [{"id": "v2.0", "status": "CURRENT",
                  "links": [{"href": server.url + "/networking/v2.0/", "rel": "self"}]}]
    r = requests.get(server.url + "/network/", timeout=10)
    assert r.json()["versions"][0]["links"][0]["href"] == server.url + "/network/v2.0/"
    res = requests.get(server.url + "/networking/v2.0", timeout=10).json()["resources"]
    assert {x["collection"] for x in res} >= {"networks", "subnets", "ports", "routers",
                                               "floatingips", "security-groups"}


def test_extensions_match_tempest_config(sqlite_server):
    net = admin_net(sqlite_server)
    exts = net.get("/v2.0/extensions", expect=200).json()["extensions"]
    assert sorted(e["alias"] for e in exts) == sorted(gen_conf.NETWORK_EXTENSIONS)
    for e in exts:
        assert set(e) == {"alias", "name", "description", "updated", "links"}
    assert net.get("/v2.0/extensions/router", expect=200).json()["extension"]["alias"] == "router"
    assert_neutron_error(net.get("/v2.0/extensions/external-gateway-multihoming"), 404)
    assert_neutron_error(net.get("/v2.0/nonsense"), 404)
    assert_neutron_error(requests.get(net.base + "/v2.0/networks", timeout=10), 401)


def test_list_filters_fields_sort_pagination(server):
    net = admin_net(server)
    names = [f"pg-{i:02d}" for i in range(7)]
    made = [net.network(name=n, mtu=1400 + i) for i, n in enumerate(names)]
    ids = {n["id"] for n in made}
    # filters: equality, repeated values = OR, booleans, unknown filters ignored
    got = net.get("/v2.0/networks", params=[("name", "pg-01"), ("name", "pg-03")],
                  expect=200).json()["networks"]
    assert sorted(n["name"] for n in got) == ["pg-01", "pg-03"]
    got = net.get("/v2.0/networks", params={"mtu": "1402", "shared": "False", "bogus": "x"},
                  expect=200).json()["networks"]
    assert [n["name"] for n in got] == ["pg-02"]
    # fields
    got = net.get("/v2.0/networks", params=[("fields", "id"), ("fields", "name")],
                  expect=200).json()["networks"]
    assert all(set(n) == {"id", "name"} for n in got)
    one = net.get(f"/v2.0/networks/{made[0]['id']}", params={"fields": "mtu"}, expect=200)
    assert one.json() == {"network": {"mtu": 1400}}
    # sort
    got = net.get("/v2.0/networks", params={"sort_key": "name", "sort_dir": "desc"},
                  expect=200).json()["networks"]
    mine = [n["name"] for n in got if n["id"] in ids]
    assert mine == sorted(names, reverse=True)
    assert_neutron_error(net.get("/v2.0/networks", params={"sort_key": "name", "sort_dir": "up"}), 400)
    assert_neutron_error(net.get("/v2.0/networks", params={"sort_key": "nope"}), 400)
    assert_neutron_error(net.get("/v2.0/networks", params={"limit": "-1"}), 400)
    # pagination: walk next links
    seen, url, pages = [], "/v2.0/networks?limit=3&sort_key=name&sort_dir=asc", 0
    while url:
        body = net.get(url, expect=200).json()
        seen += [n["name"] for n in body["networks"]]
        links = {l["rel"]: l["href"] for l in body.get("networks_links", [])}
        assert len(body["networks"]) <= 3
        if pages:
            assert "previous" in links
        url = links.get("next", "").replace(net.base, "") or None
        pages += 1
    assert [s for s in seen if s.startswith("pg-")] == names
    assert pages == 3
    # the previous link of the last page gives the page before it
    last = net.get("/v2.0/networks", params={"limit": 3, "sort_key": "name",
                                              "marker": made[5]["id"]}, expect=200).json()
    assert [n["name"] for n in last["networks"]] == ["pg-06"]
    prev = [l["href"] for l in last["networks_links"] if l["rel"] == "previous"][0]
    back = requests.get(prev, headers={"X-Auth-Token": net.token}, timeout=10).json()
    assert [n["name"] for n in back["networks"]] == ["pg-03", "pg-04", "pg-05"]
    assert_neutron_error(net.get("/v2.0/networks", params={"marker": "0" * 32, "limit": 2}), 404)


def test_ipam_and_conflicts(server):
    net = admin_net(server)
    n = net.network()
    sub = net.subnet(n["id"], "10.9.0.0/30")
    assert sub["gateway_ip"] == "10.9.0.1"
    assert sub["allocation_pools"] == [{"start": "10.9.0.2", "end": "10.9.0.2"}]
    p1 = net.create("port", network_id=n["id"])
    assert p1["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.9.0.2"}]
    assert_neutron_error(net.create("port", expect=409, network_id=n["id"]), 409,
                         "IpAddressGenerationFailure")
    n2 = net.network()
    s2 = net.subnet(n2["id"], "10.8.0.0/24", gateway_ip=None)
    assert s2["gateway_ip"] is None
    assert s2["allocation_pools"] == [{"start": "10.8.0.1", "end": "10.8.0.254"}]
    net.create("port", network_id=n2["id"], fixed_ips=[{"ip_address": "10.8.0.50"}])
    assert_neutron_error(net.create("port", expect=409, network_id=n2["id"],
                                    fixed_ips=[{"ip_address": "10.8.0.50"}]),
                         409, "IpAddressAlreadyAllocated")
    assert_neutron_error(net.create("port", expect=400, network_id=n2["id"],
                                    fixed_ips=[{"ip_address": "10.7.0.5"}]), 400)
    # overlapping cidr within one network
    assert_neutron_error(net.subnet(n2["id"], "10.8.0.128/25", expect=400), 400, "InvalidInput")
    # v6 with explicit pools and SLAAC
    s6 = net.subnet(n2["id"], "2001:db8:1::/64", ip_version=6,
                    ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    p = net.create("port", network_id=n2["id"], mac_address="fa:16:3e:00:00:01")
    v6 = [ip["ip_address"] for ip in p["fixed_ips"] if ip["subnet_id"] == s6["id"]]
    assert v6 == ["2001:db8:1:0:f816:3eff:fe00:1"]  # EUI-64 of the MAC
    assert_neutron_error(net.create("port", expect=409, network_id=n2["id"],
                                    mac_address="fa:16:3e:00:00:01"), 409, "MacAddressInUse")
    # network with ports in use
    assert_neutron_error(net.delete(f"/v2.0/networks/{n2['id']}"), 409, "NetworkInUse")
    assert_neutron_error(net.delete(f"/v2.0/subnets/{s2['id']}"), 409, "SubnetInUse")
    # bound port status
    port = net.create("port", network_id=n["id"], fixed_ips=[])
    assert port["status"] == "DOWN" and port["fixed_ips"] == []
    up = net.put(f"/v2.0/ports/{port['id']}", json={"port": {"device_id": "vm-1",
                                                              "device_owner": "compute:nova"}},
                 expect=200).json()["port"]
    assert up["status"] == "ACTIVE" and up["revision_number"] == port["revision_number"] + 1


def test_router_floating_ip_rules(server):
    admin = admin_net(server)
    ext, ext_sub = external_network(admin)
    user, _ = project_user(server)
    n = user.network()
    sub = user.subnet(n["id"], "10.20.0.0/24")
    port = user.create("port", network_id=n["id"])
    fip = user.create("floatingip", floating_network_id=ext["id"])
    assert fip["status"] == "DOWN" and fip["port_id"] is None
    # not reachable: no router
    r = user.put(f"/v2.0/floatingips/{fip['id']}", json={"floatingip": {"port_id": port["id"]}})
    assert_neutron_error(r, 404, "ExternalGatewayForFloatingIPNotFound")
    router = user.create("router", name="r")
    info = user.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                    json={"subnet_id": sub["id"]}, expect=200).json()
    assert set(info) == {"id", "tenant_id", "project_id", "port_id", "network_id", "subnet_id", "subnet_ids"}
    assert_neutron_error(user.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                                  json={"subnet_id": sub["id"]}), 400)
    r = user.put(f"/v2.0/floatingips/{fip['id']}", json={"floatingip": {"port_id": port["id"]}})
    assert_neutron_error(r, 404, "ExternalGatewayForFloatingIPNotFound")
    # the gateway makes it reachable (enable_snat is admin-only)
    assert_neutron_error(user.put(f"/v2.0/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": ext["id"], "enable_snat": False}}}), 403)
    user.put(f"/v2.0/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": ext["id"]}}}, expect=200)
    assert_neutron_error(user.put(f"/v2.0/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": n["id"]}}}), 400)
    f = user.put(f"/v2.0/floatingips/{fip['id']}", json={"floatingip": {"port_id": port["id"]}},
                 expect=200).json()["floatingip"]
    assert f["status"] == "ACTIVE" and f["router_id"] == router["id"]
    assert f["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    other = user.create("floatingip", floating_network_id=ext["id"])
    r = user.put(f"/v2.0/floatingips/{other['id']}", json={"floatingip": {"port_id": port["id"]}})
    assert_neutron_error(r, 409, "FloatingIPPortAlreadyAssociated")
    # A router's interface port may hold one (as in Neutron); its gateway port may not.
    r = user.put(f"/v2.0/floatingips/{other['id']}",
                 json={"floatingip": {"port_id": info["port_id"]}}, expect=200)
    assert r.json()["floatingip"]["fixed_ip_address"] == "10.20.0.1"
    user.put(f"/v2.0/floatingips/{other['id']}", json={"floatingip": {"port_id": None}},
             expect=200)
    gw = admin.get("/v2.0/ports", params={"device_id": router["id"],
                                          "device_owner": "network:router_gateway"},
                   expect=200).json()["ports"][0]
    admin_fip = admin.create("floatingip", floating_network_id=ext["id"])
    r = admin.put(f"/v2.0/floatingips/{admin_fip['id']}", json={"floatingip": {"port_id": gw["id"]}})
    assert_neutron_error(r, 400)
    admin.delete(f"/v2.0/floatingips/{admin_fip['id']}", expect=204)
    # interface, router and gateway in use
    assert_neutron_error(user.put(f"/v2.0/routers/{router['id']}/remove_router_interface",
                                  json={"subnet_id": sub["id"]}), 409)
    assert_neutron_error(user.delete(f"/v2.0/routers/{router['id']}"), 409, "RouterInUse")
    assert_neutron_error(user.delete(f"/v2.0/ports/{info['port_id']}"), 409, "L3PortInUse")
    # deleting the port disassociates
    user.delete(f"/v2.0/ports/{port['id']}", expect=204)
    f = user.get(f"/v2.0/floatingips/{fip['id']}", expect=200).json()["floatingip"]
    assert f["port_id"] is None and f["status"] == "DOWN"
    user.put(f"/v2.0/routers/{router['id']}/remove_router_interface",
             json={"subnet_id": sub["id"]}, expect=200)
    assert_neutron_error(user.put(f"/v2.0/routers/{router['id']}/remove_router_interface",
                                  json={"subnet_id": sub["id"]}), 404,
                         "RouterInterfaceNotFoundForSubnet")
    user.delete(f"/v2.0/routers/{router['id']}", expect=204)
    for x in (fip, other):
        user.delete(f"/v2.0/floatingips/{x['id']}", expect=204)
    left = admin.get("/v2.0/ports", params={"network_id": ext["id"]}, expect=200).json()["ports"]
    assert left == []


def test_security_groups_and_rules(server):
    user, project = project_user(server)
    groups = user.get("/v2.0/security-groups", expect=200).json()["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    rules = groups[0]["security_group_rules"]
    key = sorted((r["direction"], r["ethertype"], r["remote_group_id"] is not None) for r in rules)
    assert key == [("egress", "IPv4", False), ("egress", "IPv6", False),
                   ("ingress", "IPv4", True), ("ingress", "IPv6", True)]
    default_id = groups[0]["id"]
    sg = user.create("security_group", name="web")
    rule = dict(security_group_id=sg["id"], direction="ingress", protocol="tcp",
                port_range_min=80, port_range_max=80, remote_ip_prefix="0.0.0.0/0")
    r1 = user.create("security_group_rule", **rule)
    assert r1["project_id"] == project["id"]
    assert_neutron_error(user.create("security_group_rule", expect=409, **rule), 409,
                         "SecurityGroupRuleExists")
    bad = [
        dict(rule, protocol="tcp", port_range_min=90, port_range_max=80),
        dict(rule, protocol="bogus"),
        dict(rule, protocol=None),
        dict(rule, ethertype="IPv6"),
        dict(rule, remote_group_id=default_id),
        dict(rule, direction="sideways"),
        dict(rule, protocol="icmp", port_range_min=None, port_range_max=3),
    ]
    for b in bad:
        assert_neutron_error(user.create("security_group_rule", expect=400, **b), 400)
    assert_neutron_error(user.create("security_group_rule", expect=404,
                                     **dict(rule, remote_ip_prefix=None, remote_group_id="f" * 32)), 404)
    assert_neutron_error(user.create("security_group", expect=409, name="default"), 409)
    assert_neutron_error(user.delete(f"/v2.0/security-groups/{default_id}"), 409)
    n = user.network()
    user.subnet(n["id"], "10.30.0.0/24")
    port = user.create("port", network_id=n["id"], security_groups=[sg["id"]])
    assert port["security_groups"] == [sg["id"]]
    assert_neutron_error(user.delete(f"/v2.0/security-groups/{sg['id']}"), 409, "SecurityGroupInUse")
    user.delete(f"/v2.0/ports/{port['id']}", expect=204)
    user.delete(f"/v2.0/security-groups/{sg['id']}", expect=204)
    assert_neutron_error(user.get(f"/v2.0/security-group-rules/{r1['id']}"), 404,
                         "SecurityGroupRuleNotFound")


def test_quotas(server):
    admin = admin_net(server)
    user, project = project_user(server)
    q = user.get(f"/v2.0/quotas/{project['id']}", expect=200).json()["quota"]
    assert q == {"network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
                 "security_group": 10, "security_group_rule": 100}
    assert_neutron_error(user.put(f"/v2.0/quotas/{project['id']}", json={"quota": {"network": 1}}), 403)
    admin.put(f"/v2.0/quotas/{project['id']}", json={"quota": {"network": 1}}, expect=200)
    user.network()
    assert_neutron_error(user.network(expect=409), 409, "OverQuota")
    d = user.get(f"/v2.0/quotas/{project['id']}/details.json", expect=200).json()["quota"]
    assert d["network"] == {"limit": 1, "used": 1, "reserved": 0}
    admin.delete(f"/v2.0/quotas/{project['id']}", expect=204)
    user.network()


def test_state_survives_restart(server):
    admin = admin_net(server)
    n = admin.network(name="durable")
    admin.subnet(n["id"], "10.40.0.0/24")
    p = admin.create("port", network_id=n["id"])
    server.restart()
    admin = admin_net(server)
    got = admin.get(f"/v2.0/ports/{p['id']}", expect=200).json()["port"]
    assert got["fixed_ips"] == p["fixed_ips"]
    p2 = admin.create("port", network_id=n["id"])
    assert p2["fixed_ips"][0]["ip_address"] != p["fixed_ips"][0]["ip_address"]


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_classic_port(tmp_path):
    ports = {k: _free_port() for k in ("identity", "network", "image", "block_storage")}
    cfg = tmp_path / "ferrostack.toml"
    cfg.write_text("[ports]\n" + "".join(f"{k} = {v}\n" for k, v in ports.items()))
    srv = ferro.Server(tmp_path / "data", extra_args=["--classic-ports", "--config", str(cfg)])
    srv.start()
    try:
        base = f"http://127.0.0.1:{ports['network']}"
        r = requests.get(base + "/", timeout=10)
        assert r.json()["versions"][0]["links"][0]["href"] == base + "/v2.0/"
        net = Net(srv, srv.admin_token(), base=base)
        n = net.network(name=uniq("classic"))
        net.network(name=uniq("classic"))
        body = net.get("/v2.0/networks", params={"limit": 1}, expect=200).json()
        assert body["networks_links"][0]["href"].startswith(base + "/v2.0/networks?")
        got = Net(srv, srv.admin_token()).get(f"/v2.0/networks/{n['id']}", expect=200)
        assert got.json()["network"]["name"] == n["name"]
    finally:
        srv.stop()
