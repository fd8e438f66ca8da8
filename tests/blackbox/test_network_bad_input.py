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
NE = "nonempty"    # a string that may not be blank (subnet pool names)
NN = "nonneg"      # an integer >= 0; a string of one converts, null does not
NID = "uuid_or_null"
CIDRS = "cidrs"    # a list of unique IP subnets, a.b.c.d/n as written by Neutron
PX = "prefix_op"   # the list in an add_prefixes / remove_prefixes body
IPV = "ip_version"
RO = "readonly"    # the attribute may not be written by this request at all
TAGS = "tags"
POOL_PREFIX = "10.9.0.0/16"
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
    NE: [123, [], {}, None, "x" * 300, "", "   "],
    NN: ["abc", [], {}, None, -1],
    NID: ["not-a-uuid", 5, [], UNKNOWN],
    # The pool's own prefix duplicated or spelled unusually would be a no-op
    # update if it were accepted.
    CIDRS: [POOL_PREFIX, 5, None, [], {}, [5], ["bogus"], ["10.9.0.0"],
            [POOL_PREFIX, POOL_PREFIX], ["10.9.0.0/33"], ["10.9.0.0/016"]],
    PX: [POOL_PREFIX, 5, None, [], {}, [5], ["bogus"], ["10.9.0.0/33"]],
    IPV: ["abc", None, 5, [], {}],
    RO: [True, 4, "x"],
    TAGS: ["str", 5, None, [1], {}, ["x" * 300], ["a", "a"]],
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
    ("PUT", "/v2.0/networks/{network}/tags", None, {"tags": TAGS}, lambda s: {"tags": ["a"]}),
    ("PUT", "/v2.0/subnetpools/{pool}/tags", None, {"tags": TAGS}, lambda s: {"tags": ["a"]}),
    ("PUT", "/v2.0/floatingips/{fip}/tags", None, {"tags": TAGS}, lambda s: {"tags": ["a"]}),
    ("POST", "/v2.0/subnetpools", "subnetpool",
     {"name": NE, "description": S, "prefixes": CIDRS, "default_prefixlen": NN,
      "min_prefixlen": NN, "max_prefixlen": NN, "default_quota": NN, "shared": B,
      "is_default": B, "address_scope_id": NID, "project_id": S, "tags": TAGS, "ip_version": RO},
     lambda s: {"name": "p", "prefixes": ["10.10.0.0/16"]}),
    ("PUT", "/v2.0/subnetpools/{pool}", "subnetpool",
     {"name": NE, "description": S, "prefixes": CIDRS, "default_prefixlen": NN,
      "min_prefixlen": NN, "max_prefixlen": NN, "default_quota": NN, "is_default": B,
      "address_scope_id": NID, "shared": RO, "ip_version": RO, "tenant_id": RO},
     lambda s: {"name": "p"}),
    ("PUT", "/v2.0/subnetpools/{pool}/add_prefixes", None, {"prefixes": PX},
     lambda s: {"prefixes": ["10.11.0.0/16"]}),
    ("PUT", "/v2.0/subnetpools/{pool}/remove_prefixes", None, {"prefixes": PX},
     lambda s: {"prefixes": [POOL_PREFIX]}),
    ("POST", "/v2.0/address-scopes", "address_scope",
     {"name": S, "ip_version": IPV, "shared": B, "project_id": S},
     lambda s: {"name": "s", "ip_version": 4}),
    ("PUT", "/v2.0/address-scopes/{scope}", "address_scope",
     {"name": S, "shared": B, "ip_version": RO, "tenant_id": RO}, lambda s: {"name": "s"}),
]

WRAPPERS = {"networks": "network", "subnets": "subnet", "ports": "port", "routers": "router",
            "security-groups": "security_group", "floatingips": "floatingip",
            "security-group-rules": "security_group_rule", "subnetpools": "subnetpool",
            "address-scopes": "address_scope"}
ITEMS = ["networks/{network}", "subnets/{subnet}", "ports/{port}", "routers/{router}",
         "security-groups/{sg}", "floatingips/{fip}", "security-group-rules/{rule}",
         "subnetpools/{pool}", "address-scopes/{scope}"]
BAD_IDS = [UNKNOWN, "not-a-uuid", "x" * 300, "%00", "..%2F"]


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
        scope = net.create("address_scope", name="bad-scope", ip_version=4)
        pool = net.create("subnetpool", name="bad-pool", prefixes=[POOL_PREFIX],
                          address_scope_id=scope["id"])
        project = net.get("/v2.0/networks/" + n["id"], expect=200).json()["network"]["project_id"]
        yield {"srv": srv, "net": net, "network": n["id"], "subnet": sub["id"], "port": port["id"],
               "router": router["id"], "sg": sg["id"], "rule": rule["id"], "fip": fip["id"],
               "ext": ext["id"], "project": project, "pool": pool["id"], "scope": scope["id"]}
    finally:
        srv.stop()
        if drop:
            drop()


def _fill(path, st):
    for k in ("network", "subnet", "port", "router", "sg", "rule", "fip", "project", "pool",
              "scope"):
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
@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_unknown_ids(state, item, method, bad_id):
    coll = item.split("/")[0]
    kw = {"json": {WRAPPERS[coll]: {"name": "x"}}} if method == "PUT" else {}
    r = state["net"].request(method, f"/v2.0/{coll}/{bad_id}", **kw)
    _check(r)
    assert r.status_code in (400, 404), r.text


@pytest.mark.parametrize("query", [
    "limit=abc", "limit=-3", "sort_dir=sideways&sort_key=name", "sort_key=no_such",
    "marker=" + UNKNOWN + "&limit=1", "fields=", "name=%00", "sort_key=name&sort_key=id&sort_dir=asc&sort_dir=desc&sort_dir=asc",
])
@pytest.mark.parametrize("coll", list(WRAPPERS))
def test_list_queries(state, coll, query):
    r = state["net"].get(f"/v2.0/{coll}?{query}")
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert_neutron_error(r, r.status_code)


@pytest.mark.parametrize("token", [None, "garbage", "x" * 5000])
@pytest.mark.parametrize("path", ["/v2.0/networks", "/v2.0/ports", "/v2.0/extensions",
                                  "/v2.0/quotas/{project}", "/v2.0/subnetpools",
                                  "/v2.0/address-scopes/{scope}",
                                  "/v2.0/auto-allocated-topology/{project}"])
def test_bad_tokens(state, token, path):
    headers = {"X-Auth-Token": token} if token else {}
    r = requests.get(state["net"].base + _fill(path, state), headers=headers, timeout=10)
    assert_neutron_error(r, 401)


@pytest.mark.parametrize("method,path", [
    ("PATCH", "/v2.0/networks"), ("DELETE", "/v2.0/networks"), ("POST", "/v2.0/networks/{network}"),
    ("GET", "/v2.0/routers/{router}/add_router_interface"), ("GET", "/v2.0/bogus"),
    ("POST", "/v2.0/quotas/{project}"), ("PUT", "/v2.0/security-group-rules/{rule}"),
    ("POST", "/v2.0/subnetpools/{pool}"), ("DELETE", "/v2.0/address-scopes"),
    ("GET", "/v2.0/subnetpools/{pool}/add_prefixes"),
    ("POST", "/v2.0/subnetpools/{pool}/remove_prefixes"),
    ("POST", "/v2.0/auto-allocated-topology/{project}"),
    ("PUT", "/v2.0/auto-allocated-topology/{project}"),
    ("PUT", "/v2.0/quotas/{project}/details"), ("POST", "/v2.0/quotas/{project}/default"),
    ("PUT", "/v2.0/extensions"), ("DELETE", "/v2.0/extensions/subnet_allocation"),
])
def test_wrong_methods(state, method, path):
    r = state["net"].request(method, _fill(path, state), json={})
    _check(r)


@pytest.mark.parametrize("method,path,body", [
    ("PUT", "subnetpools/{id}/add_prefixes", {"prefixes": ["10.77.0.0/16"]}),
    ("PUT", "subnetpools/{id}/remove_prefixes", {"prefixes": ["10.77.0.0/16"]}),
    ("PUT", "routers/{id}/add_router_interface", {"subnet_id": UNKNOWN}),
    ("PUT", "routers/{id}/remove_router_interface", {"subnet_id": UNKNOWN}),
    ("GET", "networks/{id}/tags", None), ("PUT", "subnetpools/{id}/tags", {"tags": ["a"]}),
    ("DELETE", "ports/{id}/tags", None), ("PUT", "routers/{id}/tags/red", None),
    ("GET", "subnetpools/{id}/tags/red", None), ("DELETE", "security-groups/{id}/tags/red", None),
    ("GET", "extensions/{id}", None),
])
@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_unknown_parent_ids(state, method, path, body, bad_id):
    r = state["net"].request(method, "/v2.0/" + path.replace("{id}", bad_id), json=body)
    _check(r)
    assert r.status_code in (400, 404), r.text


@pytest.mark.parametrize("project", ["x" * 300, "%00"])
def test_quota_bad_project_ids(state, project):
    r = state["net"].put("/v2.0/quotas/" + project, json={"quota": {"network": 5}})
    assert_neutron_error(r, 400)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("item", ["address-scopes/{scope}", "security-group-rules/{rule}"])
def test_untaggable_resources(state, method, item):
    """Neither address scopes nor security group rules carry tags in Neutron."""
    for sub in ("/tags", "/tags/red"):
        kw = {"json": {"tags": ["a"]}} if method == "PUT" and sub == "/tags" else {}
        r = state["net"].request(method, "/v2.0/" + _fill(item, state) + sub, **kw)
        assert_neutron_error(r, 404)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("tag", ["x" * 300, "%20" * 256])
def test_bad_tag_in_path(state, method, tag):
    r = state["net"].request(method, _fill("/v2.0/networks/{network}/tags/", state) + tag)
    assert_neutron_error(r, 400)


@pytest.mark.parametrize("path,body", [
    ("subnetpools", {"prefixes": ["10.12.0.0/16"]}),
    ("subnetpools", {"name": "p"}),
    ("address-scopes", {"name": "s"}),
    ("subnets", {"cidr": "10.13.0.0/24", "ip_version": 4}),
    ("ports", {"name": "p"}),
    ("security-group-rules", {"direction": "ingress"}),
    ("floatingips", {"description": "f"}),
])
def test_required_attributes(state, path, body):
    r = state["net"].post("/v2.0/" + path, json={WRAPPERS[path]: body})
    err = assert_neutron_error(r, 400)
    assert "Required attribute" in err["message"] or "must be specified" in err["message"], err


@pytest.mark.parametrize("query", ["fields=bogus", "fields=dry-run&fields=bogus"])
@pytest.mark.parametrize("project", ["{project}", "x" * 300])
def test_auto_allocated_topology_bad_input(state, project, query):
    for method in ("GET", "DELETE"):
        url = _fill("/v2.0/auto-allocated-topology/" + project, state)
        r = state["net"].request(method, url + ("?" + query if method == "GET" else ""))
        _check(r)
    assert state["srv"].proc.poll() is None
