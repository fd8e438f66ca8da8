"""The everyday workflow through an openstacksdk script, configured only by
the written clouds.yaml."""

import os

import openstack


def test_everyday_workflow_sdk(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(server.clouds_yaml))
    for k in [k for k in os.environ if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
        monkeypatch.delenv(k)
    conn = openstack.connect(cloud="ferrostack")
    data = os.urandom(1024 * 1024)
    image = conn.image.create_image(name="sdk-img", data=data, disk_format="qcow2",
                                    container_format="bare", allow_duplicates=True)
    image = conn.image.get_image(image.id)
    assert image.status == "active"
    assert conn.image.download_image(image).content == data

    net = conn.network.create_network(name="sdk-net")
    subnet = conn.network.create_subnet(network_id=net.id, cidr="10.20.0.0/24", ip_version=4)
    ext = conn.network.create_network(name="sdk-ext", is_router_external=True)
    conn.network.create_subnet(network_id=ext.id, cidr="172.30.0.0/24", ip_version=4, is_dhcp_enabled=False)
    router = conn.network.create_router(name="sdk-router", external_gateway_info={"network_id": ext.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)

    key = conn.compute.create_keypair(name="sdk-key")
    assert key.private_key
    flavor = conn.compute.find_flavor("m1.tiny")
    server = conn.compute.create_server(name="sdk-vm", image_id=image.id, flavor_id=flavor.id,
                                        networks=[{"uuid": net.id}], key_name="sdk-key")
    server = conn.compute.wait_for_server(server, wait=60, interval=0.5)
    assert server.status == "ACTIVE"
    assert "10.20.0." in str(server.addresses)

    volume = conn.block_storage.create_volume(size=1, name="sdk-vol")
    volume = conn.block_storage.wait_for_status(volume, status="available", wait=60, interval=0.5)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    volume = conn.block_storage.wait_for_status(volume, status="in-use", wait=60, interval=0.5)
    assert volume.attachments[0]["server_id"] == server.id

    port = next(conn.network.ports(device_id=server.id))
    fip = conn.network.create_ip(floating_network_id=ext.id)
    conn.network.update_ip(fip, port_id=port.id)
    assert conn.network.get_ip(fip.id).fixed_ip_address == port.fixed_ips[0]["ip_address"]

    conn.compute.stop_server(server)
    conn.compute.wait_for_server(server, status="SHUTOFF", wait=60, interval=0.5)
    conn.compute.start_server(server)
    conn.compute.wait_for_server(server, status="ACTIVE", wait=60, interval=0.5)

    conn.compute.delete_volume_attachment(server, volume.id)
    conn.block_storage.wait_for_status(volume, status="available", wait=60, interval=0.5)
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60, interval=0.5)
    assert list(conn.network.ports(device_id=server.id)) == []
    conn.network.delete_ip(fip)
    conn.block_storage.delete_volume(volume)
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.update_router(router, external_gateway_info={})
    conn.network.delete_router(router)
    conn.network.delete_network(net)
    conn.compute.delete_keypair("sdk-key")
    conn.image.delete_image(image)
