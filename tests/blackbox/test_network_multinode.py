"""Two ferrostack processes sharing one PostgreSQL database: what one node's
network service commits, the other sees at once, and allocations made on both
at the same time never collide (IP addresses, the per-project default group)."""

import ipaddress
import threading

import pytest

import ferro
from nethelp import Net

pytestmark = pytest.mark.skipif(not ferro.POSTGRES_URL,
                                reason="FERROSTACK_TEST_POSTGRES_URL is not set")


@pytest.fixture
def nodes(tmp_path):
    url, drop = ferro.fresh_postgres_database()
    a = ferro.Server(tmp_path / "node-a", database_url=url)
    b = ferro.Server(tmp_path / "node-b", database_url=url,
                     admin_password=a.admin_password)
    try:
        a.start()
        b.start()
        yield Net(a, a.admin_token()), Net(b, b.admin_token())
    finally:
        b.stop()
        a.stop()
        drop()


def _create_ports(net, network_id, count, out, errors):
    for _ in range(count):
        r = net.post("/v2.0/ports", json={"port": {"network_id": network_id}})
        if r.status_code == 201:
            out.append(r.json()["port"])
        else:
            errors.append((r.status_code, r.text[:300]))


def test_changes_are_seen_by_the_other_node(nodes):
    a, b = nodes
    network = a.network(name="shared-by-two")
    subnet = a.create("subnet", network_id=network["id"], ip_version=4,
                      cidr="10.77.0.0/24")
    assert b.get(f"/v2.0/networks/{network['id']}", expect=200).json()["network"]["name"] == "shared-by-two"
    assert b.get(f"/v2.0/subnets/{subnet['id']}", expect=200).json()["subnet"]["cidr"] == "10.77.0.0/24"
    listed = [n["id"] for n in b.get("/v2.0/networks", expect=200).json()["networks"]]
    assert network["id"] in listed

    b.put(f"/v2.0/networks/{network['id']}", json={"network": {"name": "renamed"}}, expect=200)
    assert a.get(f"/v2.0/networks/{network['id']}", expect=200).json()["network"]["name"] == "renamed"

    port = b.create("port", network_id=network["id"])
    assert a.get(f"/v2.0/ports/{port['id']}", expect=200).json()["port"]["fixed_ips"] == port["fixed_ips"]
    a.delete(f"/v2.0/ports/{port['id']}", expect=204)
    assert b.get(f"/v2.0/ports/{port['id']}").status_code == 404
    # a subnet with ports cannot go, whichever node is asked
    kept = a.create("port", network_id=network["id"])
    assert b.delete(f"/v2.0/subnets/{subnet['id']}").status_code == 409
    b.delete(f"/v2.0/ports/{kept['id']}", expect=204)
    b.delete(f"/v2.0/networks/{network['id']}", expect=204)
    assert a.get(f"/v2.0/networks/{network['id']}").status_code == 404
    assert a.get(f"/v2.0/subnets/{subnet['id']}").status_code == 404


def test_concurrent_allocations_on_both_nodes_do_not_collide(nodes):
    a, b = nodes
    network = a.network()
    a.create("subnet", network_id=network["id"], ip_version=4, cidr="10.78.0.0/24")
    created, errors = [], []
    threads = [threading.Thread(target=_create_ports, args=(node, network["id"], 12, created, errors))
               for node in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(created) == 48
    ips = [p["fixed_ips"][0]["ip_address"] for p in created]
    macs = [p["mac_address"] for p in created]
    assert len(set(ips)) == len(ips), sorted(ips)
    assert len(set(macs)) == len(macs)
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.78.0.0/24") for ip in ips)
    # both nodes list the same ports
    for node in (a, b):
        ports = node.get("/v2.0/ports", params={"network_id": network["id"]}, expect=200).json()["ports"]
        assert {p["id"] for p in ports} == {p["id"] for p in created}


def test_one_default_security_group_when_both_nodes_race(nodes):
    a, b = nodes
    results = []

    def list_groups(node):
        results.append(node.get("/v2.0/security-groups", expect=200).json()["security_groups"])

    threads = [threading.Thread(target=list_groups, args=(n,)) for n in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for node in (a, b):
        groups = node.get("/v2.0/security-groups", params={"name": "default"},
                          expect=200).json()["security_groups"]
        assert len(groups) == 1, groups
