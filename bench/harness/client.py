"""A small keep-alive HTTP/JSON client over http.client, one connection per
thread, and a helper to run many calls on a pool of threads."""

import http.client
import json
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor


class HttpError(Exception):
    def __init__(self, method, url, status, body):
        super().__init__(f"{method} {url} -> {status}: {body[:300]!r}")
        self.status = status


class Client:
    """Calls one base URL (scheme://host:port/prefix) with a default token."""

    def __init__(self, base, token=None, timeout=120):
        parts = urllib.parse.urlsplit(base)
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._local = threading.local()

    def with_token(self, token):
        return Client(self.base, token, self.timeout)

    def _conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = c
        return c

    def raw(self, method, path, body=None, headers=None):
        """One request; returns (status, headers, body bytes). Retries once
        on a connection the server closed (gunicorn's sync workers do)."""
        hdrs = {}
        if self.token:
            hdrs["X-Auth-Token"] = self.token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        url = self.prefix + path
        for attempt in (0, 1):
            conn = self._conn()
            try:
                conn.request(method, url, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                return resp.status, resp, data
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, http.client.CannotSendRequest):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def call(self, method, path, body=None, headers=None, ok=(200, 201, 202, 204)):
        status, resp, data = self.raw(method, path, body, headers)
        if status not in ok:
            raise HttpError(method, self.base + path, status, data)
        return resp, (json.loads(data) if data and data[:1] in b"{[" else None)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)[1]

    def post(self, path, body, **kw):
        return self.call("POST", path, body, **kw)[1]

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)[1]


def pool_map(fn, items, workers=8):
    """fn over items on `workers` threads; raises the first error."""
    with ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(fn, items))


def password_auth(user, password, project="admin", domain="default"):
    return {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": domain}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": domain}}}}}


def issue_token(identity, body):
    """POST /v3/auth/tokens on an identity Client (base .../v3); the token."""
    resp, _ = identity.call("POST", "/auth/tokens", body)
    return resp.getheader("X-Subject-Token")
