"""Parse a tempest/stestr subunit v2 stream into per-test results and compare
them with a known-failures list.

Only the `subunit` and `testtools` packages (installed with tempest) are used.

Details worth knowing about tempest's stream:
  * stestr first announces every selected test with status ``exists``; a test
    that never ran keeps that status.
  * When a class's ``setUpClass`` fails or skips (tempest's ``skip_checks``),
    its tests are *not* reported individually; there is a single pseudo-test
    ``setUpClass (tempest.api....Class)`` instead.  We fan that result out to
    every announced test of the class so counts are per test.
  * Test ids carry attributes: ``...test_foo[id-<uuid>,smoke]``; we strip the
    ``[...]`` part for matching and reporting.

Known-failures file: one entry per line, ``<entry>  # reason``; blank lines and
lines starting with ``#`` are ignored.  An entry matches a test when it is
  * the exact (normalised) test id, or
  * a module/class prefix of it (``tempest.api.identity.admin.v3.test_policies``
    or ``...test_policies.PoliciesTestJSON``), or
  * ``re:<regex>`` searched in the normalised id.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

FINAL_OK = {"success", "xfail"}
FINAL_FAIL = {"fail", "uxsuccess"}
FINAL_SKIP = {"skip"}

_CLASS_FIXTURE = re.compile(r"^(setUpClass|tearDownClass|setUpModule|tearDownModule) \((.+)\)$")


def normalize_id(test_id):
    """`a.b.C.test_x[id-...,smoke]` -> `a.b.C.test_x`;
    `setUpClass (a.b.C)` -> `a.b.C.setUpClass`."""
    m = _CLASS_FIXTURE.match(test_id)
    if m:
        return f"{m.group(2)}.{m.group(1)}"
    return test_id.split("[", 1)[0]


@dataclass
class Result:
    id: str                 # normalised id
    raw_id: str
    status: str             # pass | fail | skip
    reason: str = ""        # one line: skip reason or last traceback line
    detail: str = ""        # full traceback / reason text
    via: str = ""           # set when the outcome comes from a class fixture


@dataclass
class Report:
    results: list = field(default_factory=list)

    def by_status(self, status):
        return [r for r in self.results if r.status == status]

    @property
    def passed(self):
        return self.by_status("pass")

    @property
    def failed(self):
        return self.by_status("fail")

    @property
    def skipped(self):
        return self.by_status("skip")


def _texts(details):
    texts = {}
    for name, content in (details or {}).items():
        try:
            texts[name] = content.as_text()
        except Exception:  # binary attachment
            continue
    return texts


def _detail_text(texts):
    """Traceback (or skip reason) first, then any other text attachments."""
    first = [texts[k] for k in ("traceback", "reason") if k in texts]
    rest = [v for k, v in texts.items() if k not in ("traceback", "reason")]
    return "\n".join(t for t in first + rest if t)


_EXC_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*\w*(?:Error|Exception|Failure|Found|Forbidden|"
                       r"Unauthorized|Request|Conflict|Code|Type|Fault|Timeout|Gone)\b(?::.*)?$")
_HTTP_LINE = re.compile(r"Request \([^)]*\): (\d{3} [A-Z]+ \S+)")


def _one_line(text):
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _reason(texts):
    """One line: the exception (plus tempest's 'Details:' line) and the last
    HTTP request tempest logged, e.g.
    'tempest.lib.exceptions.NotFound: Object not found | Details: {...} | last request: 404 POST http://...'"""
    if "reason" in texts and "traceback" not in texts:
        return _one_line(texts["reason"])
    tb = texts.get("traceback", "")
    lines = [ln.rstrip() for ln in tb.splitlines() if ln.strip()]
    idx = None
    for i, ln in enumerate(lines):
        if not ln.startswith(" ") and _EXC_LINE.match(ln):
            idx = i
    if idx is None:
        msg = _one_line(tb)
    else:
        msg = lines[idx]
        for extra in lines[idx + 1:idx + 3]:
            if extra.startswith("Details:"):
                msg += " | " + extra
    log = "\n".join(v for k, v in texts.items() if k not in ("traceback", "reason"))
    reqs = _HTTP_LINE.findall(log)
    if reqs:
        msg += " | last request: " + reqs[-1]
    return msg[:400]


def read_stream(source):
    """Return the list of testtools.StreamToDict test dicts from a path, bytes
    or binary file object."""
    import io

    import subunit
    import testtools

    if isinstance(source, (str, Path)):
        fh = open(source, "rb")
        close = True
    elif isinstance(source, (bytes, bytearray)):
        fh, close = io.BytesIO(source), True
    else:
        fh, close = source, False
    tests = []
    try:
        case = subunit.ByteStreamToStreamResult(fh, non_subunit_name="stdout")
        result = testtools.StreamToDict(tests.append)
        result.startTestRun()
        try:
            case.run(result)
        finally:
            result.stopTestRun()
    finally:
        if close:
            fh.close()
    return tests


def parse(source):
    """Parse a subunit v2 stream into a Report with one Result per test."""
    raw = read_stream(source)
    latest = {}
    for t in raw:  # a test id can appear twice (exists, then result); keep the final one
        prev = latest.get(t["id"])
        if prev is None or prev["status"] in ("exists", "inprogress", None):
            latest[t["id"]] = t
    fixtures = {}   # class path -> Result for setUpClass/tearDownClass failures/skips
    tests = []
    for raw_id, t in latest.items():
        status = t["status"]
        texts = _texts(t.get("details"))
        text, reason = _detail_text(texts), _reason(texts)
        m = _CLASS_FIXTURE.match(raw_id)
        if m:
            kind, cls = m.group(1), m.group(2)
            if status in FINAL_FAIL or status in FINAL_SKIP:
                st = "skip" if status in FINAL_SKIP else "fail"
                # setUp failure dominates a later tearDown failure; a skip is weakest
                old = fixtures.get(cls)
                if old is None or (old.status == "skip" and st == "fail"):
                    fixtures[cls] = Result(normalize_id(raw_id), raw_id, st, reason, text)
            continue
        tests.append((raw_id, status, text, reason))

    report = Report()
    seen_classes = set()
    for raw_id, status, text, reason in tests:
        nid = normalize_id(raw_id)
        cls = nid.rsplit(".", 1)[0]
        seen_classes.add(cls)
        fx = fixtures.get(cls)
        if status in FINAL_OK:
            st = "pass"
        elif status in FINAL_FAIL:
            st = "fail"
        elif status in FINAL_SKIP:
            st = "skip"
        else:  # never ran: explained by a class fixture, or a crashed worker
            if fx is not None:
                report.results.append(Result(nid, raw_id, fx.status, fx.reason, fx.detail, via=fx.id))
                continue
            st = "fail"
            text = reason = f"test did not run (status {status!r}; worker crash or timeout?)"
        report.results.append(Result(nid, raw_id, st, reason, text))
    # class fixtures whose class had no announced tests, and every tearDown*
    # failure (a test may pass but its class cleanup can still be broken)
    for cls, fx in fixtures.items():
        if cls not in seen_classes or (fx.status == "fail" and fx.id.endswith(("tearDownClass", "tearDownModule"))):
            report.results.append(fx)
    report.results.sort(key=lambda r: r.id)
    return report


def load_known_failures(path):
    """Return an ordered dict {entry: reason}."""
    known = {}
    p = Path(path)
    if not p.exists():
        return known
    for line in p.read_text().splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        entry, _, reason = s.partition("#")
        entry = entry.strip()
        if entry:
            known[normalize_id(entry) if not entry.startswith("re:") else entry] = reason.strip()
    return known


def match_known(test_id, known):
    """Return the matching known-failures entry for a normalised id, or None."""
    if test_id in known:
        return test_id
    for entry in known:
        if entry.startswith("re:"):
            if re.search(entry[3:], test_id):
                return entry
        elif test_id.startswith(entry + "."):
            return entry
    return None


def compare(report, known):
    """Return (new_failures, known_failures, fixed) where `fixed` lists
    known-failure entries that matched only passing tests (candidates for
    removal) and new_failures are failing Results not covered by the list."""
    new, old = [], []
    used = {}
    for r in report.results:
        entry = match_known(r.id, known)
        if entry is not None:
            used.setdefault(entry, set()).add(r.status)
        if r.status != "fail":
            continue
        (old if entry is not None else new).append(r)
    fixed = [e for e, sts in used.items() if sts and "fail" not in sts and "pass" in sts]
    return new, old, fixed


def summary_text(report, known, title="tempest.api.identity", extra_lines=()):
    new, old, fixed = compare(report, known)
    lines = [
        f"{title}: {len(report.passed)} passed, {len(report.failed)} failed "
        f"({len(old)} known, {len(new)} new), {len(report.skipped)} skipped, "
        f"{len(report.results)} total",
    ]
    lines += list(extra_lines)
    if new:
        lines += ["", f"NEW FAILURES ({len(new)}) -- not in known-failures:"]
        lines += [f"  {r.id}\n      {r.reason}" + (f"  [via {r.via}]" if r.via else "") for r in new]
    if old:
        lines += ["", f"Known failures ({len(old)}):"]
        for r in old:
            entry = match_known(r.id, known)
            why = known.get(entry, "")
            lines.append(f"  {r.id}" + (f"  # {why}" if why else ""))
            lines.append(f"      {r.reason}" + (f"  [via {r.via}]" if r.via else ""))
    if fixed:
        lines += ["", "Known-failure entries that now PASS (remove them):"]
        lines += [f"  {e}" for e in fixed]
    if report.skipped:
        lines += ["", f"Skipped ({len(report.skipped)}):"]
        lines += [f"  {r.id}  -- {r.reason}" for r in report.skipped]
    if report.passed:
        lines += ["", f"Passed ({len(report.passed)}):"]
        lines += [f"  {r.id}" for r in report.passed]
    return "\n".join(lines) + "\n"
