"""Cross-project isolation of every network resource type, and the reader role."""

from nethelp import Identity, Net, admin_net, assert_neutron_error, external_network, project_user

PATHS = {
    "network": "networks", "subnet": "subnets", "port": "ports", "router": "routers",
    "security_group": "security-groups", "floatingip": "floatingips",
    "security_group_rule": "security-group-rules",
}


def test_projects_are_isolated(server):
    admin = admin_net(server)
    ext, _ = external_network(admin)
    shared = admin.network(name="shared-net", shared=True)
    admin.subnet(shared["id"], "10.77.0.0/24")
    a, project_a = project_user(server)
    b, _ = project_user(server)

    n = a.network(name="a-net")
    sub = a.subnet(n["id"], "10.1.0.0/24")
    port = a.create("port", network_id=n["id"])
    router = a.create("router", name="a-router")
    sg = a.create("security_group", name="a-sg")
    rule = a.create("security_group_rule", security_group_id=sg["id"], direction="ingress",
                    protocol="udp", port_range_min=53, port_range_max=53)
    fip = a.create("floatingip", floating_network_id=ext["id"])
    owned = {"network": n, "subnet": sub, "port": port, "router": router,
             "security_group": sg, "floatingip": fip, "security_group_rule": rule}

    for kind, obj in owned.items():
        path = f"/v2.0/{PATHS[kind]}/{obj['id']}"
        assert_neutron_error(b.get(path), 404)
        assert_neutron_error(b.delete(path), 404)
        if kind != "security_group_rule":
            assert_neutron_error(b.put(path, json={kind: {"description": "x"}}), 404)
        listed = b.get(f"/v2.0/{PATHS[kind]}", expect=200).json()
        assert obj["id"] not in {x["id"] for x in listed[kind + "s"]}, kind
        # the owner still sees it
        a.get(path, expect=200)
        assert_neutron_error(b.put(f"{path}/tags/t1"), 404)

    # B sees the shared and external networks, not A's private one
    names = {x["name"] for x in b.get("/v2.0/networks", expect=200).json()["networks"]}
    assert {"shared-net", ext["name"]} <= names and "a-net" not in names
    # B may use the shared network, not A's
    b.create("port", network_id=shared["id"])
    assert_neutron_error(b.create("port", expect=404, network_id=n["id"]), 404, "NetworkNotFound")
    assert_neutron_error(b.subnet(n["id"], "10.2.0.0/24", expect=404), 404)
    # B cannot attach A's subnet, use A's port or A's security group
    rb = b.create("router", name="b-router")
    assert_neutron_error(b.put(f"/v2.0/routers/{rb['id']}/add_router_interface",
                               json={"subnet_id": sub["id"]}), 404)
    assert_neutron_error(b.put(f"/v2.0/routers/{rb['id']}/add_router_interface",
                               json={"port_id": port["id"]}), 404)
    assert_neutron_error(b.create("security_group_rule", expect=404, security_group_id=sg["id"],
                                  direction="egress"), 404)
    fb = b.create("floatingip", floating_network_id=ext["id"])
    assert_neutron_error(b.put(f"/v2.0/floatingips/{fb['id']}",
                               json={"floatingip": {"port_id": port["id"]}}), 404)
    # B cannot touch a shared network it does not own
    assert_neutron_error(b.put(f"/v2.0/networks/{shared['id']}", json={"network": {"name": "x"}}), 403)
    # nor A's quota
    assert_neutron_error(b.get(f"/v2.0/quotas/{project_a['id']}"), 403)
    # admin sees everything
    assert fip["id"] in {x["id"] for x in admin.get("/v2.0/floatingips", expect=200).json()["floatingips"]}


def test_reader_cannot_write(server):
    ks = Identity(server, server.admin_token())
    member, project = project_user(server)
    n = member.network(name="m-net")
    user = ks.create_user()
    ks.grant_project(project["id"], user["id"], "reader")
    from kshelp import password_auth, project_scope
    tok, _ = ks.issue(password_auth(user["name"], user["_password"], scope=project_scope(project["id"])))
    reader = Net(server, tok)
    assert n["id"] in {x["id"] for x in reader.get("/v2.0/networks", expect=200).json()["networks"]}
    reader.get(f"/v2.0/networks/{n['id']}", expect=200)
    assert_neutron_error(reader.network(expect=403), 403, "PolicyNotAuthorized")
    assert_neutron_error(reader.create("router", expect=403, name="r"), 403)
    assert_neutron_error(reader.put(f"/v2.0/networks/{n['id']}", json={"network": {"name": "x"}}), 403)
    assert_neutron_error(reader.delete(f"/v2.0/networks/{n['id']}"), 403)
    # non-admins may not set admin-only attributes
    assert_neutron_error(member.network(expect=403, shared=True), 403)
    assert_neutron_error(member.network(expect=403, **{"router:external": True}), 403)
    assert "provider:network_type" not in n
