"""Bad-input sweep over the Network API.

Every case must be answered with a 4xx carrying Neutron's error document
({"NeutronError": {"type", "message", "detail"}}), never a 5xx, and the
server must stay healthy. One server per backend serves the whole module;
the sweep only sends requests that must be refused, so state does not drift.
"""

import pytest
import requests

import ferro
from nethelp import Net, assert_neutron_error, external_network

UNKNOWN = "f" * 8 + "-0000-4000-8000-" + "0" * 12
BIG = 2 * 1024 * 1024

S, N, B, I, L, D, ID, OL, P = "str", "nstr", "bool", "int", "list", "dict", "id", "objlist", "proto"
BAD = {
    S: [123, [], {}, None, "x" * 300],
    N: [123, [], {}, "x" * 300],          # null is a valid value
    P: [[], {}, "bogus", 999, -1],
    B: ["maybe", 3, []],
    I: ["abc", 1.5, [], {}],
    L: ["str", 5, [1], {}],
    D: ["str", 5, [1]],
    ID: ["not-a-uuid", 5, [], UNKNOWN],
    OL: ["str", 5, [1], [{"bogus": 1}]],
}

# (method, path, wrapper, {field: kind}, valid body builder)
ROUTES = [
    ("POST", "/v2.0/networks", "network",
     {"name": S, "admin_state_up": B, "mtu": I, "shared": B, "provider:network_type": S},
     lambda s: {"name": "n"}),
    ("PUT", "/v2.0/networks/{network}", "network",
     {"name": S, "admin_state_up": B, "mtu": I, "port_security_enabled": B}, lambda s: {"name": "n"}),
    ("POST", "/v2.0/subnets", "subnet",
     {"network_id": ID, "cidr": S, "ip_version": I, "gateway_ip": N, "allocation_pools": OL,
      "dns_nameservers": L, "host_routes": OL, "enable_dhcp": B, "ipv6_ra_mode": N},
     lambda s: {"network_id": s["network"], "cidr": "10.66.0.0/24", "ip_version": 4}),
    ("PUT", "/v2.0/subnets/{subnet}", "subnet",
     {"name": S, "gateway_ip": N, "allocation_pools": OL, "dns_nameservers": L, "host_routes": OL,
      "enable_dhcp": B}, lambda s: {"name": "x"}),
    ("POST", "/v2.0/ports", "port",
     {"network_id": ID, "fixed_ips": OL, "mac_address": S, "security_groups": L,
      "allowed_address_pairs": OL, "binding:vnic_type": S, "admin_state_up": B,
      "extra_dhcp_opts": OL},
     lambda s: {"network_id": s["network"]}),
    ("PUT", "/v2.0/ports/{port}", "port",
     {"fixed_ips": OL, "mac_address": S, "security_groups": L, "allowed_address_pairs": OL,
      "device_id": N, "port_security_enabled": B}, lambda s: {"name": "x"}),
    ("POST", "/v2.0/routers", "router",
     {"name": S, "external_gateway_info": D, "admin_state_up": B}, lambda s: {"name": "r"}),
    ("PUT", "/v2.0/routers/{router}", "router",
     {"name": S, "external_gateway_info": D, "routes": OL}, lambda s: {"name": "r"}),
    ("PUT", "/v2.0/routers/{router}/add_router_interface", None,
     {"subnet_id": ID, "port_id": ID}, lambda s: {"subnet_id": s["subnet"]}),
    ("PUT", "/v2.0/routers/{router}/remove_router_interface", None,
     {"subnet_id": ID, "port_id": ID}, lambda s: {"subnet_id": s["subnet"]}),
    ("POST", "/v2.0/security-groups", "security_group",
     {"name": S, "description": S, "stateful": B}, lambda s: {"name": "g"}),
    ("PUT", "/v2.0/security-groups/{sg}", "security_group",
     {"name": S, "description": S}, lambda s: {"name": "g"}),
    ("POST", "/v2.0/security-group-rules", "security_group_rule",
     {"security_group_id": ID, "direction": S, "ethertype": S, "protocol": P,
      "port_range_min": I, "port_range_max": I, "remote_ip_prefix": N},
     lambda s: {"security_group_id": s["sg"], "direction": "ingress"}),
    ("POST", "/v2.0/floatingips", "floatingip",
     {"floating_network_id": ID, "port_id": ID, "subnet_id": ID},
     lambda s: {"floating_network_id": s["ext"]}),
    ("PUT", "/v2.0/floatingips/{fip}", "floatingip",
     {"port_id": ID, "fixed_ip_address": N, "description": S}, lambda s: {"description": "d"}),
    ("PUT", "/v2.0/quotas/{project}", "quota", {"network": I, "port": I, "bogus": I},
     lambda s: {"network": 100}),
    ("PUT", "/v2.0/networks/{network}/tags", None, {"tags": L}, lambda s: {"tags": ["a"]}),
]

ITEMS = ["networks/{network}", "subnets/{subnet}", "ports/{port}", "routers/{router}",
         "security-groups/{sg}", "floatingips/{fip}", "security-group-rules/{rule}"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def state(request, tmp_path_factory):
    drop = url = None
    if request.param == "postgres":
        if not ferro.POSTGRES_URL:
            pytest.skip("FERROSTACK_TEST_POSTGRES_URL is not set")
        url, drop = ferro.fresh_postgres_database()
    srv = ferro.Server(tmp_path_factory.mktemp("netbad") / "data", database_url=url)
    srv.start()
    try:
        net = Net(srv, srv.admin_token())
        ext, _ = external_network(net)
        n = net.network(name="bad-net")
        sub = net.subnet(n["id"], "10.55.0.0/24")
        port = net.create("port", network_id=n["id"])
        router = net.create("router", name="bad-r")
        sg = net.create("security_group", name="bad-sg")
        rule = net.create("security_group_rule", security_group_id=sg["id"], direction="egress",
                          protocol="tcp")
        fip = net.create("floatingip", floating_network_id=ext["id"])
        project = net.get("/v2.0/networks/" + n["id"], expect=200).json()["network"]["project_id"]
        yield {"srv": srv, "net": net, "network": n["id"], "subnet": sub["id"], "port": port["id"],
               "router": router["id"], "sg": sg["id"], "rule": rule["id"], "fip": fip["id"],
               "ext": ext["id"], "project": project}
    finally:
        srv.stop()
        if drop:
            drop()


def _fill(path, st):
    for k in ("network", "subnet", "port", "router", "sg", "rule", "fip", "project"):
        path = path.replace("{" + k + "}", st[k])
    return path


def _check(r):
    assert r.status_code < 500, r.text
    assert 400 <= r.status_code < 500, f"{r.status_code}: {r.text[:300]}"
    assert_neutron_error(r, r.status_code)


def _cases():
    out = []
    for method, path, wrapper, fields, _ in ROUTES:
        label = f"{method} {path}"
        for raw in ["{", "[]", "null", "\"x\"", "{\"a\": }"]:
            out.append(pytest.param(method, path, wrapper, "raw", raw, id=f"{label} raw {raw}"))
        if wrapper:
            out.append(pytest.param(method, path, wrapper, "nowrap", None, id=f"{label} no wrapper"))
            out.append(pytest.param(method, path, wrapper, "wrap", "str", id=f"{label} wrapper str"))
            out.append(pytest.param(method, path, wrapper, "unknown", None, id=f"{label} unknown attr"))
        for field, kind in fields.items():
            for i, bad in enumerate(BAD[kind]):
                out.append(pytest.param(method, path, wrapper, "field", (field, bad),
                                        id=f"{label} {field} bad{i}"))
        out.append(pytest.param(method, path, wrapper, "big", None, id=f"{label} big"))
    return out


@pytest.mark.parametrize("method,path,wrapper,case,arg", _cases())
def test_bad_body(state, method, path, wrapper, case, arg):
    net = state["net"]
    valid = next(r[4] for r in ROUTES if r[0] == method and r[1] == path)(state)
    url = _fill(path, state)
    headers = {"Content-Type": "application/json"}
    if case == "raw":
        r = net.request(method, url, data=arg, headers=headers)
    elif case == "big":
        r = net.request(method, url, data="{\"a\": \"" + "x" * BIG + "\"}", headers=headers)
    else:
        body = dict(valid)
        if case == "field":
            body[arg[0]] = arg[1]
        if case == "unknown":
            body["no_such_attribute"] = 1
        if case == "nowrap":
            doc = body
        elif case == "wrap":
            doc = {wrapper: arg}
        else:
            doc = {wrapper: body} if wrapper else body
        r = net.request(method, url, json=doc)
    _check(r)
    assert state["srv"].proc.poll() is None


@pytest.mark.parametrize("item", ITEMS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("bad_id", [UNKNOWN, "not-a-uuid", "x" * 300, "%00", "..%2F"])
def test_unknown_ids(state, item, method, bad_id):
    coll = item.split("/")[0]
    wrapper = {"networks": "network", "subnets": "subnet", "ports": "port", "routers": "router",
               "security-groups": "security_group", "floatingips": "floatingip",
               "security-group-rules": "security_group_rule"}[coll]
    kw = {"json": {wrapper: {"description": "x"}}} if method == "PUT" else {}
    r = state["net"].request(method, f"/v2.0/{coll}/{bad_id}", **kw)
    _check(r)
    assert r.status_code in (400, 404), r.text


@pytest.mark.parametrize("query", [
    "limit=abc", "limit=-3", "sort_dir=sideways&sort_key=name", "sort_key=no_such",
    "marker=" + UNKNOWN + "&limit=1", "fields=", "name=%00", "sort_key=name&sort_key=id&sort_dir=asc&sort_dir=desc&sort_dir=asc",
])
@pytest.mark.parametrize("coll", ["networks", "subnets", "ports", "routers", "security-groups",
                                  "floatingips", "security-group-rules"])
def test_list_queries(state, coll, query):
    r = state["net"].get(f"/v2.0/{coll}?{query}")
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert_neutron_error(r, r.status_code)


@pytest.mark.parametrize("token", [None, "garbage", "x" * 5000])
@pytest.mark.parametrize("path", ["/v2.0/networks", "/v2.0/ports", "/v2.0/extensions",
                                  "/v2.0/quotas/{project}"])
def test_bad_tokens(state, token, path):
    headers = {"X-Auth-Token": token} if token else {}
    r = requests.get(state["net"].base + _fill(path, state), headers=headers, timeout=10)
    assert_neutron_error(r, 401)


@pytest.mark.parametrize("method,path", [
    ("PATCH", "/v2.0/networks"), ("DELETE", "/v2.0/networks"), ("POST", "/v2.0/networks/{network}"),
    ("GET", "/v2.0/routers/{router}/add_router_interface"), ("GET", "/v2.0/bogus"),
    ("POST", "/v2.0/quotas/{project}"), ("PUT", "/v2.0/security-group-rules/{rule}"),
])
def test_wrong_methods(state, method, path):
    r = state["net"].request(method, _fill(path, state), json={})
    _check(r)
