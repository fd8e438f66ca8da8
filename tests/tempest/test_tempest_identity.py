"""tempest.api.identity against a real ferrostack on SQLite, compared with
known-failures-identity.txt (see runner.py for the knobs).

Keystone's security compliance is off by default there and here, and so is
tempest's `security_compliance` flag. Since ferrostack builds it, this run
turns it on in both, with the values tempest's own options assume (two failed
logins lock a user for 5 s; the last two passwords may not be reused), so the
four lockout and password-history tests run too."""

import pytest

import runner

COMPLIANCE = """[identity.security_compliance]
lockout_failure_attempts = 2
lockout_duration = 5
unique_last_password_count = 2
minimum_password_age = 0
"""


@pytest.mark.timeout(runner.PYTEST_TIMEOUT)
def test_tempest_identity(tmp_path):
    cfg = tmp_path / "ferrostack.toml"
    cfg.write_text(COMPLIANCE)

    def prepare(srv):
        return {"identity-feature-enabled": {"security_compliance": True},
                "identity": {"user_lockout_failure_attempts": 2, "user_lockout_duration": 5,
                             "user_unique_last_password_count": 2,
                             "user_minimum_password_age": 0}}

    runner.run_service("identity", tmp_path, prepare=prepare,
                       server_kwargs={"extra_args": ["--config", str(cfg)]})
