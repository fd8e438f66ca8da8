"""Bad-input sweep over the Identity API.

Every case is generated from ROUTES below: malformed JSON, JSON that is not
an object, missing required fields, wrong-typed fields, unknown ids, oversized
bodies and missing/garbage/revoked tokens. Each answer must be a 4xx with
Keystone's error document ({"error": {"code", "message", "title"}}), never a
5xx, and the server must still be healthy afterwards.

Routes whose refusals depend on state (trusts, application credentials and
their access rules, domain configuration, signed OAuth1 requests) have
hand-written cases after the generated ones.

One server per backend is shared by the whole module (a few hundred requests
against fresh servers would be slow); the sweep only sends requests that must
be refused, so the shared state does not drift (the last test checks it).
"""

import base64
import json
import os
import struct
import time

import pytest
import requests

import ferro
from kshelp import Identity, assert_keystone_error, password_auth, project_scope, uniq

UNKNOWN = "f" * 8 + "0" * 24          # a well-formed id nothing has
BIG = 2 * 1024 * 1024                 # over the 1 MiB limit


# ---------------------------------------------------------------------------
# the route table
# ---------------------------------------------------------------------------
# kind of each body field: "str" (non-null string), "nstr" (string, null allowed),
# "bool", "list" (list of strings), "id" (an id string).

class Route:
    def __init__(self, method, path, *, wrapper=None, fields=None, required=(), valid=None,
                 auth="admin", unknown=None, unknown_ok=None, no_unknown=(), refuse=(400,),
                 extra_wrong=None, empty_ok=None, min_props=None, strict_top=False):
        self.method = method
        self.path = path
        self.wrapper = wrapper          # top-level key of the body, e.g. "user"
        self.fields = fields or {}
        self.required = tuple(required)
        self.valid = valid              # a valid body (callable(state) or dict) for unknown-id cases
        self.auth = auth                # "admin" | "user" | "none"
        self.unknown_ok = unknown_ok or {404}
        self.no_unknown = set(no_unknown)  # path params not to replace by an unknown id
        # the answers a well-formed JSON object the route refuses may get
        # (Keystone's domain configuration refuses with 403)
        self.refuse = tuple(refuse)
        # more wrong values for this route's fields, {field: [(name, value)]};
        # a field named here but not in `fields` is one the route does not take
        self.extra_wrong = extra_wrong or {}
        # whether an empty body may be accepted (default: a wrapped POST/PUT
        # without required fields)
        self.empty_ok = empty_ok
        # the body may hold nothing but the wrapper ({"user": {...}, "x": 1}
        # is refused, as Keystone's newer request schemas)
        self.strict_top = strict_top
        # an update must change something ({"user": {}} is refused)
        self.min_props = method == "PATCH" and wrapper is not None if min_props is None \
            else min_props

    @property
    def has_body(self):
        return self.valid is not None

    def params(self):
        out, rest = [], self.path
        while "{" in rest:
            start = rest.index("{")
            end = rest.index("}", start)
            out.append(rest[start + 1:end])
            rest = rest[end + 1:]
        return out

    def label(self):
        return f"{self.method} {self.path}"


S = "str"
N = "nstr"
B = "bool"
NB = "nbool"     # boolean or null
L = "list"
I = "id"
O = "obj"        # an object
U1 = "uses"      # integer >= 1 or null
U0 = "count"     # integer >= 0 or null
RL = "roles"     # [{"id": ...} or {"name": ...}]
AR = "rules"     # application credential access rules

# user options Keystone refuses: unknown ones, booleans that are not
# booleans, multi-factor rules that are not a list of distinct non-empty
# lists of distinct strings
BAD_USER_OPTIONS = [
    ("unknown", {"bogus": True}),
    ("lock_password=str", {"lock_password": "true"}),
    ("ignore_password_expiry=int", {"ignore_password_expiry": 1}),
    ("ignore_lockout_failure_attempts=list", {"ignore_lockout_failure_attempts": [True]}),
    ("ignore_change_password_upon_first_use=obj", {"ignore_change_password_upon_first_use": {}}),
    ("ignore_user_inactivity=str", {"ignore_user_inactivity": "no"}),
    ("multi_factor_auth_enabled=str", {"multi_factor_auth_enabled": "yes"}),
    ("mfa rules=str", {"multi_factor_auth_rules": "password"}),
    ("mfa rules flat", {"multi_factor_auth_rules": ["password", "totp"]}),
    ("mfa rules empty rule", {"multi_factor_auth_rules": [[]]}),
    ("mfa rules repeated rule", {"multi_factor_auth_rules": [["password"], ["password"]]}),
    ("mfa rules repeated method", {"multi_factor_auth_rules": [["password", "password"]]}),
    ("mfa rules int method", {"multi_factor_auth_rules": [[1]]}),
    ("mfa rules obj", {"multi_factor_auth_rules": {"password": True}}),
    ("mfa rules=bool", {"multi_factor_auth_rules": True}),
    ("one good one bad", {"lock_password": True, "bogus": False}),
]

# endpoint group filters Keystone refuses
BAD_FILTERS = [("unknown key", {"bogus": "x"}), ("interface enum", {"interface": "sideways"}),
               ("interface=int", {"interface": 1}), ("service_id=int", {"service_id": 5}),
               ("region_id=list", {"region_id": ["r"]})]

# domain configurations Keystone refuses (groups and options it does not
# take, groups that are not objects of options)
CONFIG_WRONG = {
    "ldap": [("empty", {}), ("unknown option", {"bogus": "x"}),
             ("url and unknown", {"url": "ldap://x", "bogus": "x"})],
    "identity": [("unknown option", {"password_regex": ".*"})],
    "bogus": [("unknown group", {"url": "ldap://x"})],
    "security_compliance": [("read-only group", {"password_regex": ".*"})],
}

ROUTES = [
    # --- auth ---------------------------------------------------------------
    Route("GET", "/v3/auth/catalog"),
    Route("GET", "/v3/auth/projects"),
    Route("GET", "/v3/auth/domains"),
    Route("GET", "/v3/auth/system"),
    Route("GET", "/v3/auth/tokens"),
    Route("HEAD", "/v3/auth/tokens"),
    # (DELETE /v3/auth/tokens and POST /v3/auth/tokens have their own cases below)
    # --- domains ------------------------------------------------------------
    Route("GET", "/v3/domains"),
    Route("POST", "/v3/domains", wrapper="domain", strict_top=True,
          fields={"name": S, "description": N, "enabled": B}, required=["name"],
          valid=lambda st: {"domain": {"name": uniq("d")}}),
    Route("GET", "/v3/domains/{domain_id}"),
    Route("PATCH", "/v3/domains/{domain_id}", wrapper="domain", strict_top=True,
          fields={"name": S, "description": N, "enabled": B},
          valid=lambda st: {"domain": {"description": "x"}}),
    Route("DELETE", "/v3/domains/{domain_id}"),
    # --- projects -----------------------------------------------------------
    Route("GET", "/v3/projects"),
    Route("POST", "/v3/projects", wrapper="project", strict_top=True,
          fields={"name": S, "description": N, "enabled": B, "domain_id": I, "is_domain": B,
                  "parent_id": I, "tags": L},
          required=["name"], valid=lambda st: {"project": {"name": uniq("p")}}),
    Route("GET", "/v3/projects/{project_id}"),
    Route("PATCH", "/v3/projects/{project_id}", wrapper="project", strict_top=True,
          fields={"name": S, "description": N, "enabled": B, "tags": L},
          valid=lambda st: {"project": {"description": "x"}}),
    Route("DELETE", "/v3/projects/{project_id}"),
    Route("GET", "/v3/projects/{project_id}/tags"),
    Route("PUT", "/v3/projects/{project_id}/tags", valid=lambda st: {"tags": ["a"]}),
    Route("DELETE", "/v3/projects/{project_id}/tags"),
    Route("GET", "/v3/projects/{project_id}/tags/{tag}"),
    Route("PUT", "/v3/projects/{project_id}/tags/{tag}", no_unknown=["tag"]),
    Route("DELETE", "/v3/projects/{project_id}/tags/{tag}"),
    # --- users --------------------------------------------------------------
    Route("GET", "/v3/users"),
    Route("POST", "/v3/users", wrapper="user", strict_top=True,
          fields={"name": S, "domain_id": I, "password": N, "enabled": B,
                  "default_project_id": I, "description": N, "options": O},
          required=["name"], valid=lambda st: {"user": {"name": uniq("u")}},
          extra_wrong={"options": BAD_USER_OPTIONS}),
    Route("GET", "/v3/users/{user_id}"),
    Route("PATCH", "/v3/users/{user_id}", wrapper="user", strict_top=True,
          fields={"name": S, "password": N, "enabled": B, "description": N, "options": O},
          valid=lambda st: {"user": {"description": "x"}},
          extra_wrong={"options": BAD_USER_OPTIONS}),
    Route("DELETE", "/v3/users/{user_id}"),
    Route("POST", "/v3/users/{user_id}/password", wrapper="user", auth="user",
          fields={"password": N, "original_password": S},
          required=["password", "original_password"],
          valid=lambda st: {"user": {"password": "x-new", "original_password": "x-old"}},
          unknown_ok={401, 403, 404}, extra_wrong={"bogus": [("any", 1)]}),
    Route("GET", "/v3/users/{user_id}/groups"),
    Route("GET", "/v3/users/{user_id}/projects", unknown_ok={200, 404}),
    Route("GET", "/v3/users/{user_id}/application_credentials", auth="user",
          unknown_ok={200, 403, 404}),
    Route("POST", "/v3/users/{user_id}/application_credentials", auth="user",
          wrapper="application_credential", strict_top=True,
          fields={"name": S, "description": N, "secret": N, "unrestricted": NB, "expires_at": N,
                  "roles": RL, "access_rules": AR},
          required=["name"], valid=lambda st: {"application_credential": {"name": uniq("ac")}},
          unknown_ok={403, 404}, extra_wrong={"bogus": [("any", 1)]}),
    Route("GET", "/v3/users/{user_id}/application_credentials/{app_cred_id}", auth="user",
          unknown_ok={403, 404}),
    Route("DELETE", "/v3/users/{user_id}/application_credentials/{app_cred_id}", auth="user",
          unknown_ok={403, 404}),
    # --- groups -------------------------------------------------------------
    Route("GET", "/v3/groups"),
    Route("POST", "/v3/groups", wrapper="group", strict_top=True,
          fields={"name": S, "description": N, "domain_id": I}, required=["name"],
          valid=lambda st: {"group": {"name": uniq("g")}}),
    Route("GET", "/v3/groups/{group_id}"),
    Route("PATCH", "/v3/groups/{group_id}", wrapper="group", strict_top=True,
          fields={"name": S, "description": N},
          valid=lambda st: {"group": {"description": "x"}}),
    Route("DELETE", "/v3/groups/{group_id}"),
    Route("GET", "/v3/groups/{group_id}/users"),
    Route("PUT", "/v3/groups/{group_id}/users/{user_id}"),
    Route("HEAD", "/v3/groups/{group_id}/users/{user_id}"),
    Route("DELETE", "/v3/groups/{group_id}/users/{user_id}"),
    # --- roles and implied roles --------------------------------------------
    Route("GET", "/v3/roles"),
    Route("POST", "/v3/roles", wrapper="role", strict_top=True, fields={"name": S, "description": N},
          required=["name"], valid=lambda st: {"role": {"name": uniq("r")}}),
    Route("GET", "/v3/roles/{role_id}"),
    Route("PATCH", "/v3/roles/{role_id}", wrapper="role", strict_top=True, fields={"name": S, "description": N},
          valid=lambda st: {"role": {"description": "x"}}),
    Route("DELETE", "/v3/roles/{role_id}"),
    Route("GET", "/v3/roles/{prior_role_id}/implies"),
    Route("PUT", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    Route("GET", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    Route("HEAD", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    Route("DELETE", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    Route("GET", "/v3/role_inferences"),
    # --- role assignments ---------------------------------------------------
    Route("GET", "/v3/role_assignments"),
    Route("GET", "/v3/projects/{project_id}/users/{user_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    Route("HEAD", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    Route("DELETE", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    Route("GET", "/v3/projects/{project_id}/groups/{group_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}"),
    Route("HEAD", "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}"),
    Route("DELETE", "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}"),
    Route("GET", "/v3/domains/{domain_id}/users/{user_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}"),
    Route("HEAD", "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}"),
    Route("DELETE", "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}"),
    Route("GET", "/v3/domains/{domain_id}/groups/{group_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}"),
    Route("HEAD", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}"),
    Route("DELETE", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}"),
    Route("GET", "/v3/system/users/{user_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/system/users/{user_id}/roles/{role_id}"),
    Route("HEAD", "/v3/system/users/{user_id}/roles/{role_id}"),
    Route("DELETE", "/v3/system/users/{user_id}/roles/{role_id}"),
    Route("GET", "/v3/system/groups/{group_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/system/groups/{group_id}/roles/{role_id}"),
    Route("HEAD", "/v3/system/groups/{group_id}/roles/{role_id}"),
    Route("DELETE", "/v3/system/groups/{group_id}/roles/{role_id}"),
    # --- regions ------------------------------------------------------------
    Route("GET", "/v3/regions"),
    Route("POST", "/v3/regions", wrapper="region",
          fields={"id": S, "description": N, "parent_region_id": I},
          valid=lambda st: {"region": {"id": uniq("R")}}),
    Route("PUT", "/v3/regions/{new_region_id}", wrapper="region",
          fields={"description": N, "parent_region_id": I},
          valid=lambda st: {"region": {"description": "x"}}, no_unknown=["new_region_id"]),
    Route("GET", "/v3/regions/{region_id}"),
    Route("PATCH", "/v3/regions/{region_id}", wrapper="region", strict_top=True,
          fields={"description": N, "parent_region_id": I},
          valid=lambda st: {"region": {"description": "x"}}),
    Route("DELETE", "/v3/regions/{region_id}"),
    # --- services -----------------------------------------------------------
    Route("GET", "/v3/services"),
    Route("POST", "/v3/services", wrapper="service",
          fields={"type": S, "name": S, "description": N, "enabled": B}, required=["type"],
          valid=lambda st: {"service": {"type": "t-" + uniq("s")}}),
    Route("GET", "/v3/services/{service_id}"),
    Route("PATCH", "/v3/services/{service_id}", wrapper="service",
          fields={"type": S, "name": S, "description": N, "enabled": B},
          valid=lambda st: {"service": {"description": "x"}}),
    Route("DELETE", "/v3/services/{service_id}"),
    # --- endpoints ----------------------------------------------------------
    Route("GET", "/v3/endpoints"),
    Route("POST", "/v3/endpoints", wrapper="endpoint", strict_top=True,
          fields={"service_id": I, "interface": S, "url": S, "region_id": I, "enabled": B},
          required=["service_id", "interface", "url"],
          valid=lambda st: {"endpoint": {"service_id": st["service_id"], "interface": "public",
                                         "url": "http://127.0.0.1:9/x"}}),
    Route("GET", "/v3/endpoints/{endpoint_id}"),
    Route("PATCH", "/v3/endpoints/{endpoint_id}", wrapper="endpoint", strict_top=True,
          fields={"interface": S, "url": S, "enabled": B, "service_id": I},
          valid=lambda st: {"endpoint": {"url": "http://127.0.0.1:9/y"}}),
    Route("DELETE", "/v3/endpoints/{endpoint_id}"),
    # --- credentials --------------------------------------------------------
    Route("GET", "/v3/credentials"),
    Route("POST", "/v3/credentials", wrapper="credential",
          fields={"type": S, "user_id": I, "blob": S, "project_id": I},
          required=["type", "user_id", "blob"],
          valid=lambda st: {"credential": {"type": "cert", "user_id": st["user_id"],
                                           "blob": "b-" + uniq("c")}}),
    Route("GET", "/v3/credentials/{credential_id}"),
    Route("PATCH", "/v3/credentials/{credential_id}", wrapper="credential",
          fields={"type": S, "blob": S, "user_id": I},
          valid=lambda st: {"credential": {"blob": "changed"}}),
    Route("DELETE", "/v3/credentials/{credential_id}"),
    # --- EC2 credentials (OS-EC2) -------------------------------------------
    Route("GET", "/v3/users/{user_id}/credentials/OS-EC2"),
    # (upstream looks the missing tenant up as a project: 404)
    Route("POST", "/v3/users/{user_id}/credentials/OS-EC2", refuse=(400, 404),
          valid=lambda st: {"tenant_id": st["project_id"]}),
    Route("GET", "/v3/users/{user_id}/credentials/OS-EC2/{ec2_access}"),
    Route("DELETE", "/v3/users/{user_id}/credentials/OS-EC2/{ec2_access}"),
    # --- inherited grants (OS-INHERIT) --------------------------------------
    *[Route(method, f"/v3/OS-INHERIT/{target}/{actor}/roles/{{role_id}}/inherited_to_projects")
      for target in ("projects/{project_id}", "domains/{domain_id}")
      for actor in ("users/{user_id}", "groups/{group_id}")
      for method in ("PUT", "HEAD", "GET", "DELETE")],
    *[Route("GET", f"/v3/OS-INHERIT/{target}/{actor}/roles/inherited_to_projects",
            unknown_ok={200, 404})
      for target in ("projects/{project_id}", "domains/{domain_id}")
      for actor in ("users/{user_id}", "groups/{group_id}")],
    # --- policies -----------------------------------------------------------
    Route("GET", "/v3/policies"),
    Route("POST", "/v3/policies", wrapper="policy", fields={"blob": S, "type": S},
          required=["blob", "type"],
          valid=lambda st: {"policy": {"blob": "{}", "type": "application/json"}}),
    Route("GET", "/v3/policies/{policy_id}"),
    Route("PATCH", "/v3/policies/{policy_id}", wrapper="policy", fields={"blob": S, "type": S},
          valid=lambda st: {"policy": {"blob": "{}"}}),
    Route("DELETE", "/v3/policies/{policy_id}"),
    # --- endpoint groups (OS-EP-FILTER) -------------------------------------
    Route("GET", "/v3/OS-EP-FILTER/endpoint_groups"),
    Route("POST", "/v3/OS-EP-FILTER/endpoint_groups", wrapper="endpoint_group", strict_top=True,
          fields={"name": S, "description": N, "filters": O}, required=["name", "filters"],
          valid=lambda st: {"endpoint_group": {"name": uniq("eg"),
                                               "filters": {"interface": "public"}}},
          extra_wrong={"filters": BAD_FILTERS, "bogus": [("any", 1)]}),
    Route("GET", "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}"),
    Route("PATCH", "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}",
          wrapper="endpoint_group", fields={"name": S, "description": N, "filters": O},
          valid=lambda st: {"endpoint_group": {"description": "x"}}, strict_top=True,
          extra_wrong={"filters": BAD_FILTERS, "bogus": [("any", 1)]}),
    Route("DELETE", "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}"),
    # --- OAuth1 consumers (OS-OAUTH1) ---------------------------------------
    Route("GET", "/v3/OS-OAUTH1/consumers"),
    # (a create without "consumer" makes an empty one, as upstream)
    Route("POST", "/v3/OS-OAUTH1/consumers", wrapper="consumer", fields={"description": N},
          valid=lambda st: {"consumer": {"description": "x"}}),
    Route("GET", "/v3/OS-OAUTH1/consumers/{consumer_id}"),
    Route("PATCH", "/v3/OS-OAUTH1/consumers/{consumer_id}", wrapper="consumer",
          fields={"description": N}, valid=lambda st: {"consumer": {"description": "x"}},
          extra_wrong={"secret": [("set", "s3cret")], "id": [("other", UNKNOWN)]}),
    Route("DELETE", "/v3/OS-OAUTH1/consumers/{consumer_id}"),
    # --- trusts (OS-TRUST) --------------------------------------------------
    Route("GET", "/v3/OS-TRUST/trusts"),
    Route("POST", "/v3/OS-TRUST/trusts", wrapper="trust", auth="user", strict_top=True,
          fields={"trustor_user_id": S, "trustee_user_id": S, "impersonation": B,
                  "project_id": N, "expires_at": N, "remaining_uses": U1,
                  "allow_redelegation": NB, "redelegation_count": U0,
                  "redelegated_trust_id": N, "roles": RL},
          required=["trustor_user_id", "trustee_user_id", "impersonation"],
          valid=lambda st: {"trust": {"trustor_user_id": st["user_id"],
                                      "trustee_user_id": st["admin_user_id"],
                                      "impersonation": False, "project_id": st["project_id"],
                                      "roles": [{"name": "member"}]}}),
    Route("GET", "/v3/OS-TRUST/trusts/{trust_id}"),
    Route("DELETE", "/v3/OS-TRUST/trusts/{trust_id}"),
    Route("GET", "/v3/OS-TRUST/trusts/{trust_id}/roles"),
    Route("GET", "/v3/OS-TRUST/trusts/{trust_id}/roles/{trust_role_id}"),
    # --- application credential access rules --------------------------------
    Route("GET", "/v3/users/{user_id}/access_rules", auth="user", unknown_ok={200, 403, 404}),
    Route("GET", "/v3/users/{user_id}/access_rules/{access_rule_id}", auth="user",
          unknown_ok={403, 404}),
    Route("DELETE", "/v3/users/{user_id}/access_rules/{access_rule_id}", auth="user",
          unknown_ok={403, 404}),
    # --- domain-specific configuration --------------------------------------
    # (Keystone refuses a configuration it does not take with 403,
    # InvalidDomainConfig; the sweep domain has an ldap group set)
    Route("GET", "/v3/domains/{domain_id}/config"),
    *[Route(method, "/v3/domains/{domain_id}/config", wrapper="config", refuse=(400, 403),
            fields={"ldap": O, "identity": O}, empty_ok=False,
            valid=lambda st: {"config": {"ldap": {"url": "ldap://sweep.invalid"}}},
            extra_wrong=CONFIG_WRONG)
      for method in ("PUT", "PATCH")],
    Route("DELETE", "/v3/domains/{domain_id}/config"),
    Route("GET", "/v3/domains/{domain_id}/config/{cfg_group}", no_unknown=["cfg_group"]),
    Route("PATCH", "/v3/domains/{domain_id}/config/{cfg_group}", wrapper="config",
          refuse=(400, 403), fields={"ldap": O}, empty_ok=False, no_unknown=["cfg_group"],
          valid=lambda st: {"config": {"ldap": {"url": "ldap://sweep.invalid"}}},
          extra_wrong={"ldap": CONFIG_WRONG["ldap"], "identity": [("other group", {"driver": "sql"})]}),
    Route("DELETE", "/v3/domains/{domain_id}/config/{cfg_group}", no_unknown=["cfg_group"]),
    Route("GET", "/v3/domains/{domain_id}/config/{cfg_group}/{cfg_option}",
          no_unknown=["cfg_group", "cfg_option"]),
    Route("PATCH", "/v3/domains/{domain_id}/config/{cfg_group}/{cfg_option}", wrapper="config",
          refuse=(400, 403), empty_ok=False, no_unknown=["cfg_group", "cfg_option"],
          valid=lambda st: {"config": {"url": "ldap://sweep.invalid"}},
          extra_wrong={"user": [("other option", "cn=x")], "bogus": [("unknown option", "x")]}),
    Route("DELETE", "/v3/domains/{domain_id}/config/{cfg_group}/{cfg_option}",
          no_unknown=["cfg_group", "cfg_option"]),
    Route("GET", "/v3/domains/config/default"),
    Route("GET", "/v3/domains/config/{cfg_group}/default", no_unknown=["cfg_group"]),
    Route("GET", "/v3/domains/config/{cfg_group}/{cfg_option}/default",
          no_unknown=["cfg_group", "cfg_option"]),
]

# wrong values for each field kind (all must be refused with 400)
WRONG = {
    S: [("int", 123), ("list", ["a"]), ("obj", {"a": 1}), ("null", None), ("bool", True)],
    N: [("int", 123), ("list", ["a"]), ("obj", {"a": 1}), ("bool", True)],
    B: [("str", "yes"), ("strtrue", "true"), ("int", 1), ("null", None), ("list", [True])],
    L: [("str", "a"), ("ints", [1, 2]), ("obj", {"a": "b"}), ("nested", [["a"]])],
    I: [("int", 123), ("list", ["a"]), ("obj", {"id": "x"}), ("bool", False)],
    NB: [("str", "yes"), ("strtrue", "true"), ("int", 1), ("list", [True]), ("obj", {})],
    O: [("str", "x"), ("list", []), ("int", 1), ("bool", True), ("null", None)],
    U1: [("str", "1"), ("float", 1.5), ("zero", 0), ("neg", -1), ("bool", True), ("list", [1])],
    U0: [("str", "0"), ("float", 0.5), ("neg", -1), ("bool", False), ("obj", {})],
    # roles as trusts and application credentials take them: a list of
    # objects each with exactly one of a well-formed id or a name
    RL: [("str", "x"), ("null", None), ("obj", {"id": "x"}), ("ints", [1]), ("empty item", [{}]),
         ("id and name", [{"id": "a", "name": "b"}]), ("unknown key", [{"bogus": "x"}]),
         ("id and unknown key", [{"id": "a", "x": 1}]), ("id=int", [{"id": 5}]),
         ("id empty", [{"id": ""}]), ("id with space", [{"id": "a b"}]),
         ("id toolong", [{"id": "r" * 65}]), ("name=list", [{"name": ["member"]}]),
         ("name blank", [{"name": " "}]), ("name toolong", [{"name": "n" * 300}])],
    AR: [("str", "x"), ("null", None), ("obj", {"service": "identity"}), ("ints", [1]),
         ("no service", [{"path": "/v3/users", "method": "GET"}]),
         ("no path", [{"service": "identity", "method": "GET"}]),
         ("no method", [{"service": "identity", "path": "/v3/users"}]),
         ("service=int", [{"service": 5, "path": "/v3/users", "method": "GET"}]),
         ("service empty", [{"service": "", "path": "/v3/users", "method": "GET"}]),
         ("service with space", [{"service": "id entity", "path": "/v3/users", "method": "GET"}]),
         ("service with slash", [{"service": "a/b", "path": "/v3/users", "method": "GET"}]),
         ("service toolong", [{"service": "s" * 65, "path": "/v3/users", "method": "GET"}]),
         ("path relative", [{"service": "identity", "path": "v3/users", "method": "GET"}]),
         ("path=int", [{"service": "identity", "path": 3, "method": "GET"}]),
         ("path toolong", [{"service": "identity", "path": "/" + "p" * 225, "method": "GET"}]),
         ("method lower", [{"service": "identity", "path": "/v3/users", "method": "get"}]),
         ("method unknown", [{"service": "identity", "path": "/v3/users", "method": "FETCH"}]),
         ("method=list", [{"service": "identity", "path": "/v3/users", "method": ["GET"]}]),
         ("id=int", [{"id": 5}]), ("id with space", [{"id": "a b"}])],
}
# fields that are also length/format checked
EXTRA_WRONG = {
    "name": [("empty", ""), ("toolong", "n" * 1000)],
    "type": [("toolong", "t" * 1000)],
    "interface": [("enum", "sideways")],
    "url": [("toolong", "http://x/" + "u" * 10000)],
    "tags": [("slash", ["a/b"]), ("comma", ["a,b"]), ("toolong", ["t" * 300]),
             ("toomany", [f"t{i}" for i in range(100)])],
    "expires_at": [("notdate", "yesterday-ish"), ("past", "2001-01-01T00:00:00Z")],
    "id": [("toolong", "r" * 1000)],
}


def _cases():
    cases = []

    def add(case_id, route, *, body=..., raw=None, headers=None, token=None, path=None,
            expect=(400,), format_checked=True):
        cases.append(pytest.param(dict(
            method=route.method if route else None, path=path or route.path, body=body, raw=raw,
            headers=headers or {}, token=token or (route.auth if route else "admin"),
            expect=set(expect), format_checked=format_checked), id=case_id))

    for route in ROUTES:
        label = route.label()
        # tokens: every route needs one
        for kind in ("none", "garbage", "fernetish", "expiredish", "tampered", "revoked"):
            add(f"{label} token={kind}", route, token=kind,
                body=(lambda st, r=route: r.valid(st)) if route.has_body else ...,
                expect=(401,))
        # unknown ids in the path, with an otherwise valid request
        for param in route.params():
            if param in route.no_unknown:
                continue
            path = route.path.replace("{" + param + "}", UNKNOWN)
            add(f"{label} unknown {param}", route, path=path,
                body=(lambda st, r=route: r.valid(st)) if route.has_body else ...,
                expect=route.unknown_ok)
        if not route.has_body:
            continue
        # bodies that are not JSON objects
        # a route whose body has no required field may accept an empty one
        # (POST /v3/regions creates a region with a generated id)
        empty_ok = bool(route.wrapper) and not route.required and route.method in ("POST", "PUT") \
            if route.empty_ok is None else route.empty_ok
        refuse = route.refuse
        for name, raw in [("malformed", b'{"x": '), ("truncated", b'{"' + (route.wrapper or "tags").encode() + b'": {'),
                          ("notutf8", b'{"a": "\xff\xfe"}'), ("empty", b"")]:
            if name == "empty" and empty_ok:
                continue
            add(f"{label} body={name}", route, raw=raw)
        for name, doc in [("list", []), ("string", "x"), ("number", 1), ("null", None), ("true", True)]:
            add(f"{label} body={name}", route, raw=json.dumps(doc).encode())
        if not empty_ok:
            add(f"{label} body={{}}", route, body={}, expect=refuse)
        add(f"{label} oversized", route, raw=b'{"x": "' + b"a" * BIG + b'"}', expect=(413,))
        add(f"{label} content-type=text/plain", route,
            body=(lambda st, r=route: r.valid(st)), headers={"Content-Type": "text/plain"},
            expect=(400, 415))
        if route.wrapper is None:
            continue
        for name, val in [("string", "x"), ("list", []), ("null", None), ("number", 7)]:
            add(f"{label} {route.wrapper}={name}", route, body={route.wrapper: val}, expect=refuse)
        if route.min_props:
            add(f"{label} {route.wrapper}={{}}", route, body={route.wrapper: {}}, expect=refuse)
        if route.strict_top:
            add(f"{label} extra top-level key", route, expect=refuse,
                body=lambda st, r=route: dict(r.valid(st), bogus=1))
        for field in route.required:
            def missing(st, r=route, f=field):
                body = r.valid(st)
                body[r.wrapper].pop(f, None)
                # keep other required fields present
                for other in r.required:
                    if other != f and other not in body[r.wrapper]:
                        body[r.wrapper][other] = _filler(other, st)
                return body
            add(f"{label} missing {field}", route, body=missing, expect=refuse)
        for field in list(route.fields) + [f for f in route.extra_wrong if f not in route.fields]:
            kind = route.fields.get(field)
            wrongs = (WRONG[kind] + EXTRA_WRONG.get(field, []) if kind else []) \
                + route.extra_wrong.get(field, [])
            for name, val in wrongs:
                def wrong(st, r=route, f=field, v=val):
                    body = r.valid(st)
                    for req in r.required:
                        body[r.wrapper].setdefault(req, _filler(req, st))
                    body[r.wrapper][f] = v
                    return body
                add(f"{label} {field}={name}", route, body=wrong, expect=refuse)

    # --- special routes -------------------------------------------------------
    tokens = Route("POST", "/v3/auth/tokens", auth="none", valid=lambda st: {})
    pw = lambda user, **kw: {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}, **kw}}  # noqa: E731
    good_user = {"name": "admin", "domain": {"id": "default"}, "password": "x"}
    auth_bodies = [
        ("malformed", None, b'{"auth": ', (400,)),
        ("notutf8", None, b'{"auth": "\xff"}', (400,)),
        ("list", [], None, (400,)),
        ("string", "auth", None, (400,)),
        ("null", None, b"null", (400,)),
        ("empty", {}, None, (400,)),
        ("auth=string", {"auth": "x"}, None, (400,)),
        ("auth=list", {"auth": []}, None, (400,)),
        ("no identity", {"auth": {}}, None, (400,)),
        ("identity=string", {"auth": {"identity": "x"}}, None, (400,)),
        ("no methods", {"auth": {"identity": {"password": {"user": good_user}}}}, None, (400,)),
        ("methods=string", {"auth": {"identity": {"methods": "password",
                                                  "password": {"user": good_user}}}}, None, (400,)),
        ("methods=[1]", {"auth": {"identity": {"methods": [1]}}}, None, (400,)),
        ("methods=[]", {"auth": {"identity": {"methods": []}}}, None, (400, 401)),
        ("method section missing", {"auth": {"identity": {"methods": ["password"]}}}, None, (400,)),
        ("unsupported method", {"auth": {"identity": {"methods": ["bogus"], "bogus": {}}}}, None,
         (400, 401)),
        ("password=string", {"auth": {"identity": {"methods": ["password"], "password": "x"}}},
         None, (400,)),
        ("no user", {"auth": {"identity": {"methods": ["password"], "password": {}}}}, None, (400,)),
        ("user=string", pw("admin"), None, (400,)),
        ("user no id or name", pw({"password": "x", "domain": {"id": "default"}}), None, (400,)),
        ("user name no domain", pw({"name": "admin", "password": "x"}), None, (400,)),
        ("user domain empty", pw({"name": "admin", "password": "x", "domain": {}}), None, (400,)),
        ("user domain=string", pw({"name": "admin", "password": "x", "domain": "default"}), None,
         (400,)),
        ("user name=int", pw({"name": 5, "password": "x", "domain": {"id": "default"}}), None, (400,)),
        ("user id=list", pw({"id": ["a"], "password": "x"}), None, (400,)),
        ("password=int", pw({"name": "admin", "password": 5, "domain": {"id": "default"}}), None,
         (400,)),
        ("password=null", pw({"name": "admin", "password": None, "domain": {"id": "default"}}),
         None, (400, 401)),
        ("no password", pw({"name": "admin", "domain": {"id": "default"}}), None, (400, 401)),
        ("unknown user id", pw({"id": UNKNOWN, "password": "x"}), None, (401,)),
        ("unknown domain", pw({"name": "admin", "password": "x", "domain": {"id": UNKNOWN}}), None,
         (401,)),
        ("scope=string", pw(good_user, scope="project"), None, (400,)),
        ("scope project empty", pw(good_user, scope={"project": {}}), None, (400,)),
        ("scope project name no domain", pw(good_user, scope={"project": {"name": "admin"}}), None,
         (400,)),
        ("scope project and domain", pw(good_user, scope={"project": {"id": "x"},
                                                          "domain": {"id": "default"}}), None, (400,)),
        ("scope system=string", pw(good_user, scope={"system": "all"}), None, (400,)),
        ("scope system all=string", pw(good_user, scope={"system": {"all": "yes"}}), None, (400,)),
        ("scope project id=int", pw(good_user, scope={"project": {"id": 5}}), None, (400,)),
        ("token method no id", {"auth": {"identity": {"methods": ["token"], "token": {}}}}, None,
         (400,)),
        ("token method garbage", {"auth": {"identity": {"methods": ["token"],
                                                        "token": {"id": "garbage"}}}}, None,
         (401, 404)),
        ("token method id=int", {"auth": {"identity": {"methods": ["token"], "token": {"id": 5}}}},
         None, (400,)),
        ("appcred no secret", {"auth": {"identity": {"methods": ["application_credential"],
                                                     "application_credential": {"id": UNKNOWN}}}},
         None, (400,)),
        ("appcred unknown", {"auth": {"identity": {"methods": ["application_credential"],
                                                   "application_credential": {
                                                       "id": UNKNOWN, "secret": "s"}}}},
         None, (401, 404)),
        ("appcred name no user", {"auth": {"identity": {"methods": ["application_credential"],
                                                        "application_credential": {
                                                            "name": "x", "secret": "s"}}}},
         None, (400,)),
    ]
    for name, doc, raw, expect in auth_bodies:
        if raw is None:
            raw = json.dumps(doc).encode()
        add(f"POST /v3/auth/tokens body={name}", tokens, raw=raw, token="none", expect=expect)
    # well-formed password auth with a wrong secret or an unknown scope -> 401
    add("POST /v3/auth/tokens wrong password", tokens, token="none", expect=(401,),
        body=lambda st: password_auth("admin", "wrong"))
    add("POST /v3/auth/tokens unknown project", tokens, token="none", expect=(401,),
        body=lambda st: password_auth("admin", st["admin_password"],
                                      scope={"project": {"id": UNKNOWN}}))
    add("POST /v3/auth/tokens unknown domain scope", tokens, token="none", expect=(401,),
        body=lambda st: password_auth("admin", st["admin_password"],
                                      scope={"domain": {"id": UNKNOWN}}))
    add("POST /v3/auth/tokens unknown project name", tokens, token="none", expect=(401,),
        body=lambda st: password_auth("admin", st["admin_password"],
                                      scope=project_scope(name="no-such-" + UNKNOWN)))
    add("POST /v3/auth/tokens oversized", tokens, token="none", expect=(413,),
        raw=b'{"auth": "' + b"a" * BIG + b'"}')
    add("POST /v3/auth/tokens content-type=text/plain", tokens, token="none", expect=(400, 415),
        headers={"Content-Type": "text/plain"},
        body=lambda st: password_auth("admin", st["admin_password"]))

    # token validation / revocation with bad subjects
    for method in ("GET", "HEAD", "DELETE"):
        r = Route(method, "/v3/auth/tokens")
        add(f"{method} /v3/auth/tokens subject=garbage", r, headers={"X-Subject-Token": "garbage"},
            expect=(404,))
        add(f"{method} /v3/auth/tokens subject=fernetish", r,
            headers={"X-Subject-Token": _fernetish()}, expect=(404,))
        add(f"{method} /v3/auth/tokens subject=revoked", r, headers={"X-Subject-Token": "@revoked"},
            expect=(404,))
        add(f"{method} /v3/auth/tokens no subject", r, expect=(400, 401, 404))
    r = Route("DELETE", "/v3/auth/tokens")
    for kind in ("none", "garbage", "fernetish", "revoked"):
        add(f"DELETE /v3/auth/tokens token={kind}", r, token=kind,
            headers={"X-Subject-Token": "@admin"}, expect=(401,))

    # role assignment filters that do not go together
    ra = Route("GET", "/v3/role_assignments")
    add("GET /v3/role_assignments include_subtree without project", ra,
        path="/v3/role_assignments?include_subtree=true", expect=(400,))
    add("GET /v3/role_assignments effective with group", ra,
        path="/v3/role_assignments?effective&group.id=" + UNKNOWN, expect=(400,))

    # odd ids in paths
    for tmpl in ("/v3/users/{}", "/v3/projects/{}", "/v3/domains/{}", "/v3/groups/{}",
                 "/v3/roles/{}", "/v3/regions/{}", "/v3/services/{}", "/v3/endpoints/{}",
                 "/v3/credentials/{}"):
        rr = Route("GET", tmpl)
        for name, odd in [("long", "x" * 3000), ("nul", "%00abc"), ("unicode", "%E2%98%83"),
                          ("quote", "%27%20OR%201=1--"), ("dots", "..%2F..%2Fetc")]:
            add(f"GET {tmpl} id={name}", rr, path=tmpl.format(odd), expect=(400, 404))

    # project tags with bad values in the path
    tagr = Route("PUT", "/v3/projects/{project_id}/tags/{tag}")
    add("PUT tag toolong", tagr, path="/v3/projects/{project_id}/tags/" + "t" * 300, expect=(400,))
    add("PUT tag with comma", tagr, path="/v3/projects/{project_id}/tags/a,b", expect=(400,))
    add("PUT tags extra top-level key", Route("PUT", "/v3/projects/{project_id}/tags"),
        body={"tags": ["a"], "bogus": 1}, expect=(400,))

    # implied role onto itself and grants of unknown roles
    imp = Route("PUT", "/v3/roles/{prior_role_id}/implies/{prior_role_id}")
    add("PUT implies self", imp, expect=(400, 403, 409))

    # OAuth1 (OS-OAUTH1): unsigned or badly signed token requests, bad
    # authorize bodies, unknown request and access tokens
    for path in ("/v3/OS-OAUTH1/request_token", "/v3/OS-OAUTH1/access_token"):
        r = Route("POST", path, auth="none")
        add(f"POST {path} no Authorization", r, token="none", expect=(400,),
            headers={"Requested-Project-Id": "x"})
        for name, hdr in [("bearer", "Bearer abc"), ("unquoted", "OAuth oauth_consumer_key=x"),
                          ("empty", "OAuth "), ("dup", 'OAuth a="1", a="2"'),
                          ("no signature", 'OAuth oauth_consumer_key="' + UNKNOWN + '", '
                           'oauth_token="' + UNKNOWN + '", oauth_verifier="v"'),
                          ("unicode", 'OAuth oauth_consumer_key="%E2%98%83"')]:
            add(f"POST {path} Authorization={name}", r, token="none", expect=(400, 401, 404),
                headers={"Authorization": hdr, "Requested-Project-Id": "{project_id}"})
    az = Route("PUT", "/v3/OS-OAUTH1/authorize/{request_token_id}", auth="user")
    for name, doc in [("empty", {}), ("roles=string", {"roles": "x"}), ("roles=[]", {"roles": []}),
                      ("roles=[1]", {"roles": [1]}), ("roles=[{}]", {"roles": [{}]}),
                      ("id=int", {"roles": [{"id": 5}]}),
                      ("id and name", {"roles": [{"id": "a", "name": "b"}]}),
                      ("list", [])]:
        add(f"PUT authorize body={name}", az, token="user",
            path="/v3/OS-OAUTH1/authorize/" + UNKNOWN, body=doc, expect=(400,))
    add("PUT authorize unknown request token", az, token="user",
        path="/v3/OS-OAUTH1/authorize/" + UNKNOWN, body={"roles": [{"id": UNKNOWN}]},
        expect=(404,))
    add("PUT authorize no token", az, token="none", path="/v3/OS-OAUTH1/authorize/" + UNKNOWN,
        body={"roles": [{"id": UNKNOWN}]}, expect=(401,))
    at = "/v3/users/{user_id}/OS-OAUTH1/access_tokens"
    for method, path in [("GET", at + "/" + UNKNOWN), ("DELETE", at + "/" + UNKNOWN),
                         ("GET", at + "/" + UNKNOWN + "/roles"),
                         ("GET", at + "/" + UNKNOWN + "/roles/" + UNKNOWN)]:
        add(f"{method} {path} unknown", Route(method, path), token="admin", expect=(404,))
    add("GET access_tokens no token", Route("GET", at), token="none", expect=(401,))
    add("POST /v3/auth/tokens oauth1 unsigned", tokens, token="none", expect=(400,),
        body={"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}})
    add("POST /v3/auth/tokens oauth1 unknown access token", tokens, token="none", expect=(404,),
        headers={"Authorization": 'OAuth oauth_consumer_key="x", oauth_token="' + UNKNOWN + '"'},
        body={"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}})

    # legacy v2.0 tokens
    v2 = Route("POST", "/v2.0/tokens", auth="none", valid=lambda st: {})
    v2_bodies = [
        ("malformed", None, b'{"auth": ', (400,)),
        ("list", [], None, (400,)),
        ("empty", {}, None, (400,)),
        ("auth=string", {"auth": "x"}, None, (400,)),
        ("no credentials", {"auth": {"tenantName": "admin"}}, None, (400, 401)),
        ("passwordCredentials=string", {"auth": {"passwordCredentials": "x"}}, None, (400,)),
        ("no password", {"auth": {"passwordCredentials": {"username": "admin"}}}, None, (400, 401)),
        ("username=int", {"auth": {"passwordCredentials": {"username": 5, "password": "x"}}}, None,
         (400,)),
        ("password=list", {"auth": {"passwordCredentials": {"username": "admin", "password": []}}},
         None, (400,)),
        ("tenantName=int", {"auth": {"passwordCredentials": {"username": "admin", "password": "x"},
                                     "tenantName": 5}}, None, (400,)),
        ("wrong password", {"auth": {"passwordCredentials": {"username": "admin", "password": "no"},
                                     "tenantName": "admin"}}, None, (401,)),
        ("token garbage", {"auth": {"token": {"id": "garbage"}, "tenantName": "admin"}}, None,
         (401, 404)),
        ("notutf8", None, b'{"auth": "\xff"}', (400,)),
        ("null", None, b"null", (400,)),
        ("string", "auth", None, (400,)),
        ("auth=list", {"auth": []}, None, (400,)),
        ("auth=null", {"auth": None}, None, (400,)),
        ("passwordCredentials=list", {"auth": {"passwordCredentials": []}}, None, (400,)),
        ("passwordCredentials=null", {"auth": {"passwordCredentials": None}}, None, (400,)),
        ("no username or userId", {"auth": {"passwordCredentials": {"password": "x"}}}, None,
         (400,)),
        ("userId=int", {"auth": {"passwordCredentials": {"userId": 5, "password": "x"}}}, None,
         (400,)),
        ("userId=int beside username", {"auth": {"passwordCredentials": {
            "userId": 5, "username": "admin", "password": "x"}}}, None, (400,)),
        ("username=list", {"auth": {"passwordCredentials": {"username": ["admin"],
                                                            "password": "x"}}}, None, (400,)),
        ("username=null", {"auth": {"passwordCredentials": {"username": None, "password": "x"}}},
         None, (400,)),
        ("password=null", {"auth": {"passwordCredentials": {"username": "admin",
                                                            "password": None}}}, None, (400, 401)),
        ("password=obj", {"auth": {"passwordCredentials": {"username": "admin",
                                                           "password": {"x": 1}}}}, None, (400,)),
        ("username toolong", {"auth": {"passwordCredentials": {"username": "u" * 1000,
                                                               "password": "x"}}}, None,
         (400, 401)),
        ("token=string", {"auth": {"token": "x"}}, None, (400,)),
        ("token no id", {"auth": {"token": {}}}, None, (400,)),
        ("token id=int", {"auth": {"token": {"id": 5}}}, None, (400,)),
        ("tenantName=obj", {"auth": {"passwordCredentials": {"username": "admin", "password": "x"},
                                     "tenantName": {"name": "admin"}}}, None, (400,)),
        ("tenantName=bool", {"auth": {"passwordCredentials": {"username": "admin", "password": "x"},
                                      "tenantName": True}}, None, (400,)),
        ("tenantName=list", {"auth": {"passwordCredentials": {"username": "admin", "password": "x"},
                                      "tenantName": ["admin"]}}, None, (400,)),
        ("tenantId=int", {"auth": {"passwordCredentials": {"username": "admin", "password": "x"},
                                   "tenantId": 5}}, None, (400,)),
        ("tenantId=list", {"auth": {"passwordCredentials": {"username": "admin", "password": "x"},
                                    "tenantId": ["x"]}}, None, (400,)),
        ("tenantName toolong", {"auth": {"passwordCredentials": {"username": "admin",
                                                                 "password": "x"},
                                         "tenantName": "t" * 1000}}, None, (400, 401)),
    ]
    for name, doc, raw, expect in v2_bodies:
        if raw is None:
            raw = json.dumps(doc).encode()
        add(f"POST /v2.0/tokens body={name}", v2, raw=raw, token="none", expect=expect)
    add("POST /v2.0/tokens unknown tenant", v2, token="none", expect=(401,),
        body=lambda st: {"auth": {"passwordCredentials": {"username": "admin",
                                                          "password": st["admin_password"]},
                                  "tenantName": "no-such-" + UNKNOWN}})
    add("POST /v2.0/tokens oversized", v2, token="none", expect=(413,),
        raw=b'{"auth": "' + b"a" * BIG + b'"}')
    add("POST /v2.0/tokens unknown tenantId", v2, token="none", expect=(401,),
        body=lambda st: {"auth": {"passwordCredentials": {"username": "admin",
                                                          "password": st["admin_password"]},
                                  "tenantId": UNKNOWN}})
    add("POST /v2.0/tokens content-type=text/plain", v2, token="none", expect=(400, 415),
        headers={"Content-Type": "text/plain"},
        body=lambda st: {"auth": {"passwordCredentials": {"username": "admin",
                                                          "password": st["admin_password"]}}})

    _trust_cases(add)
    _app_cred_cases(add)
    _domain_config_cases(add)
    _oauth1_signed_cases(add)

    # EC2 credentials
    ec2 = Route("POST", "/v3/users/{user_id}/credentials/OS-EC2")
    add("POST OS-EC2 tenant_id=int", ec2, body={"tenant_id": 5}, expect=(400,))
    add("POST OS-EC2 tenant_id=list", ec2, body={"tenant_id": ["x"]}, expect=(400,))
    add("POST OS-EC2 unknown tenant", ec2, body={"tenant_id": UNKNOWN}, expect=(404,))
    return cases


def _trust_cases(add):
    """Trust creation that is well-formed but refused, trust listings the
    caller may not see, and trust-scoped tokens that cannot be had."""
    tr = Route("POST", "/v3/OS-TRUST/trusts", auth="user")

    def trust(**changes):
        def body(st):
            t = {"trustor_user_id": st["user_id"], "trustee_user_id": st["admin_user_id"],
                 "impersonation": False, "project_id": st["project_id"],
                 "roles": [{"name": "member"}]}
            for k, v in changes.items():
                t[k] = v(st) if callable(v) else v
            return {"trust": t}
        return body

    for name, changes, expect in [
        ("trustor is another user", {"trustor_user_id": lambda st: st["admin_user_id"]}, (403,)),
        ("unknown trustee", {"trustee_user_id": UNKNOWN}, (404,)),
        ("unknown project", {"project_id": UNKNOWN}, (404,)),
        ("role not held", {"roles": lambda st: [{"id": st["role_id"]}]}, (403, 404)),
        ("unknown role id", {"roles": [{"id": UNKNOWN}]}, (403, 404)),
        ("unknown role name", {"roles": [{"name": "no-such-" + UNKNOWN}]}, (404,)),
        ("project without roles", {"roles": []}, (403,)),
        ("remaining_uses with redelegation", {"allow_redelegation": True, "remaining_uses": 2},
         (400,)),
        ("redelegation too deep", {"allow_redelegation": True, "redelegation_count": 99}, (403,)),
    ]:
        add(f"POST /v3/OS-TRUST/trusts {name}", tr, token="user", body=trust(**changes),
            expect=expect)
    lr = Route("GET", "/v3/OS-TRUST/trusts", auth="user")
    add("GET /v3/OS-TRUST/trusts all as user", lr, token="user", expect=(403,))
    for who in ("trustor_user_id", "trustee_user_id"):
        add(f"GET /v3/OS-TRUST/trusts {who}=other as user", lr, token="user", expect=(403,),
            path=f"/v3/OS-TRUST/trusts?{who}={{admin_user_id}}")

    tokens = Route("POST", "/v3/auth/tokens", auth="none")

    def trust_scoped(scope, user="admin"):
        def body(st):
            if user == "admin":
                return password_auth("admin", st["admin_password"], scope=scope)
            return password_auth(user_id=st["user_id"], password=st["user_password"], scope=scope)
        return body

    for name, scope, expect in [
        ("trust=string", {"OS-TRUST:trust": "x"}, (400,)),
        ("trust empty", {"OS-TRUST:trust": {}}, (400,)),
        ("trust id=int", {"OS-TRUST:trust": {"id": 5}}, (400,)),
        ("trust and project", {"OS-TRUST:trust": {"id": UNKNOWN}, "project": {"id": UNKNOWN}},
         (400,)),
        ("unknown trust", {"OS-TRUST:trust": {"id": UNKNOWN}}, (401, 404)),
    ]:
        add(f"POST /v3/auth/tokens scope {name}", tokens, token="none", expect=expect,
            body=trust_scoped(scope))
    # the trustor is not the trustee
    add("POST /v3/auth/tokens trust scope by the trustor", tokens, token="none",
        expect=(401, 403),
        body=lambda st: trust_scoped({"OS-TRUST:trust": {"id": st["trust_id"]}}, "user")(st))


def _app_cred_cases(add):
    """Application credentials that are well-formed but refused, and access
    rules that may not go."""
    ac = Route("POST", "/v3/users/{user_id}/application_credentials", auth="user")

    def app_cred(**changes):
        def body(st):
            a = {"name": uniq("ac")}
            for k, v in changes.items():
                a[k] = v(st) if callable(v) else v
            return {"application_credential": a}
        return body

    for name, changes, expect in [
        # a role the caller's token does not carry: Keystone's validation error
        ("role not held", {"roles": lambda st: [{"id": st["role_id"]}]}, (400,)),
        ("unknown role id", {"roles": [{"id": UNKNOWN}]}, (400,)),
        ("unknown role name", {"roles": [{"name": "no-such-" + UNKNOWN}]}, (404,)),
        ("unknown access rule id", {"access_rules": [{"id": UNKNOWN}]}, (400, 404)),
        ("duplicate name", {"name": "sweep"}, (409,)),
    ]:
        add(f"POST application_credentials {name}", ac, token="user", body=app_cred(**changes),
            expect=expect)
    ar = Route("DELETE", "/v3/users/{user_id}/access_rules/{access_rule_id}", auth="user")
    add("DELETE access rule in use", ar, token="user", expect=(403,))


def _domain_config_cases(add):
    """Domain configuration for groups and options Keystone does not take
    (403) and for ones the domain has not set (404). The sweep domain has
    ldap.url and ldap.user_tree_dn."""
    base = "/v3/domains/{domain_id}/config"
    for method, path, body, expect in [
        ("GET", base + "/bogus", ..., (403,)),
        ("GET", base + "/ldap/bogus", ..., (403,)),
        ("GET", base + "/ldap/password", ..., (403, 404)),
        ("GET", base + "/identity", ..., (404,)),
        ("GET", base + "/ldap/user", ..., (404,)),
        ("GET", "/v3/domains/default/config", ..., (404,)),
        ("GET", base + "/security_compliance", ..., (403,)),
        ("GET", "/v3/domains/default/config/security_compliance/bogus", ..., (403,)),
        ("GET", "/v3/domains/default/config/security_compliance/lockout_duration", ..., (403,)),
        ("PATCH", base + "/identity", {"config": {"identity": {"driver": "sql"}}}, (404,)),
        ("PATCH", base + "/bogus", {"config": {"bogus": {"url": "x"}}}, (403,)),
        ("PATCH", base + "/ldap", {"config": {"identity": {"driver": "sql"}}}, (403,)),
        ("PATCH", base + "/ldap/url", {"config": {"user": "cn=x"}}, (403,)),
        ("PATCH", base + "/ldap/user", {"config": {"user": "cn=x"}}, (404,)),
        ("PATCH", base + "/ldap/bogus", {"config": {"bogus": "x"}}, (403,)),
        ("PATCH", base + "/security_compliance",
         {"config": {"security_compliance": {"password_regex": ".*"}}}, (403,)),
        ("DELETE", base + "/identity", ..., (404,)),
        ("DELETE", base + "/ldap/user", ..., (404,)),
        ("DELETE", base + "/bogus", ..., (403,)),
        ("DELETE", base + "/ldap/bogus", ..., (403,)),
        ("GET", "/v3/domains/config/bogus/default", ..., (403,)),
        ("GET", "/v3/domains/config/ldap/bogus/default", ..., (403,)),
        ("GET", "/v3/domains/config/ldap/password/default", ..., (403,)),
    ]:
        add(f"{method} {path} {'' if body is ... else json.dumps(body)}", Route(method, path),
            path=path, body=body, expect=expect)
    # a project member may neither read nor write domain configuration
    for method, body in [("GET", ...), ("PUT", {"config": {"ldap": {"url": "ldap://x"}}}),
                         ("PATCH", {"config": {"ldap": {"url": "ldap://x"}}}), ("DELETE", ...)]:
        add(f"{method} {base} as member", Route(method, base, auth="user"), token="user",
            body=body, expect=(403,))


def _oauth1_signed_cases(add):
    """OAuth1 token requests properly signed by a real consumer, refused for
    what they carry."""
    from oauthlib import oauth1

    def signed(path, project="{project_id}", secret=None, key=None, owner=None, verifier=None):
        def headers(st):
            kw = {"client_secret": secret or st["consumer_secret"],
                  "signature_method": oauth1.SIGNATURE_HMAC}
            if owner:
                kw["resource_owner_key"] = owner if owner != "@request" else st["request_token"]
                kw["resource_owner_secret"] = st["request_token_secret"]
                kw["verifier"] = verifier or "12345678"
            else:
                kw["callback_uri"] = "oob"
            client = oauth1.Client(key or st["consumer_id"], **kw)
            _, h, _ = client.sign(st["server"].identity_url + path, http_method="POST")
            if project is not None:
                h["Requested-Project-Id"] = _fill(project, st)
            return h
        return headers

    rt, at = "/v3/OS-OAUTH1/request_token", "/v3/OS-OAUTH1/access_token"
    for name, path, headers, expect in [
        ("wrong consumer secret", rt, signed(rt, secret="not-the-secret"), (401,)),
        ("no Requested-Project-Id", rt, signed(rt, project=None), (400,)),
        ("unknown project", rt, signed(rt, project=UNKNOWN), (404,)),
        ("unknown consumer", rt, signed(rt, key=UNKNOWN), (401, 404)),
        ("unknown request token", at, signed(at, project=None, owner=UNKNOWN), (401, 404)),
        ("unauthorized request token", at, signed(at, project=None, owner="@request"), (401,)),
    ]:
        add(f"POST {path} signed, {name}", Route("POST", path, auth="none"), token="none",
            headers=headers, expect=expect)
    az = Route("PUT", "/v3/OS-OAUTH1/authorize/{request_token}", auth="user")
    add("PUT authorize real request token with a role not held", az, token="user",
        body=lambda st: {"roles": [{"id": st["role_id"]}]}, expect=(401, 403, 404))
    add("PUT authorize real request token with an unknown role name", az, token="user",
        body={"roles": [{"name": "no-such-" + UNKNOWN}]}, expect=(401, 403, 404))


def _filler(field, st):
    return {"service_id": st["service_id"], "user_id": st["user_id"], "interface": "public",
            "url": "http://127.0.0.1:9/z", "type": "cert", "blob": "b",
            "password": "x", "original_password": "y"}.get(field, uniq(field))


def _fernetish(ts=None):
    """Base64url text shaped like a Fernet token (version 0x80, timestamp, iv,
    ciphertext, hmac) that no server key signed."""
    ts = int(time.time()) if ts is None else ts
    raw = b"\x80" + struct.pack(">Q", ts) + os.urandom(16) + os.urandom(64) + os.urandom(32)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CASES = _cases()


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sweep(request, tmp_path_factory):
    """One server per backend for the whole sweep, plus real ids to aim at."""
    if request.param == "postgres" and not ferro.POSTGRES_URL:
        pytest.skip("FERROSTACK_TEST_POSTGRES_URL is not set")
    drop = None
    url = None
    if request.param == "postgres":
        url, drop = ferro.fresh_postgres_database()
    srv = ferro.Server(tmp_path_factory.mktemp("sweep-" + request.param) / "data", database_url=url)
    srv.start()
    try:
        yield _prepare(srv)
    finally:
        alive = srv.proc.poll() is None
        srv.stop()
        if drop:
            drop()
        assert alive, "ferrostack died during the bad-input sweep:\n" + srv.log()


def _prepare(srv):
    ks = Identity(srv, srv.admin_token())
    dom = ks.post("/v3/domains", json={"domain": {"name": uniq("sweep")}}, expect=201).json()["domain"]
    project = ks.create_project(tags=["t1"])
    user, _, user_token = ks.user_with_role("member", project)
    group = ks.post("/v3/groups", json={"group": {"name": uniq("g")}}, expect=201).json()["group"]
    role = ks.post("/v3/roles", json={"role": {"name": uniq("r")}}, expect=201).json()["role"]
    reader = ks.role_id("reader")
    ks.put(f"/v3/roles/{role['id']}/implies/{reader}", expect=201)
    region = ks.post("/v3/regions", json={"region": {"id": uniq("R")}}, expect=201).json()["region"]
    svc = ks.post("/v3/services", json={"service": {"type": "sweep"}}, expect=201).json()["service"]
    ep = ks.post("/v3/endpoints", json={"endpoint": {
        "service_id": svc["id"], "interface": "public", "url": "http://127.0.0.1:9/s"}},
        expect=201).json()["endpoint"]
    cred = ks.post("/v3/credentials", json={"credential": {
        "type": "cert", "user_id": user["id"], "blob": "sweep"}}, expect=201).json()["credential"]
    ac = ks.post(f"/v3/users/{user['id']}/application_credentials", token=user_token,
                 json={"application_credential": {"name": "sweep"}},
                 expect=201).json()["application_credential"]
    admin_user = ks.get("/v3/users?name=admin", expect=200).json()["users"][0]
    member = ks.role_id("member")
    trust = ks.post("/v3/OS-TRUST/trusts", token=user_token, expect=201, json={"trust": {
        "trustor_user_id": user["id"], "trustee_user_id": admin_user["id"],
        "impersonation": False, "project_id": project["id"], "roles": [{"id": member}]}}
    ).json()["trust"]
    ruled = ks.post(f"/v3/users/{user['id']}/application_credentials", token=user_token,
                    expect=201, json={"application_credential": {
                        "name": "sweep-ruled", "access_rules": [
                            {"service": "identity", "path": "/v3/users/*", "method": "GET"}]}}
                    ).json()["application_credential"]
    ks.put(f"/v3/domains/{dom['id']}/config", expect=201,
           json={"config": {"ldap": {"url": "ldap://sweep.invalid", "user_tree_dn": "ou=u"}}})
    consumer = ks.post("/v3/OS-OAUTH1/consumers", json={"consumer": {"description": "sweep"}},
                       expect=201).json()["consumer"]
    request_token = _request_token(srv, consumer, project["id"])
    pol = ks.post("/v3/policies", expect=201, json={"policy": {
        "blob": "{}", "type": "application/json"}}).json()["policy"]
    eg = ks.post("/v3/OS-EP-FILTER/endpoint_groups", expect=201, json={"endpoint_group": {
        "name": uniq("eg"), "filters": {"interface": "public"}}}).json()["endpoint_group"]
    ec2 = ks.post(f"/v3/users/{user['id']}/credentials/OS-EC2", expect=201,
                  json={"tenant_id": project["id"]}).json()["credential"]
    revoked, _ = ks.issue(password_auth("admin", srv.admin_password,
                                        scope=project_scope(name="admin")))
    ks.delete("/v3/auth/tokens", headers={"X-Subject-Token": revoked}, expect=204)
    admin = ks.token
    tampered = admin[:-6] + ("A" if admin[-6] != "A" else "B") + admin[-5:]
    return {
        "server": srv, "admin_password": srv.admin_password,
        "tokens": {"admin": admin, "user": user_token, "revoked": revoked, "tampered": tampered},
        "domain_id": dom["id"], "project_id": project["id"], "user_id": user["id"],
        "group_id": group["id"], "role_id": role["id"], "prior_role_id": role["id"],
        "implied_role_id": reader, "region_id": region["id"], "new_region_id": uniq("NR"),
        "service_id": svc["id"], "endpoint_id": ep["id"], "credential_id": cred["id"],
        "app_cred_id": ac["id"], "tag": "t1", "fivexx": [],
        "user_password": user["_password"], "admin_user_id": admin_user["id"],
        "trust_id": trust["id"], "trust_role_id": member,
        "access_rule_id": ruled["access_rules"][0]["id"],
        "cfg_group": "ldap", "cfg_option": "url",
        "consumer_id": consumer["id"], "consumer_secret": consumer["secret"],
        "request_token": request_token["oauth_token"],
        "request_token_secret": request_token["oauth_token_secret"],
        "policy_id": pol["id"], "endpoint_group_id": eg["id"], "ec2_access": ec2["access"],
    }


def _request_token(srv, consumer, project_id):
    """An OAuth1 request token nobody authorized."""
    import urllib.parse

    from oauthlib import oauth1

    client = oauth1.Client(consumer["id"], client_secret=consumer["secret"],
                           signature_method=oauth1.SIGNATURE_HMAC, callback_uri="oob")
    url, headers, _ = client.sign(srv.identity_url + "/v3/OS-OAUTH1/request_token",
                                  http_method="POST")
    headers["Requested-Project-Id"] = project_id
    r = requests.post(url, headers=headers, timeout=15)
    assert r.status_code == 201, r.text
    return dict(urllib.parse.parse_qsl(r.text))


def _token(kind, st):
    if kind == "none":
        return None
    if kind == "garbage":
        return "garbage-token"
    if kind == "fernetish":
        return _fernetish()
    if kind == "expiredish":
        return _fernetish(ts=978307200)   # 2001-01-01
    return st["tokens"][kind]


def _fill(path, st):
    for key, val in st.items():
        if isinstance(val, str):
            path = path.replace("{" + key + "}", val)
    return path


# ---------------------------------------------------------------------------
# the sweep
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_bad_input(sweep, case):
    srv = sweep["server"]
    headers = dict(case["headers"](sweep) if callable(case["headers"]) else case["headers"])
    for k, v in list(headers.items()):
        if v == "@revoked":
            headers[k] = sweep["tokens"]["revoked"]
        elif v == "@admin":
            headers[k] = sweep["tokens"]["admin"]
    if case["method"] in ("GET", "HEAD", "DELETE") and "/auth/tokens" in case["path"] \
            and "X-Subject-Token" not in headers and case["token"] != "admin":
        # token cases on the validation routes need a real subject
        headers["X-Subject-Token"] = sweep["tokens"]["admin"]
    tok = _token(case["token"], sweep)
    if tok:
        headers["X-Auth-Token"] = tok
    data = None
    if case["raw"] is not None:
        data = case["raw"]
        headers.setdefault("Content-Type", "application/json")
    elif case["body"] is not ...:
        body = case["body"](sweep) if callable(case["body"]) else case["body"]
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    url = srv.identity_url + _fill(case["path"], sweep)
    try:
        r = requests.request(case["method"], url, data=data, headers=headers, timeout=30)
    except requests.ConnectionError as e:
        if srv.proc.poll() is not None:
            pytest.fail(f"server died: {e}\n{srv.log()}")
        raise
    if r.status_code >= 500:
        sweep["fivexx"].append((case["method"], case["path"], r.status_code))
    assert r.status_code in case["expect"], \
        f"{case['method']} {case['path']} -> {r.status_code}, wanted {sorted(case['expect'])}: {r.text[:500]}"
    assert r.headers.get("X-Openstack-Request-Id"), r.headers
    if r.status_code == 200 and 200 in case["expect"]:
        return   # an allowed empty listing for an unknown parent
    if case["method"] != "HEAD":
        assert_keystone_error(r)


def test_still_healthy_after_sweep(sweep):
    srv = sweep["server"]
    assert srv.proc.poll() is None, srv.log()
    assert requests.get(srv.url + "/healthz", timeout=10).status_code == 200
    assert requests.get(srv.url + "/readyz", timeout=10).status_code == 200
    assert not sweep["fivexx"], sweep["fivexx"]
    # the real objects the sweep aimed at are untouched
    ks = Identity(srv, srv.admin_token())
    for path in ("/v3/domains/{domain_id}", "/v3/projects/{project_id}", "/v3/users/{user_id}",
                 "/v3/groups/{group_id}", "/v3/roles/{role_id}", "/v3/regions/{region_id}",
                 "/v3/services/{service_id}", "/v3/endpoints/{endpoint_id}",
                 "/v3/credentials/{credential_id}", "/v3/OS-TRUST/trusts/{trust_id}",
                 "/v3/users/{user_id}/access_rules/{access_rule_id}",
                 "/v3/OS-OAUTH1/consumers/{consumer_id}", "/v3/policies/{policy_id}",
                 "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}",
                 "/v3/users/{user_id}/credentials/OS-EC2/{ec2_access}",
                 "/v3/users/{user_id}/application_credentials/{app_cred_id}"):
        ks.get(_fill(path, sweep), expect=200)
    assert ks.get(_fill("/v3/domains/{domain_id}/config", sweep), expect=200).json() == {
        "config": {"ldap": {"url": "ldap://sweep.invalid", "user_tree_dn": "ou=u"}}}
    # nothing the sweep sent made an application credential, a trust or an
    # access rule
    acs = ks.get(_fill("/v3/users/{user_id}/application_credentials", sweep),
                 expect=200).json()["application_credentials"]
    assert sorted(a["name"] for a in acs) == ["sweep", "sweep-ruled"], acs
    assert [t["id"] for t in ks.get("/v3/OS-TRUST/trusts", expect=200).json()["trusts"]] \
        == [sweep["trust_id"]]
    rules = ks.get(_fill("/v3/users/{user_id}/access_rules", sweep), expect=200).json()
    assert [r["id"] for r in rules["access_rules"]] == [sweep["access_rule_id"]], rules
    assert ks.get(_fill("/v3/projects/{project_id}", sweep)).json()["project"]["tags"] == ["t1"]
    ks.head(_fill("/v3/projects/{project_id}/users/{user_id}/roles/", sweep)
            + ks.role_id("member"), expect=204)
    ks.validate(sweep["tokens"]["user"]).raise_for_status()
