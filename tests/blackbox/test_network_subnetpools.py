"""Subnet pools and address scopes (Neutron's subnet_allocation,
default-subnetpools and address-scope extensions): the `openstack` CLI as
gophercloud and Terraform users drive it, then the rules through the API —
allocation, bounds, overlap, default pools, in-use deletes, visibility."""

from nethelp import admin_net, assert_neutron_error, project_user
from test_identity_cli import Cli


def test_cli_subnet_pool_and_address_scope(server):
    cli = Cli(server)
    scope = cli.json("address", "scope", "create", "--ip-version", "4", "scope1")
    assert scope["ip_version"] == 4 and scope["shared"] is False
    pool = cli.json("subnet", "pool", "create", "--pool-prefix", "10.10.0.0/16",
                    "--default-prefix-length", "24", "--address-scope", "scope1", "pool1")
    assert pool["prefixes"] == ["10.10.0.0/16"] and pool["default_prefixlen"] == 24
    assert pool["min_prefixlen"] == 8 and pool["max_prefixlen"] == 32
    assert pool["address_scope_id"] == scope["id"]
    cli.json("network", "create", "net")
    a = cli.json("subnet", "create", "--network", "net", "--subnet-pool", "pool1", "a")
    b = cli.json("subnet", "create", "--network", "net", "--subnet-pool", "pool1",
                 "--prefix-length", "26", "b")
    assert a["cidr"] == "10.10.0.0/24" and a["subnetpool_id"] == pool["id"]
    assert b["cidr"] == "10.10.1.0/26", b
    assert a["gateway_ip"] == "10.10.0.1"
    busy = cli.run("subnet", "pool", "delete", "pool1", check=False)
    assert busy.returncode != 0
    cli.run("subnet", "pool", "set", "--pool-prefix", "10.20.0.0/16", "pool1")
    shown = cli.json("subnet", "pool", "show", "pool1")
    assert sorted(shown["prefixes"]) == ["10.10.0.0/16", "10.20.0.0/16"]
    cli.run("subnet", "delete", "a", "b")
    cli.run("subnet", "pool", "delete", "pool1")
    cli.run("address", "scope", "delete", "scope1")
    assert cli.json("address", "scope", "list") == []


def test_allocation_rules(server):
    admin = admin_net(server)
    pool = admin.create("subnetpool", name="p", prefixes=["192.168.0.0/24", "192.168.1.0/24"],
                        min_prefixlen=25, is_default=True)
    assert pool["prefixes"] == ["192.168.0.0/23"], "adjacent halves merge"
    assert pool["default_prefixlen"] == 25 and pool["is_default"] is True
    net = admin.network()
    s1 = admin.create("subnet", network_id=net["id"], ip_version=4, use_default_subnetpool=True)
    assert s1["cidr"] == "192.168.0.0/25" and s1["subnetpool_id"] == pool["id"]
    # An explicit CIDR must lie inside the pool and not overlap its subnets.
    s2 = admin.create("subnet", network_id=admin.network()["id"], ip_version=4,
                      subnetpool_id=pool["id"], cidr="192.168.1.0/25")
    assert s2["cidr"] == "192.168.1.0/25"
    for bad in ({"cidr": "10.0.0.0/25"}, {"cidr": "192.168.0.0/26"},
                {"cidr": "192.168.0.0/24"}, {"prefixlen": 24}, {"prefixlen": 33}):
        r = admin.post("/v2.0/subnets", json={"subnet": dict(
            network_id=admin.network()["id"], ip_version=4, subnetpool_id=pool["id"], **bad)})
        assert_neutron_error(r, 400)
    # Two /25s left: 192.168.0.128 and 192.168.1.128; then none.
    got = [admin.create("subnet", network_id=admin.network()["id"], ip_version=4,
                        subnetpool_id=pool["id"])["cidr"] for _ in range(2)]
    assert got == ["192.168.0.128/25", "192.168.1.128/25"]
    r = admin.post("/v2.0/subnets", json={"subnet": dict(
        network_id=admin.network()["id"], ip_version=4, subnetpool_id=pool["id"])})
    assert_neutron_error(r, 409, "SubnetAllocationError")
    # IPv6 subnet from an IPv4 pool; a second default pool; shrinking prefixes.
    r = admin.post("/v2.0/subnets", json={"subnet": dict(
        network_id=net["id"], ip_version=6, subnetpool_id=pool["id"])})
    assert_neutron_error(r, 400)
    r = admin.post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "q", "prefixes": ["172.16.0.0/16"], "is_default": True}})
    assert_neutron_error(r, 400)
    r = admin.put(f"/v2.0/subnetpools/{pool['id']}", json={"subnetpool": {
        "prefixes": ["192.168.0.0/24"]}})
    assert_neutron_error(r, 400, "IllegalSubnetPoolPrefixUpdate")
    r = admin.post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "mixed", "prefixes": ["10.0.0.0/8", "fd00::/8"]}})
    assert_neutron_error(r, 400)
    r = admin.post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "bounds", "prefixes": ["10.0.0.0/8"], "min_prefixlen": 24, "max_prefixlen": 16}})
    assert_neutron_error(r, 400)
    assert_neutron_error(admin.delete(f"/v2.0/subnetpools/{pool['id']}"), 409, "SubnetPoolInUse")
    # Tags work on pools (standard attributes).
    assert admin.put(f"/v2.0/subnetpools/{pool['id']}/tags/red").status_code == 201
    assert admin.get("/v2.0/subnetpools?tags=red", expect=200).json()["subnetpools"][0]["id"] \
        == pool["id"]


def test_visibility_and_scopes(server):
    admin = admin_net(server)
    member, project = project_user(server)
    shared = admin.create("subnetpool", name="shared", prefixes=["10.50.0.0/16"], shared=True)
    private = admin.create("subnetpool", name="private", prefixes=["10.60.0.0/16"])
    seen = {p["id"] for p in member.get("/v2.0/subnetpools", expect=200).json()["subnetpools"]}
    assert shared["id"] in seen and private["id"] not in seen
    assert_neutron_error(member.get(f"/v2.0/subnetpools/{private['id']}"), 404, "SubnetPoolNotFound")
    net = member.network()
    sub = member.create("subnet", network_id=net["id"], ip_version=4, subnetpool_id=shared["id"],
                        prefixlen=28)
    assert sub["cidr"] == "10.50.0.0/28"
    r = member.post("/v2.0/subnets", json={"subnet": dict(
        network_id=net["id"], ip_version=4, subnetpool_id=private["id"])})
    assert_neutron_error(r, 404)
    r = member.post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "x", "prefixes": ["10.70.0.0/16"], "shared": True}})
    assert_neutron_error(r, 403)
    scope6 = admin.create("address_scope", name="s6", ip_version=6, shared=True)
    r = admin.post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "v4-in-v6", "prefixes": ["10.80.0.0/16"], "address_scope_id": scope6["id"]}})
    assert_neutron_error(r, 400)
    p6 = admin.create("subnetpool", name="p6", prefixes=["fd00::/48"],
                      address_scope_id=scope6["id"])
    assert p6["min_prefixlen"] == 64 and p6["default_prefixlen"] == 64
    assert_neutron_error(admin.delete(f"/v2.0/address-scopes/{scope6['id']}"), 409,
                         "AddressScopeInUse")
    r = admin.put(f"/v2.0/address-scopes/{scope6['id']}", json={"address_scope": {"shared": False}})
    assert_neutron_error(r, 400)
    assert member.get(f"/v2.0/address-scopes/{scope6['id']}", expect=200).json()[
        "address_scope"]["ip_version"] == 6


def test_add_and_remove_prefixes(server):
    """Neutron's subnetpool-prefix-ops: add_prefixes grows the pool (merged
    as an update would), remove_prefixes carves ranges out (splitting a
    prefix where needed) unless a subnet was allocated from them."""
    admin = admin_net(server)
    ext = {e["alias"] for e in admin.get("/v2.0/extensions").json()["extensions"]}
    assert "subnetpool-prefix-ops" in ext
    pool = admin.create("subnetpool", name="ops", prefixes=["10.30.0.0/24"], default_prefixlen=26)
    base = f"/v2.0/subnetpools/{pool['id']}"
    r = admin.put(base + "/add_prefixes", json={"prefixes": ["10.30.1.0/24", "10.40.0.0/16"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"prefixes": ["10.30.0.0/23", "10.40.0.0/16"]}
    assert admin.get(base).json()["subnetpool"]["prefixes"] == ["10.30.0.0/23", "10.40.0.0/16"]
    # Neutron refuses an empty list; a prefix already there (or inside one)
    # and a bare address are merged in like any other.
    for op in ("add_prefixes", "remove_prefixes"):
        assert_neutron_error(admin.put(f"{base}/{op}", json={"prefixes": []}), 400)
    r = admin.put(base + "/add_prefixes", json={"prefixes": ["10.30.0.0/23", "10.40.1.0/24"]})
    assert r.json() == {"prefixes": ["10.30.0.0/23", "10.40.0.0/16"]}, r.text
    r = admin.put(base + "/add_prefixes", json={"prefixes": ["10.30.2.0", "10.30.2.1/32"]})
    assert r.json() == {"prefixes": ["10.30.0.0/23", "10.30.2.0/31", "10.40.0.0/16"]}, r.text
    r = admin.put(base + "/remove_prefixes", json={"prefixes": ["10.30.2.0/31"]})
    assert r.json() == {"prefixes": ["10.30.0.0/23", "10.40.0.0/16"]}, r.text
    sub = admin.create("subnet", network_id=admin.network()["id"], ip_version=4,
                       subnetpool_id=pool["id"])
    assert sub["cidr"] == "10.30.0.0/26"
    # carving a /24 out of the /16 leaves the rest of it
    r = admin.put(base + "/remove_prefixes", json={"prefixes": ["10.40.7.0/24"]})
    assert r.status_code == 200, r.text
    left = r.json()["prefixes"]
    assert "10.30.0.0/23" in left and "10.40.7.0/24" not in left and "10.40.0.0/22" in left
    assert "10.40.8.0/21" in left and "10.40.128.0/17" in left and len(left) == 9, left
    # ranges outside the pool: nothing changes
    same = admin.put(base + "/remove_prefixes", json={"prefixes": ["172.16.0.0/12"]}).json()
    assert same["prefixes"] == left
    # the range a subnet came from cannot go
    r = admin.put(base + "/remove_prefixes", json={"prefixes": ["10.30.0.0/24"]})
    assert_neutron_error(r, 400, "IllegalSubnetPoolPrefixUpdate")
    for bad in ({}, {"prefixes": "10.0.0.0/8"}, {"prefixes": ["nope"]}, {"prefixes": [5]},
                {"prefixes": ["10.0.0.0/8"], "x": 1}):
        for op in ("add_prefixes", "remove_prefixes"):
            assert_neutron_error(admin.put(f"{base}/{op}", json=bad), 400)
    r = admin.put(base + "/add_prefixes", json={"prefixes": ["fd00::/64"]})
    assert_neutron_error(r, 400, "PrefixVersionMismatch")
    missing = "/v2.0/subnetpools/6b8f2d1e-0000-4000-8000-00000000dead/add_prefixes"
    assert_neutron_error(admin.put(missing, json={"prefixes": ["10.0.0.0/8"]}), 404)
    # another project's member cannot change the admin's pool
    user, _ = project_user(server)
    assert user.put(base + "/add_prefixes", json={"prefixes": ["10.50.0.0/16"]}).status_code == 404


def test_attribute_forms(server):
    """What Neutron's validators let through: an address scope without a
    name, pool prefixes with host bits set, integers written as strings;
    and what they do not: a pool without a name, null prefix lengths."""
    admin = admin_net(server)
    scope = admin.create("address_scope", ip_version="4")
    assert scope["name"] == "" and scope["ip_version"] == 4
    pool = admin.create("subnetpool", name="forms", prefixes=["10.91.0.1/16"],
                        min_prefixlen="16", default_quota="5", address_scope_id=scope["id"])
    assert pool["prefixes"] == ["10.91.0.0/16"], pool
    assert pool["min_prefixlen"] == 16 and pool["default_quota"] == 5
    base = f"/v2.0/subnetpools/{pool['id']}"
    for body in ({"default_quota": None}, {"min_prefixlen": None}, {"name": " "},
                 {"prefixes": ["10.91.0.0/16", "10.91.0.0/16"]}, {"prefixes": None}):
        assert_neutron_error(admin.put(base, json={"subnetpool": body}), 400)
    r = admin.post("/v2.0/subnetpools", json={"subnetpool": {"prefixes": ["10.92.0.0/16"]}})
    assert "name" in assert_neutron_error(r, 400)["message"]
    shown = admin.get(base, expect=200).json()["subnetpool"]
    assert shown["default_quota"] == 5 and shown["name"] == "forms"
    admin.delete(base, expect=204)
    admin.delete(f"/v2.0/address-scopes/{scope['id']}", expect=204)
