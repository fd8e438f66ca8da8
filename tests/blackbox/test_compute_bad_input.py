"""Bad input to every compute route, at several microversions and on both
database backends: malformed JSON, wrong types, missing fields, unknown ids,
bad tokens. Every answer must be a 4xx in Nova's error format, never a 5xx,
and the server must stay healthy with the objects the sweep aimed at
unchanged; the classes of input Nova's schemas refuse (`STRICT_CASES`) must
be a 400 that names the field, and what depends on the microversion (routes
gone, fields and query parameters taken from one) is `VERSION_CASES`."""

import json

import pytest
import requests

import ferro
from computehelp import Nova, image, net, token, wait

DEAD = "6b8f2d1e-0000-4000-8000-00000000dead"   # a well-formed id nothing has


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sweep(request, tmp_path_factory):
    """One server per backend (and one real instance, aggregate, security
    group) shared by the whole sweep; it stops with the module."""
    if request.param == "postgres" and not ferro.POSTGRES_URL:
        pytest.skip("FERROSTACK_TEST_POSTGRES_URL is not set")
    url = drop = None
    if request.param == "postgres":
        url, drop = ferro.fresh_postgres_database()
    srv = ferro.Server(tmp_path_factory.mktemp("compute-sweep-" + request.param) / "data",
                       database_url=url)
    try:
        srv.start()
        tok = token(srv)
        nova = Nova(srv, tok)
        nid = net(srv, tok)
        iid = image(srv, tok)
        r = nova.post("/servers", {"server": {"name": "sweep", "imageRef": iid, "flavorRef": "1",
                                              "networks": [{"uuid": nid}]}})
        assert r.status_code == 202, r.text
        sid = r.json()["server"]["id"]
        wait(nova, sid, "ACTIVE")
        assert nova.post("/os-keypairs", {"keypair": {"name": "sweep-key"}}).status_code == 200
        r = nova.post("/os-aggregates", {"aggregate": {"name": "sweep-agg"}})
        assert r.status_code == 200, r.text
        aid = str(r.json()["aggregate"]["id"])
        host = nova.get("/os-hosts").json()["hosts"][0]["host_name"]
        groups = nova.get("/os-security-groups").json()["security_groups"]
        sgid = str(next(g["id"] for g in groups if g["name"] == "default"))
        st = dict(srv=srv, nova=nova, sid=sid, nid=nid, iid=iid, aid=aid, host=host, sgid=sgid,
                  dead=DEAD, fives=[])
        yield st
    finally:
        alive = srv.proc is not None and srv.proc.poll() is None
        srv.stop()
        if drop:
            drop()
    assert alive, "ferrostack died during the compute bad-input sweep:\n" + srv.log()


def _fill(text, st):
    for key in ("sid", "iid", "nid", "aid", "host", "sgid", "dead"):
        text = text.replace("{" + key + "}", st[key])
    return text


BAD_BODIES = [
    ("not json", b"{nope"),
    ("json list", b"[]"),
    ("json string", b'"x"'),
    ("null", b"null"),
    ("empty object", b"{}"),
    ("wrong wrapper", b'{"zzz": {}}'),
    ("wrapper is list", b'{"server": []}'),
    ("nul byte", b'{"server": {"name": "a\\u0000b"}}'),
]

ROUTES = [
    ("POST", "/servers"),
    ("PUT", "/servers/{sid}"),
    ("POST", "/servers/{sid}/action"),
    ("POST", "/servers/{sid}/metadata"),
    ("PUT", "/servers/{sid}/metadata"),
    ("PUT", "/servers/{sid}/metadata/k"),
    ("POST", "/servers/{sid}/os-volume_attachments"),
    ("POST", "/servers/{sid}/os-interface"),
    ("POST", "/flavors"),
    ("POST", "/flavors/1/os-extra_specs"),
    ("PUT", "/flavors/1/os-extra_specs/k"),
    ("POST", "/flavors/1/action"),
    ("POST", "/os-keypairs"),
    ("POST", "/os-server-groups"),
    ("PUT", "/os-services/enable"),
    ("PUT", "/os-services/disable-log-reason"),
    ("PUT", "/os-quota-sets/p1"),
    ("PUT", "/os-quota-class-sets/default"),
    ("POST", "/os-security-groups"),
    ("PUT", "/os-security-groups/6b8f2d1e-0000-4000-8000-00000000dead"),
    ("POST", "/os-security-group-rules"),
    ("POST", "/os-floating-ips"),
    ("POST", "/os-volumes"),
    ("POST", "/os-snapshots"),
    ("POST", "/images/{iid}/metadata"),
    ("PUT", "/images/{iid}/metadata"),
    ("PUT", "/images/{iid}/metadata/k"),
    ("POST", "/os-server-external-events"),
    ("POST", "/os-assisted-volume-snapshots"),
    ("POST", "/os-aggregates"),
    ("PUT", "/os-aggregates/{aid}"),
    ("POST", "/os-aggregates/{aid}/action"),
    ("POST", "/os-aggregates/{aid}/images"),
    ("PUT", "/os-hosts/{host}"),
    ("POST", "/servers/{sid}/remote-consoles"),
    ("PUT", "/servers/{sid}/tags"),
    ("PUT", "/os-security-groups/{sgid}"),
    ("PUT", "/servers/{sid}/os-volume_attachments/{dead}"),
]

FIELD_CASES = [
    ("POST", "/servers", {"server": {"name": 1, "imageRef": "{iid}", "flavorRef": "1"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": 5, "flavorRef": "1"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": []}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": "all"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [1]}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "metadata": []}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "min_count": "many"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "min_count": 0}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "user_data": "%%%"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "security_groups": "default"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "accessIPv4": "1.2.3"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "block_device_mapping_v2": [{"source_type": "bogus"}]}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "block_device_mapping_v2": [{"source_type": "volume", "destination_type": "volume", "uuid": "nope", "boot_index": 0}]}}),
    ("PUT", "/servers/{sid}", {"server": {"name": ""}}),
    ("PUT", "/servers/{sid}", {"server": {"accessIPv6": 7}}),
    ("POST", "/servers/{sid}/action", {"reboot": {"type": "GENTLE"}}),
    ("POST", "/servers/{sid}/action", {"reboot": None}),
    ("POST", "/servers/{sid}/action", {"createImage": {"name": 5}}),
    ("POST", "/servers/{sid}/action", {"createBackup": {"name": "b", "backup_type": "daily"}}),
    ("POST", "/servers/{sid}/action", {"createBackup": {"name": "b", "backup_type": "daily", "rotation": -1}}),
    ("POST", "/servers/{sid}/action", {"createBackup": {"name": "b", "backup_type": [], "rotation": 1}}),
    ("POST", "/servers/{sid}/action", {"createBackup": "daily"}),
    ("GET", "/servers/6b8f2d1e-0000-4000-8000-00000000dead/os-server-password", None),
    ("DELETE", "/servers/6b8f2d1e-0000-4000-8000-00000000dead/os-server-password", None),
    ("POST", "/servers/{sid}/action", {"resize": {"flavorRef": "nope"}}),
    ("POST", "/servers/{sid}/action", {"rebuild": {"imageRef": "6b8f2d1e-0000-4000-8000-00000000dead"}}),
    ("POST", "/servers/{sid}/action", {"os-getConsoleOutput": {"length": "x"}}),
    ("POST", "/servers/{sid}/action", {"os-stop": None, "os-start": None}),
    ("POST", "/servers/{sid}/action", {"addSecurityGroup": None}),
    ("POST", "/servers/{sid}/action", {"addSecurityGroup": {}}),
    ("POST", "/servers/{sid}/action", {"addSecurityGroup": {"name": 5}}),
    ("POST", "/servers/{sid}/action", {"addSecurityGroup": {"name": " "}}),
    ("POST", "/servers/{sid}/action", {"addSecurityGroup": {"name": "no-such-group"}}),
    ("POST", "/servers/{sid}/action", {"removeSecurityGroup": []}),
    ("POST", "/servers/{sid}/action", {"removeSecurityGroup": {"name": "no-such-group"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "security_groups": [{"name": "no-such-group"}]}}),
    ("POST", "/servers/{sid}/metadata", {"metadata": {"k": 1}}),
    ("POST", "/servers/{sid}/metadata", {"metadata": {"": "v"}}),
    ("PUT", "/servers/{sid}/metadata/k", {"meta": {"other": "v"}}),
    ("POST", "/servers/{sid}/os-volume_attachments", {"volumeAttachment": {"volumeId": "nope"}}),
    ("POST", "/servers/{sid}/os-volume_attachments", {"volumeAttachment": {"volumeId": "6b8f2d1e-0000-4000-8000-00000000dead"}}),
    ("POST", "/servers/{sid}/os-interface", {"interfaceAttachment": {}}),
    ("POST", "/servers/{sid}/os-interface", {"interfaceAttachment": {"net_id": "6b8f2d1e-0000-4000-8000-00000000dead"}}),
    ("POST", "/flavors", {"flavor": {"name": "f", "ram": "lots", "vcpus": 1, "disk": 0}}),
    ("POST", "/flavors", {"flavor": {"name": "f", "ram": -1, "vcpus": 1, "disk": 0}}),
    ("POST", "/flavors", {"flavor": {"name": "", "ram": 1, "vcpus": 1, "disk": 0}}),
    ("POST", "/flavors", {"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": "x"}}),
    ("POST", "/flavors/1/os-extra_specs", {"extra_specs": {"k": [1]}}),
    ("POST", "/flavors/1/action", {"addTenantAccess": {}}),
    ("POST", "/os-keypairs", {"keypair": {"name": "bad/name"}}),
    ("POST", "/os-keypairs", {"keypair": {"name": "k", "public_key": 5}}),
    ("POST", "/os-keypairs", {"keypair": {"name": "k", "type": "pgp"}}),
    ("POST", "/os-server-groups", {"server_group": {"name": "g"}}),
    ("POST", "/os-server-groups", {"server_group": {"name": 7, "policies": ["affinity"]}}),
    ("POST", "/os-server-groups", {"server_group": {"name": "g", "policies": [None]}}),
    # (the soft policies are valid from 2.15: test_compute_microversions_resources.py)
    ("POST", "/os-server-groups", {"server_group": {"name": "g", "policies": ["bogus-affinity"]}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1"}, "os:scheduler_hints": {"group": "nope"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1"}, "os:scheduler_hints": []}),
    ("GET", "/os-server-groups?limit=-2", None),
    ("GET", "/servers/6b8f2d1e-0000-4000-8000-00000000dead/os-instance-actions", None),
    ("GET", "/servers/{sid}/os-instance-actions/req-nope", None),
    ("GET", "/servers/{sid}/os-instance-actions/%00", None),
    ("GET", "/os-server-groups/6b8f2d1e-0000-4000-8000-00000000dead", None),
    ("DELETE", "/os-server-groups/nope", None),
    ("GET", "/servers?limit=x", None),
    ("GET", "/servers?limit=-1", None),
    ("GET", "/servers?marker=nope", None),
    ("GET", "/servers/detail?changes-since=yesterday", None),
    ("GET", "/servers?name=(", None),
    ("GET", "/flavors?minRam=x", None),
    ("GET", "/servers/" + "6b8f2d1e-0000-4000-8000-00000000dead", None),
    ("GET", "/servers/%00abc", None),
    ("GET", "/flavors/%00abc", None),
    ("DELETE", "/os-keypairs/nope", None),
    ("GET", "/servers/{sid}/metadata/missing", None),
    ("GET", "/servers/{sid}/ips/nonet", None),
    ("GET", "/servers/6b8f2d1e-0000-4000-8000-00000000dead/os-security-groups", None),
    ("GET", "/servers/{sid}/os-volume_attachments/" + "6b8f2d1e-0000-4000-8000-00000000dead", None),
    ("GET", "/servers/{sid}/os-interface/" + "6b8f2d1e-0000-4000-8000-00000000dead", None),
    ("GET", "/no-such-thing", None),
    ("PUT", "/os-services/disable", {"host": "ferrostack"}),
    ("PUT", "/os-services/disable", {"host": 5, "binary": "nova-compute"}),
    ("PUT", "/os-services/disable", {"host": "ferrostack", "binary": "nova-compute", "zzz": 1}),
    ("PUT", "/os-services/disable-log-reason", {"host": "ferrostack", "binary": "nova-compute", "disabled_reason": ""}),
    ("PUT", "/os-services/disable", {"host": "ferrostack", "binary": "nova-conductor"}),
    # (force-down is valid from 2.11 to 2.52: test_compute_microversions_resources.py)
    ("PUT", "/os-services/force-down", {"host": "ferrostack", "binary": "nova-compute", "forced_down": "maybe"}),
    ("PUT", "/os-services/%00", {"host": "ferrostack", "binary": "nova-compute"}),
    ("DELETE", "/os-services/x1", None),
    ("DELETE", "/os-services/99999999999999999999999", None),
    ("GET", "/os-hypervisors/99999999999999999999999", None),
    ("GET", "/os-hypervisors/%00/uptime", None),
    ("GET", "/os-hypervisors/%00/search", None),
    ("GET", "/os-hypervisors/no-such-host/servers", None),
    ("GET", "/os-simple-tenant-usage?start=2020-13-45T00:00:00", None),
    ("GET", "/os-simple-tenant-usage?start=2020-01-02T00:00:00&end=2020-01-01T00:00:00", None),
    ("GET", "/os-simple-tenant-usage/x?end=%00", None),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"ram": "x"}}),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"cores": -5}}),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"cores": 1.5}}),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"nope": 1}}),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"force": [], "ram": 1}}),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"ram": 99999999999999999999999}}),
    ("PUT", "/os-quota-class-sets/default", {"quota_class_set": {"force": True}}),
    ("PUT", "/os-quota-class-sets/default", {"quota_class_set": {"instances": {}}}),
    ("POST", "/os-security-groups", {"security_group": {"name": 5, "description": "d"}}),
    ("POST", "/os-security-groups", {"security_group": {"name": "x" * 300}}),
    ("POST", "/os-security-group-rules", {"security_group_rule": {"parent_group_id": "nope"}}),
    ("POST", "/os-security-group-rules", {"security_group_rule": {"parent_group_id": [], "from_port": "x"}}),
    ("POST", "/os-floating-ips", {"pool": 5}),
    ("POST", "/os-floating-ips", {"pool": "no-such-pool"}),
    ("GET", "/os-floating-ips/%00", None),
    ("POST", "/os-volumes", {"volume": {"size": -1}}),
    ("POST", "/os-volumes", {"volume": {"size": 1, "metadata": []}}),
    ("POST", "/os-snapshots", {"snapshot": {"volume_id": 5}}),
    ("POST", "/os-snapshots", {"snapshot": {"volume_id": "6b8f2d1e-0000-4000-8000-00000000dead", "force": "maybe"}}),
    ("GET", "/os-networks/%00", None),
    ("DELETE", "/os-tenant-networks/x", None),
    ("POST", "/images/{iid}/metadata", {"metadata": {"k": 5}}),
    ("PUT", "/images/{iid}/metadata/k", {"meta": {"k": "v", "j": "w"}}),
    ("POST", "/servers/{sid}/action", {"addFloatingIp": {"address": 5}}),
    ("POST", "/servers/{sid}/action", {"removeFloatingIp": {}}),
    ("GET", "/servers/6b8f2d1e-0000-4000-8000-00000000dead/diagnostics", None),
    ("POST", "/os-server-external-events", {"events": [{"name": "nope", "server_uuid": "{sid}"}]}),
    ("POST", "/os-server-external-events", {"events": []}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "x", "create_info": []}}),
    ("DELETE", "/os-assisted-volume-snapshots/x?delete_info=%7Bnope", None),
    ("GET", "/extensions/%00", None),
    # os-hosts (gone from 2.43: 404 there)
    ("GET", "/os-hosts/no-such-host", None),
    ("GET", "/os-hosts/%00", None),
    ("PUT", "/os-hosts/{host}", {}),
    ("PUT", "/os-hosts/{host}", {"status": "bogus"}),
    ("PUT", "/os-hosts/{host}", {"maintenance_mode": 1}),
    ("PUT", "/os-hosts/{host}", {"status": None}),
    ("PUT", "/os-hosts/no-such-host", {"status": "enable"}),
    ("GET", "/os-hosts/no-such-host/reboot", None),
    ("GET", "/os-hosts/no-such-host/shutdown", None),
    ("GET", "/os-hosts/no-such-host/startup", None),
    ("GET", "/os-hosts/{host}/bogus", None),
    # os-instance_usage_audit_log with a `before` that is no time
    ("GET", "/os-instance_usage_audit_log/yesterday", None),
    ("GET", "/os-instance_usage_audit_log/2020-13-45", None),
    ("GET", "/os-instance_usage_audit_log/2020-01-01T25:00:00", None),
    ("GET", "/os-instance_usage_audit_log/%00", None),
    ("GET", "/os-instance_usage_audit_log/" + "9" * 40, None),
    # os-aggregates
    ("POST", "/os-aggregates", {"aggregate": {}}),
    ("POST", "/os-aggregates", {"aggregate": {"name": ""}}),
    ("POST", "/os-aggregates", {"aggregate": {"name": "n" * 256}}),
    ("POST", "/os-aggregates", {"aggregate": {"name": 5}}),
    ("POST", "/os-aggregates", {"aggregate": {"name": "a", "availability_zone": 5}}),
    ("POST", "/os-aggregates", {"aggregate": {"name": "a", "availability_zone": ""}}),
    ("POST", "/os-aggregates", {"aggregate": {"name": "a", "availability_zone": "a:b"}}),
    ("POST", "/os-aggregates", {"aggregate": {"name": "sweep-agg"}}),
    ("POST", "/os-aggregates", {"aggregate": []}),
    ("GET", "/os-aggregates/99999", None),
    ("GET", "/os-aggregates/nope", None),
    ("PUT", "/os-aggregates/99999", {"aggregate": {"name": "x"}}),
    ("PUT", "/os-aggregates/{aid}", {"aggregate": {}}),
    ("PUT", "/os-aggregates/{aid}", {"aggregate": {"name": 5}}),
    ("PUT", "/os-aggregates/{aid}", {"aggregate": {"name": ""}}),
    ("PUT", "/os-aggregates/{aid}", {"aggregate": {"availability_zone": "a:b"}}),
    ("PUT", "/os-aggregates/{aid}", {"aggregate": "x"}),
    ("DELETE", "/os-aggregates/99999", None),
    ("POST", "/os-aggregates/99999/action", {"add_host": {"host": "{host}"}}),
    ("POST", "/os-aggregates/{aid}/action", {}),
    ("POST", "/os-aggregates/{aid}/action", {"bogus": {}}),
    ("POST", "/os-aggregates/{aid}/action", {"add_host": {}}),
    ("POST", "/os-aggregates/{aid}/action", {"add_host": None}),
    ("POST", "/os-aggregates/{aid}/action", {"add_host": {"host": 5}}),
    ("POST", "/os-aggregates/{aid}/action", {"add_host": {"host": "bad host!"}}),
    ("POST", "/os-aggregates/{aid}/action", {"add_host": {"host": "no-such-host"}}),
    ("POST", "/os-aggregates/{aid}/action", {"remove_host": {"host": "no-such-host"}}),
    ("POST", "/os-aggregates/{aid}/action", {"remove_host": {"host": "{host}"}}),
    ("POST", "/os-aggregates/{aid}/action", {"remove_host": {}}),
    ("POST", "/os-aggregates/{aid}/action", {"set_metadata": {}}),
    ("POST", "/os-aggregates/{aid}/action", {"set_metadata": {"metadata": []}}),
    ("POST", "/os-aggregates/{aid}/action", {"set_metadata": {"metadata": {"k": 5}}}),
    ("POST", "/os-aggregates/{aid}/action", {"set_metadata": {"metadata": {"": "v"}}}),
    ("POST", "/os-aggregates/{aid}/action", {"set_metadata": {"metadata": {"k/x": "v"}}}),
    ("POST", "/os-aggregates/{aid}/images", {"cache": []}),
    ("POST", "/os-aggregates/{aid}/images", {"cache": [{"id": "nope"}]}),
    ("POST", "/os-aggregates/{aid}/images", {"cache": "{iid}"}),
    ("POST", "/os-aggregates/99999/images", {"cache": [{"id": "{iid}"}]}),
    # os-server-external-events
    ("POST", "/os-server-external-events", {"events": "x"}),
    ("POST", "/os-server-external-events", {"events": {}}),
    ("POST", "/os-server-external-events", {"events": [5]}),
    ("POST", "/os-server-external-events", {"events": [None]}),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed"}]}),
    ("POST", "/os-server-external-events", {"events": [{"server_uuid": "{sid}"}]}),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed", "server_uuid": "nope"}]}),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed", "server_uuid": 5}]}),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed", "server_uuid": "{dead}"}]}),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed", "server_uuid": "{sid}", "status": "bogus"}]}),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed", "server_uuid": "{sid}", "tag": 5}]}),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed", "server_uuid": "{sid}", "tag": "t" * 256}]}),
    ("POST", "/os-server-external-events", {"events": [{"name": 5, "server_uuid": "{sid}"}]}),
    # os-assisted-volume-snapshots
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}"}}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"create_info": {"snapshot_id": "s", "type": "qcow2", "new_file": "f"}}}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"type": "qcow2", "new_file": "f"}}}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"snapshot_id": "s", "new_file": "f"}}}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"snapshot_id": "s", "type": "qcow2"}}}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"snapshot_id": "", "type": "qcow2", "new_file": "f"}}}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"snapshot_id": "s", "type": "qcow2", "new_file": ""}}}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": 5, "create_info": {"snapshot_id": "s", "type": "qcow2", "new_file": "f"}}}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"snapshot_id": "s", "type": "qcow2", "new_file": "f"}}}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": "x"}),
    ("DELETE", "/os-assisted-volume-snapshots/{dead}", None),
    ("DELETE", "/os-assisted-volume-snapshots/{dead}?delete_info=%5B%5D", None),
    ("DELETE", "/os-assisted-volume-snapshots/{dead}?delete_info=%7B%7D", None),
    ("DELETE", "/os-assisted-volume-snapshots/{dead}?delete_info=%7B%22volume_id%22%3A%20%22{dead}%22%7D", None),
    # os-migrations
    ("GET", "/os-migrations/5", None),
    # the proxy APIs (gone from 2.36: 404 there)
    ("GET", "/os-networks/{dead}", None),
    ("POST", "/os-networks", {"network": {"label": "x"}}),
    ("DELETE", "/os-networks/{dead}", None),
    ("POST", "/os-networks/add", {"id": "{nid}"}),
    ("POST", "/os-networks/{nid}/action", {"disassociate": None}),
    ("GET", "/os-tenant-networks/{dead}", None),
    ("POST", "/os-tenant-networks", {"network": {"label": "x", "cidr": "10.9.0.0/24"}}),
    ("GET", "/os-floating-ips/{dead}", None),
    ("DELETE", "/os-floating-ips/{dead}", None),
    ("GET", "/os-floating-ips/nope", None),
    ("GET", "/os-security-groups/{dead}", None),
    ("DELETE", "/os-security-groups/{dead}", None),
    ("PUT", "/os-security-groups/{sgid}", {"security_group": {"name": 5, "description": "d"}}),
    ("PUT", "/os-security-groups/{sgid}", {"security_group": []}),
    ("POST", "/os-security-groups", {"security_group": {"name": "x", "description": 5}}),
    ("POST", "/os-security-groups", {"security_group": {"name": "x", "description": "d" * 300}}),
    ("DELETE", "/os-security-group-rules/{dead}", None),
    ("POST", "/os-security-group-rules", {"security_group_rule": {"parent_group_id": "{sgid}", "ip_protocol": "bogus", "from_port": 1, "to_port": 2}}),
    ("POST", "/os-security-group-rules", {"security_group_rule": {"parent_group_id": "{sgid}", "ip_protocol": "tcp", "from_port": 9, "to_port": 2}}),
    ("POST", "/os-security-group-rules", {"security_group_rule": {"parent_group_id": "{sgid}", "ip_protocol": "tcp", "from_port": 1, "to_port": 99999}}),
    ("POST", "/os-security-group-rules", {"security_group_rule": {"parent_group_id": "{sgid}", "ip_protocol": "tcp", "from_port": 1, "to_port": 2, "cidr": "nope"}}),
    ("POST", "/os-security-group-rules", {"security_group_rule": {"parent_group_id": "{sgid}", "ip_protocol": "tcp", "from_port": 1, "to_port": 2, "group_id": "{dead}"}}),
    ("POST", "/os-security-group-rules", {"security_group_rule": {"parent_group_id": "{dead}", "ip_protocol": "tcp", "from_port": 1, "to_port": 2}}),
    ("GET", "/os-volumes/{dead}", None),
    ("DELETE", "/os-volumes/{dead}", None),
    ("POST", "/os-volumes", {"volume": {}}),
    ("POST", "/os-volumes", {"volume": {"size": "x"}}),
    ("POST", "/os-volumes", {"volume": {"size": 1, "availability_zone": 5}}),
    ("POST", "/os-volumes", {"volume": {"size": 1, "snapshot_id": "{dead}"}}),
    ("GET", "/os-snapshots/{dead}", None),
    ("DELETE", "/os-snapshots/{dead}", None),
    ("POST", "/os-snapshots", {"snapshot": {}}),
    ("GET", "/images/{dead}", None),
    ("DELETE", "/images/{dead}", None),
    ("GET", "/images/{dead}/metadata", None),
    ("POST", "/images/{dead}/metadata", {"metadata": {"k": "v"}}),
    ("GET", "/images/{iid}/metadata/missing", None),
    ("DELETE", "/images/{iid}/metadata/missing", None),
    ("PUT", "/images/{iid}/metadata", {"metadata": []}),
    ("PUT", "/images/{iid}/metadata", {"metadata": {"k": None}}),
    ("POST", "/images/{iid}/metadata", {"metadata": {"k" * 300: "v"}}),
    ("PUT", "/images/{iid}/metadata/k", {"meta": {}}),
    ("PUT", "/images/{iid}/metadata/k", {"meta": {"j": "v"}}),
    ("PUT", "/images/{iid}/metadata/k", {"meta": {"k": 5}}),
    # diagnostics, topology, migrations and consoles of servers that are not there
    ("GET", "/servers/{dead}/topology", None),
    ("GET", "/servers/{dead}/migrations", None),
    ("GET", "/servers/{sid}/migrations/99999", None),
    ("GET", "/servers/{sid}/migrations/nope", None),
    ("POST", "/servers/{dead}/remote-consoles", {"remote_console": {"protocol": "vnc", "type": "novnc"}}),
    ("POST", "/servers/{sid}/remote-consoles", {"remote_console": {"protocol": "bogus", "type": "novnc"}}),
    ("POST", "/servers/{sid}/remote-consoles", {"remote_console": {"protocol": "vnc"}}),
    ("POST", "/servers/{sid}/remote-consoles", {"remote_console": []}),
]


# The sweep runs at these versions: the first, the one that removed
# os-hosts and the proxies' neighbours, the one that added tags at create,
# the one that made list queries strict, and the newest.
VERSIONS = ["2.1", "2.43", "2.52", "2.75", "latest"]


def _at(version):
    return {"OpenStack-API-Version": f"compute {version}"}


# (method, path, body, field the 400 must name): refused by Nova's schemas
# at every version of the sweep.
STRICT_CASES = [
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}]}, "bogus": 1}, "bogus"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "bogus": 1}}, "bogus"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}", "bogus": 1}]}}, "bogus"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "security_groups": [{"name": "default", "bogus": 1}]}}, "bogus"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "block_device_mapping_v2": [{"source_type": "image", "uuid": "{iid}", "bogus": 1}]}}, "bogus"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "metadata": None}}, "metadata"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "min_count": None}}, "min_count"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "key_name": None}}, "key_name"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "security_groups": None}}, "security_groups"),
    ("POST", "/servers", {"server": {"name": "x\u0007y", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}]}}, "name"),
    ("POST", "/servers", {"server": {"name": " lead", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}]}}, "name"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "metadata": {"a/b": "c"}}}, "metadata"),
    ("PUT", "/servers/{sid}", {"server": {"name": "x"}, "bogus": 1}, "bogus"),
    ("PUT", "/servers/{sid}", {"server": {"bogus": 1}}, "bogus"),
    ("PUT", "/servers/{sid}", {"server": {"name": "trail "}}, "name"),
    ("POST", "/servers/{sid}/action", {"rebuild": {"imageRef": "{iid}", "metadata": []}}, "metadata"),
    ("POST", "/servers/{sid}/action", {"rebuild": {"imageRef": "{iid}", "metadata": {"k": 1}}}, "metadata"),
    ("POST", "/servers/{sid}/action", {"rebuild": {"imageRef": "{iid}", "bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/action", {"createImage": {"name": "x", "metadata": "a"}}, "metadata"),
    ("POST", "/servers/{sid}/action", {"createImage": {"name": "x", "metadata": None}}, "metadata"),
    ("POST", "/servers/{sid}/action", {"createImage": {"name": "x", "bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/action", {"os-getConsoleOutput": 5}, "os-getConsoleOutput"),
    ("POST", "/servers/{sid}/action", {"os-getConsoleOutput": {"bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/action", {"reboot": {"type": "HARD", "bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/action", {"resize": {"flavorRef": "2", "bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/os-volume_attachments", {"volumeAttachment": {"volumeId": "6b8f2d1e-0000-4000-8000-00000000dead", "bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/os-interface", {"interfaceAttachment": {"net_id": "{nid}", "bogus": 1}}, "bogus"),
    ("POST", "/os-aggregates", {"aggregate": {"name": "a", "bogus": 1}}, "bogus"),
    ("POST", "/os-aggregates", {"aggregate": {"name": "a"}, "bogus": 1}, "bogus"),
    ("POST", "/os-aggregates", {"aggregate": {"availability_zone": "z"}}, "name"),
    ("PUT", "/os-aggregates/{aid}", {"aggregate": {"name": "x", "bogus": 1}}, "bogus"),
    ("PUT", "/os-aggregates/{aid}", {"aggregate": {"name": "x"}, "bogus": 1}, "bogus"),
    ("POST", "/os-aggregates/{aid}/action", {"add_host": {"host": "{host}", "bogus": 1}}, "bogus"),
    ("POST", "/os-aggregates/{aid}/action", {"add_host": {"host": "bad host!"}}, "host"),
    ("POST", "/os-aggregates/{aid}/action", {"remove_host": {"host": "{host}", "bogus": 1}}, "bogus"),
    ("POST", "/os-aggregates/{aid}/action", {"set_metadata": {"metadata": {"k": "v"}, "bogus": 1}}, "bogus"),
    ("POST", "/os-aggregates/{aid}/action", {"set_metadata": {"metadata": {"k": 5}}}, "k"),
    ("POST", "/os-aggregates/{aid}/action", {"set_metadata": {"metadata": "k=v"}}, "metadata"),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed", "server_uuid": "{sid}", "bogus": 1}]}, "bogus"),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed", "server_uuid": "{sid}"}], "bogus": 1}, "bogus"),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed", "server_uuid": "{sid}", "status": "bogus"}]}, "status"),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed", "server_uuid": "{sid}", "tag": "t" * 256}]}, "tag"),
    ("POST", "/os-server-external-events", {"events": [{"name": "network-changed"}]}, "server_uuid"),
    ("POST", "/os-server-external-events", {"events": [{"name": "bogus-event", "server_uuid": "{sid}"}]}, "name"),
    ("POST", "/os-server-external-events", {"events": []}, "events"),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"snapshot_id": "s", "type": "raw", "new_file": "f"}}}, "type"),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"snapshot_id": "s", "type": "qcow2", "new_file": "f", "bogus": 1}}}, "bogus"),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"type": "qcow2", "new_file": "f"}}}, "snapshot_id"),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "", "create_info": {"snapshot_id": "s", "type": "qcow2", "new_file": "f"}}}, "volume_id"),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"snapshot_id": "s", "type": "qcow2", "new_file": "f"}, "bogus": 1}}, "bogus"),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": {"snapshot_id": "s", "type": "qcow2", "new_file": "f"}}, "bogus": 1}, "bogus"),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "{dead}", "create_info": "qcow2"}}, "create_info"),
]

# (method, path, body, versions, statuses, field): answers that depend on
# the microversion. `field`, when given, must be named by the 400.
_EARLY = ["2.1", "2.42"]
_LATE = ["2.43", "2.75", "latest"]
VERSION_CASES = [
    # os-hosts: refused for what it carries up to 2.42, gone (404) after
    *[(m, p, b, _EARLY, {400}, f) for m, p, b, f in [
        ("PUT", "/os-hosts/{host}", {"status": "enable", "bogus": 1}, "bogus"),
        ("PUT", "/os-hosts/{host}", {"status": "on"}, "status"),
        ("PUT", "/os-hosts/{host}", {"maintenance_mode": "yes"}, "maintenance_mode"),
    ]],
    *[(m, p, b, _LATE, {404}, None) for m, p, b in [
        ("GET", "/os-hosts", None),
        ("GET", "/os-hosts/{host}", None),
        ("PUT", "/os-hosts/{host}", {"status": "enable"}),
        ("GET", "/os-hosts/{host}/reboot", None),
        ("GET", "/os-hosts/{host}/shutdown", None),
        ("GET", "/os-hosts/{host}/startup", None),
    ]],
    # the proxies and os-networks are gone from 2.36
    *[(m, p, b, _LATE, {404}, None) for m, p, b in [
        ("GET", "/os-networks", None),
        ("GET", "/os-floating-ips", None),
        ("GET", "/os-security-groups", None),
        ("GET", "/os-volumes", None),
        ("GET", "/os-snapshots", None),
        ("GET", "/images", None),
        ("GET", "/images/{iid}/metadata", None),
    ]],
    # os-migrations: paging and changes-since from 2.59 (strict from then),
    # changes-before from 2.66, user_id and project_id from 2.80
    *[(m, p, None, ["2.59", "2.65", "latest"], {400}, f) for m, p, f in [
        ("GET", "/os-migrations?limit=x", "limit"),
        ("GET", "/os-migrations?limit=-1", "limit"),
        ("GET", "/os-migrations?limit=1&limit=2", "limit"),
        ("GET", "/os-migrations?changes-since=yesterday", "changes-since"),
        ("GET", "/os-migrations?bogus=1", "bogus"),
    ]],
    ("GET", "/os-migrations?marker=nope", None, ["2.59", "latest"], {400}, "nope"),
    ("GET", "/os-migrations?changes-before=2020-01-01", None, ["2.59", "2.65"], {400}, "changes-before"),
    ("GET", "/os-migrations?changes-before=yesterday", None, ["2.66", "latest"], {400}, "changes-before"),
    ("GET", "/os-migrations?changes-since=2020-01-02T00:00:00Z&changes-before=2020-01-01T00:00:00Z",
     None, ["2.66", "latest"], {400}, None),
    ("GET", "/os-migrations?user_id=x", None, ["2.59", "2.79"], {400}, "user_id"),
    # os-instance_usage_audit_log and os-aggregates take no query from 2.102
    ("GET", "/os-instance_usage_audit_log?bogus=1", None, ["2.102", "latest"], {400}, "bogus"),
    ("GET", "/os-instance_usage_audit_log/2020-01-01?bogus=1", None, ["2.102", "latest"], {400},
     "bogus"),
    ("GET", "/os-aggregates?bogus=1", None, ["2.102", "latest"], {400}, "bogus"),
    ("GET", "/os-aggregates/{aid}?bogus=1", None, ["2.102", "latest"], {400}, "bogus"),
    # external events Nova does not know yet at that version
    ("POST", "/os-server-external-events", {"events": [{"name": "volume-extended", "server_uuid": "{sid}", "tag": "{dead}"}]},
     ["2.1", "2.50"], {400}, "name"),
    ("POST", "/os-server-external-events", {"events": [{"name": "power-update", "server_uuid": "{sid}", "tag": "POWER_ON"}]},
     ["2.1", "2.75"], {400}, "name"),
    ("POST", "/os-server-external-events", {"events": [{"name": "volume-reimaged", "server_uuid": "{sid}", "tag": "{dead}"}]},
     ["2.1", "2.92"], {400}, "name"),
    # query parameters of assisted snapshot deletes are strict from 2.75
    ("DELETE", "/os-assisted-volume-snapshots/{dead}?delete_info=%7B%7D&bogus=1", None, ["2.75", "latest"],
     {400}, "bogus"),
    # image caching on an aggregate is from 2.81
    ("POST", "/os-aggregates/{aid}/images", {"cache": [{"id": "{iid}"}]}, ["2.1", "2.80"], {404}, None),
    ("POST", "/os-aggregates/{aid}/images", {"cache": [{"id": "{iid}", "bogus": 1}]}, ["2.81", "latest"], {400}, "bogus"),
    ("POST", "/os-aggregates/{aid}/images", {"cache": [{"id": "{iid}"}], "bogus": 1}, ["2.81", "latest"], {400}, "bogus"),
    # a server's topology is from 2.78
    ("GET", "/servers/{sid}/topology", None, ["2.1", "2.77"], {404}, None),
    ("GET", "/servers/{dead}/topology", None, ["2.78", "latest"], {404}, None),
    # remote consoles from 2.6
    ("POST", "/servers/{sid}/remote-consoles", {"remote_console": {"protocol": "vnc", "type": "novnc"}},
     ["2.1", "2.5"], {404}, None),
    ("POST", "/servers/{sid}/remote-consoles", {"remote_console": {"protocol": "vnc", "type": "novnc", "bogus": 1}},
     ["2.6", "latest"], {400}, "bogus"),
]


def _check(st, r, label):
    if r.status_code >= 500:
        st["fives"].append(label)
    assert 400 <= r.status_code < 500, f"{label} -> {r.status_code}: {r.text[:300]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), (label, r.headers)
    body = r.json()
    ((key, inner),) = body.items()
    assert inner["code"] == r.status_code and inner["message"], (label, body)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@pytest.mark.parametrize("name,raw", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies(sweep, method, path, name, raw, version):
    path = _fill(path, sweep)
    r = sweep["nova"].req(method, path, data=raw,
                          headers=dict(_at(version), **{"Content-Type": "application/json"}))
    _check(sweep, r, f"{version} {method} {path} {name}")


def _send(st, method, path, body, version):
    kw = {"headers": _at(version)}
    if body is not None:
        kw["data"] = _fill(json.dumps(body), st).encode()
        kw["headers"]["Content-Type"] = "application/json"
    return st["nova"].req(method, _fill(path, st), **kw)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method,path,body", FIELD_CASES, ids=[f"{c[0]} {c[1]} #{i}" for i, c in enumerate(FIELD_CASES)])
def test_bad_fields(sweep, method, path, body, version):
    r = _send(sweep, method, path, body, version)
    _check(sweep, r, f"{version} {method} {path} {body}")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method,path,body,field", STRICT_CASES,
                         ids=[f"{c[0]} {c[1]} {c[3]} #{i}" for i, c in enumerate(STRICT_CASES)])
def test_schema_refusals(sweep, method, path, body, field, version):
    """What Nova's request schemas refuse is a 400 naming the field."""
    r = _send(sweep, method, path, body, version)
    _check(sweep, r, f"{version} {method} {path} {body}")
    assert r.status_code == 400, (version, body, r.text)
    assert field in r.json()["badRequest"]["message"], (version, body, r.text)


@pytest.mark.parametrize("method,path,body,version,expect,field", [
    (m, p, b, v, e, f) for m, p, b, vs, e, f in VERSION_CASES for v in vs],
    ids=[f"{v} {m} {p} #{i}" for i, (m, p, b, vs, e, f) in enumerate(VERSION_CASES) for v in vs])
def test_versioned_refusals(sweep, method, path, body, version, expect, field):
    """Refusals that depend on the microversion: routes gone at one, fields
    and query parameters Nova takes only from one."""
    r = _send(sweep, method, path, body, version)
    _check(sweep, r, f"{version} {method} {path} {body}")
    assert r.status_code in expect, (version, method, path, body, r.status_code, r.text)
    if field:
        assert field in next(iter(r.json().values()))["message"], (version, body, r.text)


@pytest.mark.parametrize("token", ["", "garbage", "gAAAAAB" + "x" * 100])
def test_bad_tokens(sweep, token):
    r = requests.get(sweep["srv"].url + "/compute/v2.1/servers", headers={"X-Auth-Token": token},
                     timeout=10)
    assert r.status_code == 401, r.text


def test_still_healthy_after_sweep(sweep):
    st = sweep
    srv = st["srv"]
    assert st["fives"] == []
    assert requests.get(srv.url + "/healthz", timeout=10).status_code == 200
    r = st["nova"].get(f"/servers/{st['sid']}")
    assert r.status_code == 200 and r.json()["server"]["status"] == "ACTIVE"
    assert st["nova"].get("/servers").json()["servers"][0]["id"] == st["sid"]
    # the sweep's refused requests changed nothing
    agg = st["nova"].get(f"/os-aggregates/{st['aid']}").json()["aggregate"]
    assert (agg["name"], agg["hosts"], agg["metadata"], agg["availability_zone"]) == \
        ("sweep-agg", [], {}, None), agg
    assert [a["name"] for a in st["nova"].get("/os-aggregates").json()["aggregates"]] == ["sweep-agg"]
    host = st["nova"].get(f"/os-hosts/{st['host']}", headers=_at("2.1"))
    assert host.status_code == 200, host.text
    svc = [s for s in st["nova"].get("/os-services").json()["services"]
           if s["binary"] == "nova-compute"]
    assert svc and all(s["status"] == "enabled" for s in svc), svc
    assert st["nova"].get(f"/images/{st['iid']}/metadata", headers=_at("2.1")).json() == \
        {"metadata": {}}
