"""Neutron's auto-allocated topology ("get me a network") and the `is_default`
attribute of external networks it relies on."""

import ipaddress
import threading

import pytest

import ferro
from nethelp import Identity, Net, admin_net, assert_neutron_error, external_network, project_user

TOPO = "/v2.0/auto-allocated-topology"
NO_DEFAULT = "Deployment error: No default router:external network."


def default_external(admin, cidr="172.24.4.0/24"):
    net = admin.network(**{"router:external": True, "is_default": True})
    sub = admin.subnet(net["id"], cidr, enable_dhcp=False)
    return net, sub


def reader_of(server, project):
    from kshelp import password_auth, project_scope
    ks = Identity(server, server.admin_token())
    user = ks.create_user()
    ks.grant_project(project["id"], user["id"], "reader")
    tok, _ = ks.issue(password_auth(user["name"], user["_password"],
                                    scope=project_scope(project["id"])))
    return Net(server, tok)


def test_is_default_attribute(server):
    admin = admin_net(server)
    ext, _ = external_network(admin)
    assert ext["is_default"] is False
    internal = admin.network()
    assert "is_default" not in internal
    assert "is_default" not in admin.network(is_default=True)  # ignored on internal networks
    default, _ = default_external(admin, "172.24.5.0/24")
    assert default["is_default"] is True
    shown = admin.get(f"/v2.0/networks/{default['id']}", expect=200).json()["network"]
    assert shown["is_default"] is True
    listed = admin.get("/v2.0/networks?is_default=true&router:external=true",
                       expect=200).json()["networks"]
    assert [n["id"] for n in listed] == [default["id"]]

    # only one default external network at a time
    err = assert_neutron_error(admin.create("network", expect=409, is_default=True,
                                            **{"router:external": True}),
                               409, "DefaultExternalNetworkExists")
    assert err["message"] == f"A default external network already exists: {default['id']}."
    r = admin.put(f"/v2.0/networks/{ext['id']}", json={"network": {"is_default": True}})
    assert_neutron_error(r, 409, "DefaultExternalNetworkExists")
    # re-asserting the current default is fine
    admin.put(f"/v2.0/networks/{default['id']}", json={"network": {"is_default": True}},
              expect=200)
    assert_neutron_error(admin.put(f"/v2.0/networks/{ext['id']}",
                                   json={"network": {"is_default": "maybe"}}), 400)

    # admin only (create: only when it differs from the default false)
    member, _ = project_user(server)
    assert_neutron_error(member.network(is_default=True, expect=403), 403, "PolicyNotAuthorized")
    own = member.network(is_default=False)
    assert "is_default" not in own
    assert_neutron_error(member.put(f"/v2.0/networks/{own['id']}",
                                    json={"network": {"is_default": False}}), 403)
    seen = member.get(f"/v2.0/networks/{default['id']}", expect=200).json()["network"]
    assert seen["is_default"] is True

    # leaving the external world drops the attribute; then another may be default
    admin.put(f"/v2.0/networks/{default['id']}",
              json={"network": {"router:external": False}}, expect=200)
    gone = admin.get(f"/v2.0/networks/{default['id']}", expect=200).json()["network"]
    assert "is_default" not in gone
    moved = admin.put(f"/v2.0/networks/{ext['id']}", json={"network": {"is_default": True}},
                      expect=200).json()["network"]
    assert moved["is_default"] is True


def test_no_default_external_network(server):
    admin = admin_net(server)
    external_network(admin)  # external, but not the default
    member, project = project_user(server)
    for path in (f"{TOPO}/{project['id']}", f"{TOPO}/{project['id']}?fields=dry-run"):
        err = assert_neutron_error(member.get(path), 409, "AutoAllocationFailure")
        assert err["message"] == NO_DEFAULT
    err = assert_neutron_error(member.delete(f"{TOPO}/{project['id']}"), 409,
                               "AutoAllocationFailure")
    assert err["message"] == NO_DEFAULT
    assert member.get("/v2.0/networks?shared=false&router:external=false",
                      expect=200).json()["networks"] == []
    assert member.get("/v2.0/routers", expect=200).json()["routers"] == []


def topology(net, project_id):
    body = net.get(f"{TOPO}/{project_id}", expect=200).json()
    assert set(body) == {"auto_allocated_topology"}
    return body["auto_allocated_topology"]


def test_topology_lifecycle(server):
    admin = admin_net(server)
    ext, ext_sub = default_external(admin)
    a, pa = project_user(server)
    b, pb = project_user(server)
    # a subnet of A's own makes the auto-allocated cidr move on
    mine = a.network(name="mine")
    a.subnet(mine["id"], "10.0.0.0/24")

    # dry-run: requirements only, nothing made
    dry = topology(a, f"{pa['id']}?fields=dry-run")
    assert dry == {"id": "dry-run=pass", "tenant_id": pa["id"], "project_id": pa["id"]}
    assert a.get("/v2.0/routers", expect=200).json()["routers"] == []
    assert_neutron_error(a.get(f"{TOPO}/{pa['id']}?fields=id"), 400, "BadRequest")

    topo = topology(a, pa["id"])
    assert topo == {"id": topo["id"], "tenant_id": pa["id"], "project_id": pa["id"]}
    net = a.get(f"/v2.0/networks/{topo['id']}", expect=200).json()["network"]
    assert net["name"] == "auto_allocated_network"
    assert net["admin_state_up"] is True and net["shared"] is False
    assert net["router:external"] is False and "is_default" not in net
    assert net["project_id"] == pa["id"] and len(net["subnets"]) == 1
    sub = a.get(f"/v2.0/subnets/{net['subnets'][0]}", expect=200).json()["subnet"]
    assert sub["name"] == "auto_allocated_subnet_v4" and sub["ip_version"] == 4
    assert sub["cidr"] == "10.0.1.0/24" and sub["gateway_ip"] == "10.0.1.1"
    routers = a.get("/v2.0/routers", expect=200).json()["routers"]
    assert len(routers) == 1
    router = routers[0]
    assert router["name"] == "auto_allocated_router" and router["project_id"] == pa["id"]
    gw = router["external_gateway_info"]
    assert gw["network_id"] == ext["id"] and gw["enable_snat"] is True
    gw_ip = gw["external_fixed_ips"][0]
    assert gw_ip["subnet_id"] == ext_sub["id"]
    assert ipaddress.ip_address(gw_ip["ip_address"]) in ipaddress.ip_network(ext_sub["cidr"])
    ports = a.get(f"/v2.0/ports?device_id={router['id']}", expect=200).json()["ports"]
    assert [(p["device_owner"], p["fixed_ips"][0]["ip_address"]) for p in ports] == [
        ("network:router_interface", "10.0.1.1")]

    # later calls (also as "None", also by the admin) return the same network
    assert topology(a, pa["id"])["id"] == topo["id"]
    assert topology(a, "None")["id"] == topo["id"]
    assert topology(admin, pa["id"])["id"] == topo["id"]
    assert len(a.get("/v2.0/networks?name=auto_allocated_network",
                     expect=200).json()["networks"]) == 1

    # another project gets its own; neither may ask about the other's
    other = topology(b, pb["id"])
    assert other["id"] != topo["id"]
    b_sub = b.get(f"/v2.0/subnets?network_id={other['id']}", expect=200).json()["subnets"]
    assert b_sub[0]["cidr"] == "10.0.0.0/24"
    err = assert_neutron_error(a.get(f"{TOPO}/{pb['id']}"), 403, "NotAuthorized")
    assert err["message"] == "Not authorized."
    assert_neutron_error(a.delete(f"{TOPO}/{pb['id']}"), 403, "NotAuthorized")
    assert_neutron_error(b.get(f"/v2.0/networks/{topo['id']}"), 404)

    # a port in use keeps the whole topology (409, nothing removed)
    port = a.create("port", network_id=topo["id"], device_id="vm-1", device_owner="compute:nova")
    err = assert_neutron_error(a.delete(f"{TOPO}/{pa['id']}"), 409, "NetworkInUse")
    assert topo["id"] in err["message"]
    a.get(f"/v2.0/routers/{router['id']}", expect=200)
    assert len(a.get(f"/v2.0/ports?device_id={router['id']}", expect=200).json()["ports"]) == 1
    assert topology(a, pa["id"])["id"] == topo["id"]
    a.delete(f"/v2.0/ports/{port['id']}", expect=204)

    # DELETE removes interface, gateway, router, subnet and network
    r = a.delete(f"{TOPO}/{pa['id']}", expect=204)
    assert r.content == b""
    a.get(f"/v2.0/networks/{topo['id']}", expect=404)
    a.get(f"/v2.0/subnets/{sub['id']}", expect=404)
    a.get(f"/v2.0/routers/{router['id']}", expect=404)
    assert admin.get(f"/v2.0/ports?device_id={router['id']}",
                     expect=200).json()["ports"] == []
    # deleting again: nothing to do
    a.delete(f"{TOPO}/{pa['id']}", expect=204)
    # B's topology is untouched; the admin may delete it
    b.get(f"/v2.0/networks/{other['id']}", expect=200)
    admin.delete(f"{TOPO}/{pb['id']}", expect=204)
    b.get(f"/v2.0/networks/{other['id']}", expect=404)

    # asking again builds a new one
    again = topology(a, pa["id"])
    assert again["id"] != topo["id"]
    a.get(f"/v2.0/networks/{again['id']}", expect=200)


def test_manual_teardown_and_policy(server):
    admin = admin_net(server)
    default_external(admin)
    member, project = project_user(server)
    reader = reader_of(server, project)
    # a reader may get (so make) the topology, as Neutron's default policy allows
    topo = topology(reader, project["id"])
    assert topology(member, project["id"])["id"] == topo["id"]
    assert_neutron_error(reader.delete(f"{TOPO}/{project['id']}"), 403, "PolicyNotAuthorized")

    # taken apart by hand (as tempest's cleanup does): the next GET starts afresh
    router = member.get("/v2.0/routers", expect=200).json()["routers"][0]
    net = member.get(f"/v2.0/networks/{topo['id']}", expect=200).json()["network"]
    member.put(f"/v2.0/routers/{router['id']}/remove_router_interface",
               json={"subnet_id": net["subnets"][0]}, expect=200)
    member.delete(f"/v2.0/routers/{router['id']}", expect=204)
    member.delete(f"/v2.0/networks/{topo['id']}", expect=204)
    fresh = topology(member, project["id"])
    assert fresh["id"] != topo["id"]
    # a router deleted by hand: DELETE still removes the rest
    router = member.get("/v2.0/routers", expect=200).json()["routers"][0]
    net = member.get(f"/v2.0/networks/{fresh['id']}", expect=200).json()["network"]
    member.put(f"/v2.0/routers/{router['id']}/remove_router_interface",
               json={"subnet_id": net["subnets"][0]}, expect=200)
    member.delete(f"/v2.0/routers/{router['id']}", expect=204)
    member.delete(f"{TOPO}/{project['id']}", expect=204)
    member.get(f"/v2.0/networks/{fresh['id']}", expect=404)

    # bad input: an over-long project id (admin), unauthenticated
    assert_neutron_error(admin.get(f"{TOPO}/{'p' * 300}"), 400)
    assert_neutron_error(Net(server, None).get(f"{TOPO}/{project['id']}"), 401)
    assert_neutron_error(member.post(f"{TOPO}/{project['id']}", json={}), 405)

    # the extension is listed
    ext = member.get("/v2.0/extensions/auto-allocated-topology", expect=200).json()["extension"]
    assert ext["name"] == "Auto Allocated Topology Services"


def test_external_network_without_subnet(server):
    admin = admin_net(server)
    admin.network(**{"router:external": True, "is_default": True})
    member, project = project_user(server)
    err = assert_neutron_error(member.get(f"{TOPO}/{project['id']}"), 409,
                               "AutoAllocationFailure")
    assert err["message"] == "Deployment error: Unable to provide external connectivity."
    # nothing is left behind
    assert member.get("/v2.0/routers", expect=200).json()["routers"] == []
    assert member.get("/v2.0/networks?router:external=false",
                      expect=200).json()["networks"] == []


def test_cli_auto_allocated_topology(server):
    from test_identity_cli import Cli
    cli = Cli(server)
    r = cli.run("network", "auto", "allocated", "topology", "create", "--check-resources",
                check=False)
    assert r.returncode != 0 and "No default router:external network" in r.stderr, r.stderr
    ext = cli.json("network", "create", "--external", "--default", "public")
    assert ext["is_default"] is True
    cli.json("subnet", "create", "--subnet-range", "172.24.4.0/24", "--network", "public",
             "--no-dhcp", "public-subnet")
    # the client shows a `dry_run` column it never fills: success is the exit code
    check = cli.json("network", "auto", "allocated", "topology", "create", "--check-resources")
    assert check == {"dry_run": None}
    topo = cli.json("network", "auto", "allocated", "topology", "create")
    net = cli.json("network", "show", topo["id"])
    assert net["name"] == "auto_allocated_network"
    again = cli.json("network", "auto", "allocated", "topology", "create", "--or-show")
    assert again["id"] == topo["id"]
    cli.run("network", "auto", "allocated", "topology", "delete")
    assert cli.run("network", "show", topo["id"], check=False).returncode != 0


@pytest.mark.skipif(not ferro.POSTGRES_URL, reason="FERROSTACK_TEST_POSTGRES_URL is not set")
def test_two_nodes_build_one_topology(tmp_path):
    """Concurrent first requests on two processes sharing one database make
    one topology (the build is one write, serialised across processes)."""
    url, drop = ferro.fresh_postgres_database()
    a = ferro.Server(tmp_path / "node-a", database_url=url)
    b = ferro.Server(tmp_path / "node-b", database_url=url, admin_password=a.admin_password)
    try:
        a.start()
        b.start()
        na, nb = Net(a, a.admin_token()), Net(b, b.admin_token())
        default_external(na)
        ids, errors = [], []

        def ask(net):
            r = net.get(f"{TOPO}/None")
            if r.status_code == 200:
                ids.append(r.json()["auto_allocated_topology"]["id"])
            else:
                errors.append((r.status_code, r.text[:300]))

        threads = [threading.Thread(target=ask, args=(n,)) for n in (na, nb) * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(ids) == 8 and len(set(ids)) == 1, (ids, errors)
        nets = nb.get("/v2.0/networks?name=auto_allocated_network", expect=200).json()["networks"]
        assert [n["id"] for n in nets] == ids[:1]
        assert len(na.get("/v2.0/routers", expect=200).json()["routers"]) == 1
    finally:
        b.stop()
        a.stop()
        drop()
