"""Keystone's [security_compliance] password rules, enabled through
ferrostack's config file ([identity.security_compliance]): lockout after
failed logins (and its end), the password history and minimum age of
self-service changes, the password regex, with Keystone's statuses and
messages; the security_compliance domain-config group shows the regex;
password expiry (shown, filtered on, refused at login but still changeable),
the change of an admin-set password upon first use, the disabling of
inactive users, and the user options (exemptions, lock_password, MFA rules
stored and validated), also through the openstack CLI.
Off by default (covered by the other identity tests). Both backends."""

import datetime
import os
import re
import sqlite3
import subprocess
import time

import pytest

import ferro
from kshelp import Identity, assert_keystone_error, password_auth, uniq
from test_identity_cli import OPENSTACK

REGEX = r"[A-Za-z]+\d[A-Za-z\d]*$"
REGEX_DESC = "letters then a digit, letters and digits only"

CONFIG = f"""
[identity.security_compliance]
lockout_failure_attempts = 2
lockout_duration = 3
unique_last_password_count = 2
minimum_password_age = 0
password_regex = '{REGEX}'
password_regex_description = "{REGEX_DESC}"
"""


@pytest.fixture
def strict(backend, tmp_path):
    drop = url = None
    if backend == "postgres":
        url, drop = ferro.fresh_postgres_database()
    conf = tmp_path / "ferrostack.toml"
    conf.write_text(CONFIG)
    srv = ferro.Server(tmp_path / "data", database_url=url, admin_password="Admin12345",
                       extra_args=["--config", str(conf)])
    try:
        srv.start()
        yield srv, Identity(srv, srv.admin_token())
    finally:
        srv.stop()
        if drop:
            drop()


def login(ks, user, password, expect):
    return ks.post("/v3/auth/tokens", token=None, expect=expect,
                   json=password_auth(user_id=user["id"], password=password))


def change(ks, user, original, new):
    return ks.post(f"/v3/users/{user['id']}/password", token=None, json={
        "user": {"original_password": original, "password": new}})


def test_lockout_and_its_end(strict):
    srv, a = strict
    u = a.create_user(password="Passw0rdA")
    login(a, u, "Passw0rdA", 201)
    for _ in range(2):
        login(a, u, "wrong-pass1", 401)
    # Locked: even the right password is refused, with Keystone's message.
    err = assert_keystone_error(login(a, u, "Passw0rdA", 401), 401)
    assert err["message"] == f"The account is locked for user: {u['id']}."
    # A user exempt by option is never locked.
    free = a.create_user(password="Passw0rdB", options={"ignore_lockout_failure_attempts": True})
    for _ in range(3):
        login(a, free, "wrong-pass1", 401)
    login(a, free, "Passw0rdB", 201)
    # After lockout_duration the account opens again; a good login resets
    # the count.
    time.sleep(3.5)
    login(a, u, "Passw0rdA", 201)
    login(a, u, "wrong-pass1", 401)
    login(a, u, "Passw0rdA", 201)
    login(a, u, "wrong-pass1", 401)
    login(a, u, "Passw0rdA", 201)
    # An admin's password reset lifts a lock.
    for _ in range(2):
        login(a, u, "wrong-pass1", 401)
    login(a, u, "Passw0rdA", 401)
    a.patch(f"/v3/users/{u['id']}", json={"user": {"password": "Passw0rdC"}}, expect=200)
    login(a, u, "Passw0rdC", 201)


def test_password_history_and_regex(strict):
    srv, a = strict
    u = a.create_user(password="Passw0rd1")
    # The current password and the one before are remembered (count 2).
    err = assert_keystone_error(change(a, u, "Passw0rd1", "Passw0rd1"), 400)
    assert err["message"] == ("The new password cannot be identical to a previous password. "
                              "The total number which includes the new password must be "
                              "unique is 2.")
    r = change(a, u, "Passw0rd1", "Passw0rd2")
    assert r.status_code == 204, r.text
    assert_keystone_error(change(a, u, "Passw0rd2", "Passw0rd1"), 400)
    assert_keystone_error(change(a, u, "Passw0rd2", "Passw0rd2"), 400)
    assert change(a, u, "Passw0rd2", "Passw0rd3").status_code == 204
    # Two changes later the first one may come back.
    assert change(a, u, "Passw0rd3", "Passw0rd1").status_code == 204
    # An admin's reset is not held to the history.
    a.patch(f"/v3/users/{u['id']}", json={"user": {"password": "Passw0rd1"}}, expect=200)
    login(a, u, "Passw0rd1", 201)

    # The regex: on create, admin update and self-service change.
    msg = f"The password does not match the requirements: {REGEX_DESC}."
    err = assert_keystone_error(a.post("/v3/users", json={"user": {
        "name": "weak", "password": "short"}}), 400)
    assert err["message"] == msg
    assert a.get("/v3/users", params={"name": "weak"}, expect=200).json()["users"] == []
    err = assert_keystone_error(a.patch(f"/v3/users/{u['id']}", json={"user": {
        "password": "nodigitshere"}}), 400)
    assert err["message"] == msg
    err = assert_keystone_error(change(a, u, "Passw0rd1", "abc"), 400)
    assert err["message"] == msg
    login(a, u, "Passw0rd1", 201)
    # A wrong original password is a failed login (401), not a regex error.
    assert_keystone_error(change(a, u, "nope", "Passw0rd9"), 401)

    # Anyone may read the regex through the domain configuration API.
    other = a.create_user(password="Passw0rd5")
    tok = login(a, other, "Passw0rd5", 201).headers["X-Subject-Token"]
    r = a.get("/v3/domains/default/config/security_compliance", token=tok, expect=200)
    assert r.json() == {"config": {"security_compliance": {
        "password_regex": REGEX, "password_regex_description": REGEX_DESC}}}


def test_minimum_password_age(tmp_path):
    # Storage-independent (the history rows are covered on both backends
    # above): SQLite only.
    conf = tmp_path / "f.toml"
    conf.write_text("[identity.security_compliance]\nminimum_password_age = 1\n")
    srv = ferro.Server(tmp_path / "data", extra_args=["--config", str(conf)])
    srv.start()
    try:
        a = Identity(srv, srv.admin_token())
        u = a.create_user(password="first-pass")
        # Set by an admin: may be changed at once; then it must be kept a day.
        assert change(a, u, "first-pass", "second-pass").status_code == 204
        err = assert_keystone_error(change(a, u, "second-pass", "third-pass"), 400)
        assert err["message"].startswith(
            "You cannot change your password at this time due to the minimum password age. "
            "Once you change your password, it must be used for 1 day(s) before it can be "
            "changed. Please try again in 0 day(s)")
        # An admin may still reset it.
        a.patch(f"/v3/users/{u['id']}", json={"user": {"password": "third-pass"}}, expect=200)
        assert change(a, u, "third-pass", "fourth-pass").status_code == 204
    finally:
        srv.stop()


def test_bad_settings_refuse_to_start(tmp_path):
    conf = tmp_path / "bad.toml"
    conf.write_text("[identity.security_compliance]\npassword_regex = '(unclosed'\n")
    p = subprocess.run([str(ferro.BIN), "serve", "--data-dir", str(tmp_path / "d"),
                        "--listen", "127.0.0.1:0", "--config", str(conf)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "password_regex" in (p.stdout + p.stderr)
    conf.write_text("[identity.security_compliance]\nlockout_attempts = 3\n")
    p = subprocess.run([str(ferro.BIN), "serve", "--data-dir", str(tmp_path / "d"),
                        "--listen", "127.0.0.1:0", "--config", str(conf)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "lockout_attempts" in (p.stdout + p.stderr)


# --- Password expiry, change upon first use, inactivity, user options ---

EXPIRING = """
[identity.security_compliance]
password_expires_days = 90
change_password_upon_first_use = true
disable_user_account_days_inactive = 30
"""

DAY = 86400


@pytest.fixture
def expiring(backend, tmp_path):
    drop = url = None
    if backend == "postgres":
        url, drop = ferro.fresh_postgres_database()
    conf = tmp_path / "ferrostack.toml"
    conf.write_text(EXPIRING)
    srv = ferro.Server(tmp_path / "data", database_url=url, admin_password="Admin12345",
                       extra_args=["--config", str(conf)])
    try:
        srv.start()
        yield srv, Identity(srv, srv.admin_token())
    finally:
        srv.stop()
        if drop:
            drop()


def expires_at(a, user):
    """The user's password_expires_at as Keystone shows it, in seconds."""
    shown = a.get(f"/v3/users/{user['id']}", expect=200).json()["user"]["password_expires_at"]
    if shown is None:
        return None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", shown), shown
    return datetime.datetime.fromisoformat(shown).replace(
        tzinfo=datetime.timezone.utc).timestamp()


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def test_change_upon_first_use_and_expiry(expiring):
    srv, a = expiring
    now = time.time()
    u = a.create_user(password="admin-set-1")
    # Set by an admin: expired at once, so the user must change it first.
    assert abs(expires_at(a, u) - now) < 60
    err = assert_keystone_error(login(a, u, "admin-set-1", 401), 401)
    assert err["message"] == f"The password is expired and needs to be changed for user: {u['id']}."
    # A wrong password is still just a failed login.
    err = assert_keystone_error(login(a, u, "wrong", 401), 401)
    assert "expired" not in err["message"]
    # The user may change the expired password; the new one lasts 90 days.
    assert change(a, u, "wrong", "mine-1").status_code == 401
    r = change(a, u, "admin-set-1", "mine-1")
    assert r.status_code == 204, r.text
    later = expires_at(a, u)
    assert abs(later - (now + 90 * DAY)) < 60 and later == int(later)
    login(a, u, "mine-1", 201)
    # An admin's reset must be changed again.
    a.patch(f"/v3/users/{u['id']}", json={"user": {"password": "admin-set-2"}}, expect=200)
    assert_keystone_error(login(a, u, "admin-set-2", 401), 401)
    assert change(a, u, "admin-set-2", "mine-2").status_code == 204
    login(a, u, "mine-2", 201)

    # Exempt from the change upon first use: 90 days straight away.
    free = a.create_user(password="admin-set-3",
                         options={"ignore_change_password_upon_first_use": True})
    assert abs(expires_at(a, free) - (now + 90 * DAY)) < 60
    login(a, free, "admin-set-3", 201)
    # Exempt from expiry: the password never counts as expired.
    never = a.create_user(password="admin-set-4", options={"ignore_password_expiry": True})
    login(a, never, "admin-set-4", 201)
    # ... and its self-service passwords get no expiry at all.
    assert change(a, never, "admin-set-4", "mine-4").status_code == 204
    assert expires_at(a, never) is None
    # A user with no password has none to expire.
    nopw = a.post("/v3/users", json={"user": {"name": uniq("nopw")}}, expect=201).json()["user"]
    assert nopw["password_expires_at"] is None
    assert a.get(f"/v3/users/{nopw['id']}", expect=200).json()["user"][
        "password_expires_at"] is None

    # The list filter, with Keystone's operators.
    def listed(value):
        r = a.get("/v3/users", params={"password_expires_at": value}, expect=200)
        return {x["id"] for x in r.json()["users"]}

    soon, far = iso(now + DAY), iso(now + 89 * DAY)
    assert {u["id"], free["id"]} <= listed(f"gt:{far}")
    assert listed(f"gt:{far}").isdisjoint({never["id"], nopw["id"]})
    assert listed(f"gte:{far}") == listed(f"gt:{far}")
    expired_now = a.create_user(password="admin-set-5")
    assert expired_now["id"] in listed(f"lt:{soon}")
    assert listed(f"lt:{soon}").isdisjoint({u["id"], free["id"], nopw["id"]})
    assert expired_now["id"] in listed(f"lte:{soon}")
    assert u["id"] not in listed(f"neq:{iso(expires_at(a, u))}")
    assert expired_now["id"] in listed(f"neq:{iso(expires_at(a, u))}")
    assert listed(f"eq:{iso(expires_at(a, u))}") >= {u["id"]}
    assert listed(iso(expires_at(a, u))) == listed(f"eq:{iso(expires_at(a, u))}")
    err = assert_keystone_error(a.get("/v3/users", params={
        "password_expires_at": f"xx:{soon}"}), 400)
    assert err["message"].startswith("The given operator xx is not valid.")
    err = assert_keystone_error(a.get("/v3/users", params={
        "password_expires_at": "lt:tomorrow"}), 400)
    assert err["message"].startswith("Timestamp not in expected format.")


def test_user_options(expiring):
    srv, a = expiring
    u = a.create_user(password="admin-set-1", options={
        "ignore_change_password_upon_first_use": True, "lock_password": True})
    login(a, u, "admin-set-1", 201)
    # A locked password cannot be changed by its user (Keystone's 400) ...
    err = assert_keystone_error(change(a, u, "admin-set-1", "mine-1"), 400)
    assert err["message"].startswith(
        "You cannot change your password at this time due to password policy disallowing "
        "password changes.")
    # ... only by an admin; null removes an option.
    a.patch(f"/v3/users/{u['id']}", json={"user": {"options": {"lock_password": None}}},
            expect=200)
    shown = a.get(f"/v3/users/{u['id']}", expect=200).json()["user"]["options"]
    assert shown == {"ignore_change_password_upon_first_use": True}
    assert change(a, u, "admin-set-1", "mine-1").status_code == 204

    rules = [["password", "totp"], ["password", "application_credential"]]
    r = a.patch(f"/v3/users/{u['id']}", json={"user": {"options": {
        "multi_factor_auth_enabled": False, "multi_factor_auth_rules": rules}}}, expect=200)
    assert r.json()["user"]["options"]["multi_factor_auth_rules"] == rules
    for bad, field in [
            ({"not_an_option": True}, "options"),
            ({"lock_password": "yes"}, "options/lock_password"),
            ({"ignore_password_expiry": 1}, "options/ignore_password_expiry"),
            ({"multi_factor_auth_rules": "password"}, "options/multi_factor_auth_rules"),
            ({"multi_factor_auth_rules": [[]]}, "options/multi_factor_auth_rules/0"),
            ({"multi_factor_auth_rules": [["password", "password"]]},
             "options/multi_factor_auth_rules/0"),
            ({"multi_factor_auth_rules": [["totp"], ["totp"]]},
             "options/multi_factor_auth_rules"),
            ({"multi_factor_auth_rules": [["totp", 3]]}, "options/multi_factor_auth_rules/0/1")]:
        err = assert_keystone_error(a.patch(f"/v3/users/{u['id']}", json={"user": {
            "options": bad}}), 400)
        assert err["message"].startswith(f"Invalid input for field '{field}'"), (bad, err)
        err = assert_keystone_error(a.post("/v3/users", json={"user": {
            "name": "opt-bad", "options": bad}}), 400)
        assert err["message"].startswith(f"Invalid input for field '{field}'"), (bad, err)
    assert a.get("/v3/users", params={"name": "opt-bad"}, expect=200).json()["users"] == []
    shown = a.get(f"/v3/users/{u['id']}", expect=200).json()["user"]["options"]
    assert shown["multi_factor_auth_rules"] == rules


def test_inactive_users_are_disabled(tmp_path):
    # Thirty days cannot pass in a test: move the user's recorded activity
    # back in the SQLite database of a running server instead.
    conf = tmp_path / "f.toml"
    conf.write_text(EXPIRING)
    srv = ferro.Server(tmp_path / "data", extra_args=["--config", str(conf)])
    srv.start()
    try:
        a = Identity(srv, srv.admin_token())
        u = a.create_user(password="admin-set-1",
                          options={"ignore_change_password_upon_first_use": True})
        idle = a.create_user(password="admin-set-2",
                             options={"ignore_change_password_upon_first_use": True})
        exempt = a.create_user(password="admin-set-3", options={
            "ignore_change_password_upon_first_use": True, "ignore_user_inactivity": True})
        for x, pw in [(u, "admin-set-1"), (exempt, "admin-set-3")]:
            login(a, x, pw, 201)
        db = sqlite3.connect(next((tmp_path / "data").glob("*.db")), timeout=30)
        with db:
            for x in (u, idle, exempt):
                db.execute("UPDATE identity_user SET last_active_day = last_active_day - 30, "
                           "created_at = created_at - 31 * 86400000000 WHERE id = ?",
                           (x["id"],))
        db.close()
        # Logged in 30 days ago: disabled, shown so, refused with Keystone's
        # message; never logged in, created 31 days ago: the same.
        for x, pw in [(u, "admin-set-1"), (idle, "admin-set-2")]:
            assert a.get(f"/v3/users/{x['id']}", expect=200).json()["user"]["enabled"] is False
            err = assert_keystone_error(login(a, x, pw, 401), 401)
            assert err["message"] == f"The account is disabled for user: {x['id']}."
        assert a.get(f"/v3/users/{exempt['id']}", expect=200).json()["user"]["enabled"] is True
        login(a, exempt, "admin-set-3", 201)
        # An admin enabling the user again counts as activity.
        a.patch(f"/v3/users/{u['id']}", json={"user": {"enabled": True}}, expect=200)
        login(a, u, "admin-set-1", 201)
        listed = {x["id"]: x["enabled"] for x in a.get("/v3/users", expect=200).json()["users"]}
        assert listed[u["id"]] is True and listed[idle["id"]] is False
    finally:
        srv.stop()


def test_cli_first_use_and_option_flags(expiring):
    srv, a = expiring
    from test_identity_cli import Cli
    cli = Cli(srv)
    name = uniq("cli-first")
    created = cli.json("user", "create", "--password", "admin-set-1", name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update({"OS_AUTH_URL": srv.identity_url, "OS_USERNAME": name,
                "OS_PASSWORD": "admin-set-1", "OS_USER_DOMAIN_ID": "default",
                "OS_IDENTITY_API_VERSION": "3"})
    p = subprocess.run([str(OPENSTACK), "token", "issue", "-f", "json"], env=env,
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert "password is expired" in (p.stdout + p.stderr), p.stderr[-2000:]
    cli.run("user", "set", "--enable-lock-password", "--ignore-password-expiry", name)
    options = a.get(f"/v3/users/{created['id']}", expect=200).json()["user"]["options"]
    assert options == {"lock_password": True, "ignore_password_expiry": True}
    # Exempt from expiry now: the same password logs in.
    p = subprocess.run([str(OPENSTACK), "token", "issue", "-f", "json"], env=env,
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr[-2000:]
    cli.run("user", "set", "--disable-lock-password", name)
    options = a.get(f"/v3/users/{created['id']}", expect=200).json()["user"]["options"]
    assert options["lock_password"] is False


def test_multi_factor_auth_rules_enforced(expiring):
    srv, a = expiring
    u = a.create_user(password="admin-set-1",
                      options={"ignore_change_password_upon_first_use": True})
    earlier = login(a, u, "admin-set-1", 201).headers["X-Subject-Token"]
    a.patch(f"/v3/users/{u['id']}", json={"user": {"options": {
        "multi_factor_auth_rules": [["password", "token"], ["totp"]]}}}, expect=200)
    # The password alone satisfies no rule (a rule of methods this cloud
    # lacks, totp, is ignored): 401 with Keystone's message.
    err = assert_keystone_error(login(a, u, "admin-set-1", 401), 401)
    assert err["message"] == (f"Insufficient auth methods received for {u['id']}. "
                              "Auth Methods Provided: [password].")
    # Password and a token of the user in one request: the rule is met.
    body = password_auth(user_id=u["id"], password="admin-set-1")
    body["auth"]["identity"]["methods"] = ["password", "token"]
    body["auth"]["identity"]["token"] = {"id": earlier}
    r = a.post("/v3/auth/tokens", token=None, json=body, expect=201)
    assert set(a.validate(r.headers["X-Subject-Token"]).json()["token"]["methods"]) >= {
        "password", "token"}
    # Rules switched off for the user: the password alone will do.
    a.patch(f"/v3/users/{u['id']}", json={"user": {"options": {
        "multi_factor_auth_enabled": False}}}, expect=200)
    login(a, u, "admin-set-1", 201)
    # Rules only of methods this cloud lacks never lock a user out.
    a.patch(f"/v3/users/{u['id']}", json={"user": {"options": {
        "multi_factor_auth_enabled": True, "multi_factor_auth_rules": [["totp"]]}}}, expect=200)
    login(a, u, "admin-set-1", 201)
