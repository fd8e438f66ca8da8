"""Keep-alive safety: a request whose body the server never read is answered
with `Connection: close`, so pooled clients do not reuse a socket the server
is about to close; a request whose body was read keeps its connection."""

import http.client
import json
import uuid


def _conn(server):
    host, port = server.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


def test_unread_body_closes_connection(sqlite_server):
    token = sqlite_server.admin_token()
    conn = _conn(sqlite_server)
    body = b"\0" * 200_000
    conn.request("PUT", f"/image/v2/images/{uuid.uuid4()}/file", body=body,
                 headers={"X-Auth-Token": token,
                          "Content-Type": "application/octet-stream"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 404
    assert resp.getheader("Connection", "").lower() == "close"


def test_read_body_keeps_connection(sqlite_server):
    token = sqlite_server.admin_token()
    conn = _conn(sqlite_server)
    headers = {"X-Auth-Token": token, "Content-Type": "application/json"}
    # A 4xx after the body was parsed: the connection stays usable.
    conn.request("POST", "/image/v2/images",
                 body=json.dumps({"disk_format": "nonsense"}), headers=headers)
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 400
    assert resp.getheader("Connection", "").lower() != "close"
    conn.request("GET", "/image/v2/images", headers=headers)
    again = conn.getresponse()
    again.read()
    assert again.status == 200
