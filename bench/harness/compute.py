"""Ferrostack-only scenarios: servers with the fake driver (create to
ACTIVE latency, creates/s from 16 clients, listing 10 000 servers) and the
network/port creation rate.

Compute quotas are upstream's defaults (10 instances per project, fixed), so
the servers are spread over the data set's projects, 10 each, each project
driven with a token rescoped from the admin's (no bcrypt per project)."""

import json
import queue
import statistics
import threading
import time

from .client import Client, pool_map
from .loadgen import Request

COMPUTE_HEADERS = {"OpenStack-API-Version": "compute 2.1"}
PER_PROJECT = 10


def _rescope(target, admin_token, project_id):
    ident = Client(target.identity_url)
    resp, _ = ident.call("POST", "/auth/tokens", {"auth": {
        "identity": {"methods": ["token"], "token": {"id": admin_token}},
        "scope": {"project": {"id": project_id}}}})
    return resp.getheader("X-Subject-Token")


def project_tokens(target, ds, project_ids, workers=8):
    ident = Client(target.identity_url, ds.admin_token)
    admin = ident.get("/users?name=admin")["users"][0]["id"]
    role = ident.get("/roles?name=admin")["roles"][0]["id"]
    pool_map(lambda p: ident.put(f"/projects/{p}/users/{admin}/roles/{role}"), project_ids,
             workers)
    return pool_map(lambda p: _rescope(target, ds.admin_token, p), project_ids, workers)


def _server_body(ds, name):
    return {"server": {"name": name, "imageRef": ds.public_image_id, "flavorRef": "1"}}


def create_to_active(target, ds, token, n):
    """n sequential creates, each polled until ACTIVE; latencies in ms."""
    comp = Client(target.compute_url, token)
    out = []
    for i in range(n):
        t0 = time.monotonic()
        sid = comp.post("/servers", _server_body(ds, f"bench-latency-{i}"),
                        headers=COMPUTE_HEADERS)["server"]["id"]
        while True:
            status = comp.get(f"/servers/{sid}")["server"]["status"]
            if status == "ACTIVE":
                break
            if status == "ERROR":
                raise AssertionError(f"server {sid} went to ERROR")
            time.sleep(0.001)
        out.append((time.monotonic() - t0) * 1000)
    return out


def bulk_create(target, ds, tokens, clients=16):
    """PER_PROJECT servers in each project, `clients` threads; the rate."""
    work = queue.Queue()
    for t in tokens:
        work.put(t)
    lat, errors, lock = [], [], threading.Lock()

    def client():
        while True:
            try:
                token = work.get_nowait()
            except queue.Empty:
                return
            comp = Client(target.compute_url, token)
            for i in range(PER_PROJECT):
                t0 = time.monotonic()
                status, _, body = comp.raw("POST", "/servers",
                                           _server_body(ds, f"bench-{i}"), COMPUTE_HEADERS)
                with lock:
                    lat.append((time.monotonic() - t0) * 1000)
                    if status != 202:
                        errors.append((status, body[:200]))

    t0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - t0
    n = len(lat)
    return {"servers": n, "seconds": elapsed, "creates_per_s": n / elapsed,
            "p50_ms": statistics.median(lat), "p99_ms": _pct(lat, 99), "errors": len(errors),
            "first_error": errors[0] if errors else None}


def _pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def wait_all_active(target, ds, timeout=600):
    comp = Client(target.compute_url, ds.admin_token)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        building = comp.get("/servers?all_tenants=1&status=BUILD&limit=1000")["servers"]
        if not building:
            return time.monotonic() - t0
        time.sleep(0.2)
    raise AssertionError("servers still BUILD after the timeout")


def walk_pages(target, ds, limit):
    """Every server, page by page (marker = last id); (count, seconds)."""
    comp = Client(target.compute_url, ds.admin_token)
    t0, marker, count = time.monotonic(), None, 0
    while True:
        q = f"/servers/detail?all_tenants=1&limit={limit}" + (f"&marker={marker}" if marker else "")
        page = comp.get(q)["servers"]
        count += len(page)
        if len(page) < limit:
            return count, time.monotonic() - t0
        marker = page[-1]["id"]


def servers_detail_request(target, ds, query):
    return Request(target.compute_url + "/servers/detail" + query, "GET",
                   {"X-Auth-Token": ds.admin_token, **COMPUTE_HEADERS})


def network_setup(target, ds):
    """Unlimited network quotas for the admin project; a network with a /16
    subnet for the port scenario. Returns the network id."""
    ident = Client(target.identity_url, ds.admin_token)
    body = ident.get("/auth/tokens", headers={"X-Subject-Token": ds.admin_token})
    project = body["token"]["project"]["id"]
    net = Client(target.network_url, ds.admin_token)
    net.put(f"/v2.0/quotas/{project}", {"quota": {"network": -1, "subnet": -1, "port": -1}})
    net_id = net.post("/v2.0/networks", {"network": {"name": "bench-ports"}})["network"]["id"]
    net.post("/v2.0/subnets", {"subnet": {"network_id": net_id, "ip_version": 4,
                                          "cidr": "10.128.0.0/12", "name": "bench-ports"}})
    return net_id


def network_create_request(target, ds):
    body = json.dumps({"network": {"name": "bench-net"}}).encode()
    return Request(target.network_url + "/v2.0/networks", "POST",
                   {"X-Auth-Token": ds.admin_token, "Content-Type": "application/json"},
                   body, count_status=True)


def port_create_request(target, ds, net_id):
    body = json.dumps({"port": {"network_id": net_id}}).encode()
    return Request(target.network_url + "/v2.0/ports", "POST",
                   {"X-Auth-Token": ds.admin_token, "Content-Type": "application/json"},
                   body, count_status=True)
