"""Image data: upload and download a large file through PUT/GET
/v2/images/{id}/file, in MB/s, checksums verified both ways."""

import hashlib
import http.client
import os
import statistics
import time
import urllib.parse

from . import procs
from .client import Client

CHUNK = 1 << 20


def make_blob(path, size):
    """A file of `size` random bytes (kept between runs); its md5/sha256."""
    if not path.exists() or path.stat().st_size != size:
        with open(path, "wb") as f:
            left = size
            while left:
                n = min(CHUNK, left)
                f.write(os.urandom(n))
                left -= n
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            md5.update(chunk)
            sha.update(chunk)
    return md5.hexdigest(), sha.hexdigest()


def _conn(url):
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=300), parts.path


def upload(target, token, blob, size):
    image = Client(target.image_url, token)
    img = image.post("/v2/images", {"name": "bench-big", "disk_format": "raw",
                                    "container_format": "bare"})
    conn, prefix = _conn(target.image_url)
    t0 = time.monotonic()
    conn.putrequest("PUT", f"{prefix}/v2/images/{img['id']}/file")
    conn.putheader("X-Auth-Token", token)
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    with open(blob, "rb") as f:
        while chunk := f.read(CHUNK):
            conn.send(chunk)
    resp = conn.getresponse()
    resp.read()
    elapsed = time.monotonic() - t0
    conn.close()
    if resp.status not in (200, 201, 204):
        raise AssertionError(f"upload: status {resp.status}")
    return img["id"], elapsed


def download(target, token, image_id):
    conn, prefix = _conn(target.image_url)
    sha = hashlib.sha256()
    t0 = time.monotonic()
    conn.request("GET", f"{prefix}/v2/images/{image_id}/file", headers={"X-Auth-Token": token})
    resp = conn.getresponse()
    n = 0
    while chunk := resp.read(CHUNK):
        sha.update(chunk)
        n += len(chunk)
    elapsed = time.monotonic() - t0
    conn.close()
    if resp.status != 200:
        raise AssertionError(f"download: status {resp.status}")
    return sha.hexdigest(), n, elapsed


def measure(target, token, blob, size, md5, sha256, rounds):
    """rounds × (upload, download): median MB/s each, checksums checked."""
    ups, downs = [], []
    server = target.image_proc
    with procs.Usage(server.pid) as usage:
        for _ in range(rounds):
            image_id, t_up = upload(target, token, blob, size)
            meta = Client(target.image_url, token).get(f"/v2/images/{image_id}")
            if meta.get("checksum") != md5 or meta.get("size") != size:
                raise AssertionError(f"upload: server checksum {meta.get('checksum')} "
                                     f"size {meta.get('size')}, expected {md5} {size}")
            got, n, t_down = download(target, token, image_id)
            if got != sha256 or n != size:
                raise AssertionError(f"download: sha256 {got} of {n} bytes, expected {sha256}")
            ups.append(size / t_up / 1e6)
            downs.append(size / t_down / 1e6)
            Client(target.image_url, token).call("DELETE", f"/v2/images/{image_id}")
    return {"upload_mb_s": statistics.median(ups), "download_mb_s": statistics.median(downs),
            "server": server.name, "rounds": rounds, "size": size, "peak_rss": usage.peak_rss, "cpu_s": usage.cpu,
            "checksums": "verified"}
