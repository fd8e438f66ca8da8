"""The real `openstack` CLI and openstacksdk against the network service,
configured only by the clouds.yaml that `ferrostack serve` writes."""

import json
import subprocess
import sys
import textwrap

from test_identity_cli import Cli


def test_cli_network_workflow(server):
    cli = Cli(server)
    net = cli.json("network", "create", "net")
    assert net["status"] == "ACTIVE" and net["router:external"] is False
    ext = cli.json("network", "create", "--external", "--provider-network-type", "flat",
                   "--provider-physical-network", "physnet1", "ext")
    assert ext["router:external"] is True
    assert ext["provider:network_type"] == "flat"
    assert ext["provider:physical_network"] == "physnet1"
    cli.json("subnet", "create", "--subnet-range", "172.24.4.0/24", "--network", "ext",
             "--no-dhcp", "extsub")
    sub = cli.json("subnet", "create", "--subnet-range", "10.0.0.0/24", "--network", "net", "sub")
    assert sub["gateway_ip"] == "10.0.0.1"
    assert sub["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert sub["enable_dhcp"] is True and sub["subnetpool_id"] is None
    sub6 = cli.json("subnet", "create", "--ip-version", "6", "--subnet-range", "2001:db8::/64",
                    "--network", "net", "sub6")
    assert sub6["gateway_ip"] == "2001:db8::1"

    port = cli.json("port", "create", "--network", "net", "--fixed-ip", "subnet=sub", "p1")
    assert port["mac_address"].startswith("fa:16:3e:")
    assert [ip["subnet_id"] for ip in port["fixed_ips"]] == [sub["id"]]
    assert port["fixed_ips"][0]["ip_address"] == "10.0.0.2"
    assert port["status"] == "DOWN"
    assert len(port["security_group_ids"]) == 1

    router = cli.json("router", "create", "r1")
    cli.run("router", "add", "subnet", "r1", "sub")
    cli.run("router", "set", "--external-gateway", "ext", "r1")
    shown = cli.json("router", "show", "r1")
    assert shown["external_gateway_info"]["network_id"] == ext["id"]
    assert shown["external_gateway_info"]["enable_snat"] is True
    assert shown["external_gateway_info"]["external_fixed_ips"][0]["ip_address"].startswith("172.24.4.")
    router_ports = cli.json("port", "list", "--device-id", router["id"])
    owners = sorted(p["Fixed IP Addresses"][0]["ip_address"] for p in router_ports)
    assert "10.0.0.1" in owners

    sg = cli.json("security", "group", "create", "sg1")
    rule = cli.json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "sg1")
    assert rule["port_range_min"] == 22 and rule["port_range_max"] == 22
    assert rule["security_group_id"] == sg["id"]
    dup = cli.run("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                  "sg1", check=False)
    assert dup.returncode != 0 and "already exists" in dup.stderr
    groups = cli.json("security", "group", "list")
    assert {"default", "sg1"} <= {g["Name"] for g in groups}

    fip = cli.json("floating", "ip", "create", "ext")
    assert fip["floating_ip_address"].startswith("172.24.4.") and fip["status"] == "DOWN"
    cli.run("floating", "ip", "set", "--port", "p1", fip["id"])
    shown = cli.json("floating", "ip", "show", fip["id"])
    assert shown["port_id"] == port["id"] and shown["fixed_ip_address"] == "10.0.0.2"
    assert shown["router_id"] == router["id"] and shown["status"] == "ACTIVE"
    # the interface is needed by the floating IP
    busy = cli.run("router", "remove", "subnet", "r1", "sub", check=False)
    assert busy.returncode != 0
    cli.run("floating", "ip", "unset", "--port", fip["id"])
    shown = cli.json("floating", "ip", "show", fip["id"])
    assert shown["port_id"] is None and shown["status"] == "DOWN"

    externals = cli.json("network", "list", "--external")
    assert [n["Name"] for n in externals] == ["ext"]
    assert {n["Name"] for n in cli.json("network", "list")} == {"net", "ext"}
    assert [p["Name"] for p in cli.json("port", "list", "--network", "net", "--device-owner", "")] == ["p1"]

    cli.run("router", "remove", "subnet", "r1", "sub")
    assert cli.json("router", "show", "r1")["interfaces_info"] == []
    in_use = cli.run("network", "delete", "net", check=False)
    assert in_use.returncode != 0
    cli.run("floating", "ip", "delete", fip["id"])
    cli.run("router", "delete", "r1")
    cli.run("security", "group", "rule", "delete", rule["id"])
    cli.run("security", "group", "delete", "sg1")
    cli.run("port", "delete", "p1")
    cli.run("subnet", "delete", "sub6")
    cli.run("subnet", "delete", "sub")
    cli.run("network", "delete", "net")
    assert {n["Name"] for n in cli.json("network", "list")} == {"ext"}
    assert cli.json("port", "list", "--network", "ext") == []


SDK_SCRIPT = textwrap.dedent("""
    import json, openstack
    conn = openstack.connect(cloud="ferrostack")
    ext = conn.network.create_network(name="ext", is_router_external=True)
    conn.network.create_subnet(network_id=ext.id, ip_version=4, cidr="192.0.2.0/24")
    net = conn.network.create_network(name="net")
    sub = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.1.0.0/24")
    port = conn.network.create_port(network_id=net.id, fixed_ips=[{"subnet_id": sub.id}])
    router = conn.network.create_router(name="r", external_gateway_info={"network_id": ext.id})
    conn.network.add_interface_to_router(router, subnet_id=sub.id)
    sg = conn.network.create_security_group(name="web")
    conn.network.create_security_group_rule(security_group_id=sg.id, direction="ingress",
                                            protocol="tcp", port_range_min=80, port_range_max=80)
    fip = conn.network.create_ip(floating_network_id=ext.id)
    conn.network.update_ip(fip, port_id=port.id)
    fip = conn.network.get_ip(fip.id)
    out = {
        "fip_port": fip.port_id, "fip_router": fip.router_id, "fip_status": fip.status,
        "port": port.id, "router": router.id,
        "ports": sorted(p.device_owner for p in conn.network.ports(network_id=net.id)),
        "nets": sorted(n.name for n in conn.network.networks()),
        "rules": len(conn.network.get_security_group(sg.id).security_group_rules),
    }
    conn.network.update_ip(fip, port_id=None)
    conn.network.delete_ip(fip)
    conn.network.remove_interface_from_router(router, subnet_id=sub.id)
    conn.network.delete_router(router)
    conn.network.delete_port(port)
    conn.network.delete_network(net)
    out["after"] = sorted(n.name for n in conn.network.networks())
    print(json.dumps(out))
""")


def test_sdk_network_workflow(server):
    p = subprocess.run([sys.executable, "-c", SDK_SCRIPT], env=server.cli_env(),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-4000:] + server.log()[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["fip_port"] == out["port"] and out["fip_router"] == out["router"]
    assert out["fip_status"] == "ACTIVE"
    assert out["ports"] == ["", "network:router_interface"]
    assert out["nets"] == ["ext", "net"]
    assert out["rules"] == 3  # two default egress rules + the one added
    assert out["after"] == ["ext"]
