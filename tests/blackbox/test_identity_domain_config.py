"""Domain-specific configuration (/v3/domains/{id}/config and
/v3/domains/config/default) on the wire and through python-keystoneclient:
what may be set (identity and ldap groups), sensitive options kept but never
shown, partial updates and deletes, Keystone's 403/404/400 answers, the
security_compliance group. Both database backends."""

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client as ks_client

from kshelp import Identity, assert_keystone_error, password_auth, project_scope, uniq

CONFIG = {
    "identity": {"driver": "ldap"},
    "ldap": {"url": "ldap://myldap.com:389/", "user_tree_dn": "ou=Users,dc=root,dc=org"},
}


@pytest.fixture
def env(server):
    admin = Identity(server, server.admin_token())
    domain = admin.post("/v3/domains", json={"domain": {"name": uniq("dom")}},
                        expect=201).json()["domain"]
    return server, admin, domain


def cfg_path(domain, *parts):
    return "/".join([f"/v3/domains/{domain['id']}/config", *parts])


def test_create_show_update_delete(env):
    _, a, d = env
    a.get(cfg_path(d), expect=404)
    r = a.put(cfg_path(d), json={"config": CONFIG}, expect=201)
    assert r.json() == {"config": CONFIG}
    assert a.get(cfg_path(d), expect=200).json() == {"config": CONFIG}
    assert a.get(cfg_path(d, "ldap"), expect=200).json() == {"config": {"ldap": CONFIG["ldap"]}}
    assert a.get(cfg_path(d, "ldap", "url"), expect=200).json() == {
        "config": {"url": "ldap://myldap.com:389/"}}

    # A second PUT replaces everything and answers 200.
    new = {"ldap": {"url": "ldap://other:389/", "page_size": 5, "use_tls": True}}
    r = a.put(cfg_path(d), json={"config": new}, expect=200)
    assert r.json() == {"config": new}
    a.get(cfg_path(d, "identity"), expect=404)

    # PATCH of the whole config merges; JSON types survive.
    r = a.patch(cfg_path(d), json={"config": {"identity": {"list_limit": 7}}}, expect=200)
    assert r.json()["config"] == {**new, "identity": {"list_limit": 7}}
    # PATCH of a group: that group only, and it must be set already.
    r = a.patch(cfg_path(d, "identity"), json={"config": {"identity": {"driver": "sql"}}},
                expect=200)
    assert r.json()["config"]["identity"] == {"list_limit": 7, "driver": "sql"}
    # PATCH of an option: the body names just that option.
    r = a.patch(cfg_path(d, "ldap", "url"), json={"config": {"url": "ldap://x/"}}, expect=200)
    assert r.json()["config"]["ldap"]["url"] == "ldap://x/"

    # DELETE an option, a group, everything.
    a.delete(cfg_path(d, "identity", "driver"), expect=204)
    err = assert_keystone_error(a.get(cfg_path(d, "identity", "driver")), 404)
    assert err["message"] == (f"Could not find option driver in group identity in domain "
                              f"configuration for domain {d['id']}.")
    assert_keystone_error(a.delete(cfg_path(d, "identity", "driver")), 404)
    a.delete(cfg_path(d, "identity"), expect=204)
    err = assert_keystone_error(a.get(cfg_path(d, "identity")), 404)
    assert err["message"] == (f"Could not find group identity in domain configuration for "
                              f"domain {d['id']}.")
    a.delete(cfg_path(d), expect=204)
    err = assert_keystone_error(a.get(cfg_path(d)), 404)
    assert err["message"] == (f"Could not find any options in domain configuration for domain "
                              f"{d['id']}.")


def test_sensitive_option_is_kept_but_never_shown(env):
    _, a, d = env
    conf = {"ldap": {"url": "ldap://h/", "password": "s3cret"}}
    r = a.put(cfg_path(d), json={"config": conf}, expect=201)
    assert r.json() == {"config": {"ldap": {"url": "ldap://h/"}}}
    assert "s3cret" not in a.get(cfg_path(d), expect=200).text
    assert_keystone_error(a.get(cfg_path(d, "ldap", "password")), 404)
    # It is there: it can be updated and deleted as an option.
    r = a.patch(cfg_path(d, "ldap", "password"), json={"config": {"password": "n3w"}},
                expect=200)
    assert "n3w" not in r.text and r.json()["config"] == {"ldap": {"url": "ldap://h/"}}
    a.delete(cfg_path(d, "ldap", "password"), expect=204)
    assert_keystone_error(a.delete(cfg_path(d, "ldap", "password")), 404)
    # Reading its default is refused.
    err = assert_keystone_error(a.get("/v3/domains/config/ldap/password/default"), 403)
    assert "password" in err["message"]


@pytest.mark.parametrize("body,why", [
    ({"config": {}}, "No options specified"),
    ({}, "No options specified"),
    ({"config": {"ldap": {}}}, "The value of group ldap specified in the config should be a "
                               "dictionary of options"),
    ({"config": {"ldap": "ldap://h/"}}, "should be a dictionary of options"),
    ({"config": {"assignment": {"driver": "sql"}}},
     "Group assignment is not supported for domain specific configurations"),
    ({"config": {"ldap": {"nope": 1}}},
     "Option nope in group ldap is not supported for domain specific configurations"),
])
def test_invalid_config_is_403(env, body, why):
    _, a, d = env
    err = assert_keystone_error(a.put(cfg_path(d), json=body), 403)
    assert err["message"].startswith("Invalid domain specific configuration: ")
    assert why in err["message"]
    # Nothing was stored.
    a.get(cfg_path(d), expect=404)


def test_partial_update_rules_and_bad_input(env):
    _, a, d = env
    a.put(cfg_path(d), json={"config": CONFIG}, expect=201)
    # The group in the URL must be the one (and only one) in the body.
    err = assert_keystone_error(
        a.patch(cfg_path(d, "ldap"), json={"config": {"identity": {"driver": "x"}}}), 403)
    assert "request to update group ldap" in err["message"]
    assert_keystone_error(a.patch(cfg_path(d, "ldap"), json={"config": CONFIG}), 403)
    err = assert_keystone_error(
        a.patch(cfg_path(d, "ldap", "url"), json={"config": {"suffix": "x"}}), 403)
    assert "Trying to update option url in group ldap" in err["message"]
    # Updating a group or option not yet set is 404.
    a.delete(cfg_path(d, "identity"), expect=204)
    assert_keystone_error(
        a.patch(cfg_path(d, "identity"), json={"config": {"identity": {"driver": "x"}}}), 404)
    assert_keystone_error(
        a.patch(cfg_path(d, "ldap", "suffix"), json={"config": {"suffix": "x"}}), 404)
    # Unsupported group/option in a URL: 403.
    assert_keystone_error(a.get(cfg_path(d, "assignment")), 403)
    assert_keystone_error(a.get(cfg_path(d, "ldap", "nope")), 403)
    assert_keystone_error(a.delete(cfg_path(d, "ldap", "nope")), 403)
    # Not an object / not JSON: 400 naming the field.
    err = assert_keystone_error(a.put(cfg_path(d), json={"config": ["ldap"]}), 400)
    assert "'config'" in err["message"]
    assert_keystone_error(a.put(cfg_path(d), data="{", headers={
        "Content-Type": "application/json"}), 400)
    # The stored config is unchanged by all of that.
    assert a.get(cfg_path(d), expect=200).json() == {"config": {"ldap": CONFIG["ldap"]}}


def test_unknown_domain_and_policy(env):
    server, a, d = env
    assert_keystone_error(a.get("/v3/domains/nope/config"), 404)
    assert_keystone_error(a.put("/v3/domains/nope/config", json={"config": CONFIG}), 404)
    assert_keystone_error(a.patch("/v3/domains/nope/config", json={"config": CONFIG}), 404)
    assert_keystone_error(a.delete("/v3/domains/nope/config"), 404)
    # A member may not read or write domain configs, nor read defaults.
    _, _, tok = a.user_with_role("member")
    assert_keystone_error(a.get(cfg_path(d), token=tok), 403)
    assert_keystone_error(a.put(cfg_path(d), json={"config": CONFIG}, token=tok), 403)
    assert_keystone_error(a.get("/v3/domains/config/default", token=tok), 403)
    assert_keystone_error(a.get(cfg_path(d), token=None), 401)
    # Deleting the domain takes its config along.
    a.put(cfg_path(d), json={"config": CONFIG}, expect=201)
    a.patch(f"/v3/domains/{d['id']}", json={"domain": {"enabled": False}}, expect=200)
    a.delete(f"/v3/domains/{d['id']}", expect=204)
    again = a.post("/v3/domains", json={"domain": {"id": d["id"], "name": uniq("dom")}},
                   expect=201).json()["domain"]
    assert again["id"] == d["id"]
    a.get(cfg_path(d), expect=404)


def test_defaults(env):
    _, a, _ = env
    conf = a.get("/v3/domains/config/default", expect=200).json()["config"]
    assert set(conf) == {"identity", "ldap"}
    assert conf["identity"] == {"driver": "sql", "list_limit": None}
    assert conf["ldap"]["url"] == "ldap://localhost" and conf["ldap"]["user_tree_dn"] is None
    assert "password" not in conf["ldap"]
    assert a.get("/v3/domains/config/ldap/default", expect=200).json()["config"] == {
        "ldap": conf["ldap"]}
    assert a.get("/v3/domains/config/ldap/pool_size/default",
                 expect=200).json() == {"config": {"pool_size": 10}}
    assert_keystone_error(a.get("/v3/domains/config/assignment/default"), 403)
    assert_keystone_error(a.get("/v3/domains/config/ldap/nope/default"), 403)


def test_security_compliance_group(env):
    server, a, d = env
    # Any authenticated caller may read the default domain's password rules.
    _, _, tok = a.user_with_role("member")
    r = a.get("/v3/domains/default/config/security_compliance", token=tok, expect=200)
    assert r.json() == {"config": {"security_compliance": {
        "password_regex": None, "password_regex_description": None}}}
    r = a.get("/v3/domains/default/config/security_compliance/password_regex", token=tok,
              expect=200)
    assert r.json() == {"config": {"password_regex": None}}
    assert_keystone_error(a.get(
        "/v3/domains/default/config/security_compliance/lockout_duration", token=tok), 403)
    assert_keystone_error(a.get(cfg_path(d, "security_compliance"), token=tok), 403)


def test_keystoneclient(env):
    server, a, d = env
    auth = v3.Password(auth_url=server.identity_url, username="admin",
                       password=server.admin_password, user_domain_id="default",
                       project_name="admin", project_domain_id="default")
    kc = ks_client.Client(session=ks_session.Session(auth=auth))
    created = kc.domain_configs.create(d["id"], CONFIG)
    assert created.to_dict() == CONFIG
    assert kc.domain_configs.get(d["id"]).to_dict() == CONFIG
    updated = kc.domain_configs.update(d["id"], {"ldap": {"url": "ldap://kc/"}})
    assert updated.to_dict()["ldap"]["url"] == "ldap://kc/"
    kc.domain_configs.delete(d["id"])
    a.get(cfg_path(d), expect=404)
