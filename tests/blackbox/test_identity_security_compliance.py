"""Keystone's [security_compliance] password rules, enabled through
ferrostack's config file ([identity.security_compliance]): lockout after
failed logins (and its end), the password history and minimum age of
self-service changes, the password regex, with Keystone's statuses and
messages; the security_compliance domain-config group shows the regex.
Off by default (covered by the other identity tests). Both backends."""

import subprocess
import time

import pytest

import ferro
from kshelp import Identity, assert_keystone_error, password_auth

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
