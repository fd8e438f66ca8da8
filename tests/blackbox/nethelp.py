"""Helpers for the network (Neutron) black-box tests."""

import requests

from kshelp import Identity, uniq  # noqa: F401  (re-exported for the tests)


def assert_neutron_error(resp, status, type_=None):
    """A Neutron error document: {"NeutronError": {"type", "message", "detail"}}."""
    assert resp.status_code == status, f"{resp.status_code} != {status}: {resp.text[:500]}"
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    err = body["NeutronError"]
    assert set(err) == {"type", "message", "detail"}, err
    assert isinstance(err["message"], str) and err["message"], err
    if type_:
        assert err["type"] == type_, err
    return err


class Net:
    """A Neutron client with one token, on a server's /networking prefix."""

    def __init__(self, server, token, base=None):
        self.server = server
        self.token = token
        self.base = base or server.url + "/networking"

    def request(self, method, path, expect=None, **kw):
        headers = kw.pop("headers", {})
        if self.token:
            headers.setdefault("X-Auth-Token", self.token)
        r = requests.request(method, self.base + path, headers=headers, timeout=15, **kw)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text[:800]}"
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- shortcuts --------------------------------------------------------
    def create(self, kind, expect=201, **attrs):
        plural = {"security_group": "security-groups", "address_scope": "address-scopes",
                  "security_group_rule": "security-group-rules"}.get(kind, kind + "s")
        r = self.post(f"/v2.0/{plural}", json={kind: attrs}, expect=expect)
        return r.json()[kind] if expect == 201 else r

    def network(self, **attrs):
        attrs.setdefault("name", uniq("net"))
        return self.create("network", **attrs)

    def subnet(self, network_id, cidr, ip_version=4, **attrs):
        return self.create("subnet", network_id=network_id, cidr=cidr,
                           ip_version=ip_version, **attrs)


def admin_net(server):
    return Net(server, server.admin_token())


def project_user(server, role="member"):
    """(Net client, project) for a new user with `role` on a new project."""
    ks = Identity(server, server.admin_token())
    _, project, tok = ks.user_with_role(role)
    return Net(server, tok), project


def external_network(admin, cidr="172.24.4.0/24"):
    net = admin.network(**{"router:external": True})
    sub = admin.subnet(net["id"], cidr, enable_dhcp=False)
    return net, sub
