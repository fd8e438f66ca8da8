"""Unit tests for the tempest runner's pieces that need no server:
the subunit parser / known-failures matching and the tempest.conf generator."""

import configparser
import io
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_conf  # noqa: E402
import tempest_results as tr  # noqa: E402

subunit = pytest.importorskip("subunit")

P = "tempest.api.identity."


def _stream(events):
    """events: (test_id, status, {name: text}) in order; status 'exists' first
    like stestr does for enumeration."""
    from testtools.content_type import UTF8_TEXT

    buf = io.BytesIO()
    out = subunit.StreamResultToBytes(buf)
    for test_id, status, attachments in events:
        if attachments:
            items = list(attachments.items())
            for i, (name, text) in enumerate(items):
                last = i == len(items) - 1
                out.status(test_id=test_id, file_name=name, file_bytes=text.encode(),
                           mime_type=str(UTF8_TEXT), eof=True,
                           test_status=status if last else None)
        else:
            out.status(test_id=test_id, test_status=status)
    return buf.getvalue()


TOKENS = P + "v3.test_tokens.TokensV3Test"
ROLES = P + "admin.v3.test_roles.RolesV3TestJSON"
TRUSTS = P + "admin.v3.test_trusts.TrustsV3TestJSON"
POL = P + "admin.v3.test_policies.PoliciesTestJSON"
DOM = P + "admin.v3.test_domains.DomainsTestJSON"

EVENTS = [
    # enumeration
    (TOKENS + ".test_create_token[id-6f8e4436]", "exists", None),
    (TOKENS + ".test_validate_token[id-a9512ac3]", "exists", None),
    (ROLES + ".test_list_roles[id-f5654bcc]", "exists", None),
    (ROLES + ".test_domain_roles_create_delete[id-d92a41d2,smoke]", "exists", None),
    (TRUSTS + ".test_trust_expire[id-0ed14b66]", "exists", None),
    (TRUSTS + ".test_trust_impersonate[id-5a0a91a4]", "exists", None),
    (POL + ".test_list_policies[id-1a0ad286]", "exists", None),
    (DOM + ".test_list_domains[id-8cf516ef]", "exists", None),
    (P + "v3.test_catalog.IdentityCatalogTest.test_catalog_standardization[id-56b57ced]", "exists", None),
    # results
    ("setUpClass (%s)" % TRUSTS, "skip", {"reason": "Trusts aren't enabled"}),
    (TOKENS + ".test_create_token[id-6f8e4436]", "inprogress", None),
    (TOKENS + ".test_create_token[id-6f8e4436]", "success", None),
    (TOKENS + ".test_validate_token[id-a9512ac3]", "fail",
     {"traceback": "Traceback (most recent call last):\n  ...\n"
                   "tempest.lib.exceptions.NotFound: Object not found\n"}),
    (ROLES + ".test_list_roles[id-f5654bcc]", "success", None),
    (ROLES + ".test_domain_roles_create_delete[id-d92a41d2,smoke]", "xfail", None),
    ("tearDownClass (%s)" % ROLES, "fail",
     {"traceback": "tempest.lib.exceptions.InvalidHttpSuccessCode: 200 != 204\n"}),
    ("setUpClass (%s)" % POL, "fail",
     {"traceback": "tempest.lib.exceptions.NotFound: Object not found\n"}),
    (DOM + ".test_list_domains[id-8cf516ef]", "success", None),
    # catalog test never reports: crashed worker
]


@pytest.fixture
def report():
    return tr.parse(_stream(EVENTS))


def _by_id(report):
    return {r.id: r for r in report.results}


def test_normalize_id():
    assert tr.normalize_id("a.b.C.test_x[id-1,smoke]") == "a.b.C.test_x"
    assert tr.normalize_id("setUpClass (a.b.C)") == "a.b.C.setUpClass"
    assert tr.normalize_id("tearDownClass (a.b.C)") == "a.b.C.tearDownClass"


def test_parse_statuses(report):
    r = _by_id(report)
    assert r[TOKENS + ".test_create_token"].status == "pass"
    assert r[TOKENS + ".test_validate_token"].status == "fail"
    assert r[TOKENS + ".test_validate_token"].reason == \
        "tempest.lib.exceptions.NotFound: Object not found"
    assert r[ROLES + ".test_list_roles"].status == "pass"
    assert r[ROLES + ".test_domain_roles_create_delete"].status == "pass"  # xfail counts as ok
    # class-level skip fans out to each announced test of the class
    assert r[TRUSTS + ".test_trust_expire"].status == "skip"
    assert r[TRUSTS + ".test_trust_expire"].reason == "Trusts aren't enabled"
    assert r[TRUSTS + ".test_trust_impersonate"].via == TRUSTS + ".setUpClass"
    # class-level setup failure fans out as failures
    assert r[POL + ".test_list_policies"].status == "fail"
    assert POL + ".setUpClass" not in r
    # tearDownClass failure is reported on its own
    assert r[ROLES + ".tearDownClass"].status == "fail"
    # announced but never reported -> failure (worker crash)
    cat = P + "v3.test_catalog.IdentityCatalogTest.test_catalog_standardization"
    assert r[cat].status == "fail" and "did not run" in r[cat].reason
    assert len(report.passed) == 4
    assert len(report.skipped) == 2
    assert len(report.failed) == 4


def test_known_failures_matching(tmp_path, report):
    kf = tmp_path / "known.txt"
    kf.write_text(
        "# comment\n\n"
        f"{TOKENS}.test_validate_token[id-a9512ac3]  # token revocation\n"
        f"{POL}  # policies API missing\n"
        f"re:test_catalog\\.  # catalog\n"
        f"{DOM}.test_list_domains  # was broken\n")
    known = tr.load_known_failures(kf)
    assert known[TOKENS + ".test_validate_token"] == "token revocation"
    assert tr.match_known(POL + ".test_list_policies", known) == POL
    assert tr.match_known(POL + ".setUpClass", known) == POL
    assert tr.match_known(POL + "X.test_a", known) is None  # prefix must end at a dot
    new, old, fixed = tr.compare(report, known)
    assert [r.id for r in new] == [ROLES + ".tearDownClass"]
    assert len(old) == 3
    assert fixed == [DOM + ".test_list_domains"]
    text = tr.summary_text(report, known)
    assert text.splitlines()[0] == (
        "tempest.api.identity: 4 passed, 4 failed (3 known, 1 new), 2 skipped, 10 total")
    assert "NEW FAILURES (1)" in text and "now PASS" in text


def test_repo_known_failures_files_parse():
    """Every known-failures file of the repo parses (an empty one is the goal)
    and names only tests of its own suite."""
    prefixes = {"scenario": "tempest.scenario.", "compute-qemu": "tempest.api.compute."}
    files = sorted(HERE.glob("known-failures-*.txt"))
    assert files
    for kf in files:
        name = kf.stem[len("known-failures-"):]
        prefix = prefixes.get(name, f"tempest.api.{name}.")
        known = tr.load_known_failures(kf)
        for entry in known:
            assert entry.startswith(prefix) or entry.startswith("re:"), (kf.name, entry)


def test_gen_conf(tmp_path):
    ws = tmp_path / "ws"
    conf = gen_conf.generate("http://127.0.0.1:5999", "s3cret%p$w", ws, detect=False)
    assert (ws / ".stestr.conf").exists()
    assert not (Path.home() / ".tempest" / "workspace.yaml").exists() or \
        str(ws) not in (Path.home() / ".tempest" / "workspace.yaml").read_text()
    cp = configparser.RawConfigParser()
    cp.read(conf)
    assert cp["identity"]["uri_v3"] == "http://127.0.0.1:5999/identity/v3"
    assert cp["identity"]["region"] == "RegionOne"
    assert cp["auth"]["admin_password"] == "s3cret%p$$w"  # oslo.config reads $$ as $
    assert cp["auth"]["use_dynamic_credentials"] == "true"
    assert cp["identity-feature-enabled"]["trust"] == "true"  # OS-TRUST is served
    assert cp["identity-feature-enabled"]["api_extensions"] == ",".join(gen_conf.DEFAULT_IDENTITY_EXTENSIONS)
    for svc in ("nova", "neutron", "glance", "cinder", "swift"):
        want = "true" if gen_conf.SERVICES_AVAILABLE.get(svc) else "false"
        assert cp["service_available"][svc] == want, svc
    # tempest itself accepts the file and finds the identity tests
    import subprocess
    out = subprocess.run(
        [str(gen_conf.VENV_BIN / "tempest"), "run", "--list-tests",
         "--regex", r"^tempest\.api\.identity\."],
        cwd=ws, capture_output=True, text=True, timeout=120,
        env={"PATH": str(gen_conf.VENV_BIN), "HOME": str(tmp_path),
             "TEMPEST_CONFIG_DIR": str(ws / "etc"), "TEMPEST_CONFIG": "tempest.conf"})
    ids = [ln for ln in out.stdout.splitlines() if ln.startswith("tempest.api.identity.")]
    assert len(ids) >= 100, out.stdout[-2000:] + out.stderr[-2000:]
