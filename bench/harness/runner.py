"""One side of the run: start, populate, restart (start-up time and idle
RSS on the populated data), measure every scenario, stop."""

import time

from . import compute, loadgen, populate, procs, scenarios, transfer


class Failures(list):
    """Scenario errors on the ferrostack side (the smoke fails on any)."""


def restart_measure(make_target, settle, log):
    """A started target with start-up times and idle RSS recorded."""
    target = make_target()
    info = {}
    for p in target.procs():
        p.start()
    time.sleep(settle)
    for p in target.procs():
        info[p.name] = {"startup_s": p.startup_s, "idle_rss": procs.rss_bytes(procs.tree(p.pid)),
                        "processes": len(procs.tree(p.pid))}
        log(f"  {p.name}: first 200 after {p.startup_s * 1000:.0f} ms, idle RSS "
            f"{info[p.name]['idle_rss'] / 2**20:.1f} MiB in {info[p.name]['processes']} processes")
    return target, info


def run_side(make_target, cfg, raw, log, failures, is_ferro):
    side = {"servers": {}, "requests": {}}
    # 1. populate on a first start
    target = make_target()
    for p in target.procs():
        p.start()
    try:
        ds = populate.populate(target, cfg.users, cfg.projects, cfg.images, log=log)
    finally:
        target.stop()
    # 2. restart on the populated data: start-up and idle RSS
    target, side["servers"] = restart_measure(make_target, cfg.settle, log)
    try:
        _requests(target, ds, cfg, raw, log, failures, is_ferro, side)
        side["transfer"] = _transfer(target, ds, cfg, log, failures, is_ferro)
        side["creates"] = _creates(target, ds, cfg, raw, log, failures, is_ferro)
        if is_ferro and not cfg.skip_compute:
            side["compute"] = _compute(target, ds, cfg, raw, log, failures)
        for p in target.procs():
            side["servers"][p.name]["peak_rss_final"] = procs.rss_bytes(procs.tree(p.pid))
    finally:
        target.stop()
    return side


def _record(failures, is_ferro, what, m):
    if is_ferro and (m.get("errors") or m.get("non2xx")):
        failures.append(f"{what}: {m.get('errors')} errors ({m.get('non2xx')} non-2xx)")
    if is_ferro and not m.get("requests"):
        failures.append(f"{what}: no request completed within the measurement")


def _requests(target, ds, cfg, raw, log, failures, is_ferro, side):
    ident_proc, image_proc = target.identity_proc, target.image_proc
    for sc in scenarios.request_scenarios(cfg.users, cfg.projects, cfg.images):
        sc.check(target, ds)
        proc = ident_proc if not sc.key.startswith("images") else image_proc
        out = side["requests"][sc.key] = {}
        for conns in cfg.concurrency:
            path = raw / f"{target.name}-{sc.key}-c{conns}.txt"
            # bcrypt-bound requests are slow: give them twice the time.
            duration = cfg.duration * (2 if sc.key == "token_issue" else 1)
            m = loadgen.measure(proc, sc.build(target, ds), conns, duration, path)
            out[conns] = m
            log(f"  {target.name} {sc.key} c={conns}: {m['rps']:.1f} req/s, p50 "
                f"{m['p50_ms']:.1f} ms, p99 {m['p99_ms']:.1f} ms, errors {m['errors']}")
            _record(failures, is_ferro, f"{sc.key} c={conns}", m)


def _transfer(target, ds, cfg, log, failures, is_ferro):
    try:
        t = transfer.measure(target, ds.admin_token, cfg.blob, cfg.blob_size, cfg.blob_md5,
                             cfg.blob_sha256, cfg.transfer_rounds)
    except (AssertionError, OSError) as e:
        if is_ferro:
            failures.append(f"image transfer: {e}")
        log(f"  {target.name} transfer FAILED: {e}")
        return {"error": str(e)}
    log(f"  {target.name} {cfg.blob_size >> 20} MiB upload {t['upload_mb_s']:.0f} MB/s, "
        f"download {t['download_mb_s']:.0f} MB/s (checksums verified)")
    return t


def _creates(target, ds, cfg, raw, log, failures, is_ferro):
    req = scenarios.image_create_request(target, ds)
    m = loadgen.measure(target.image_proc, req, 16, cfg.duration,
                        raw / f"{target.name}-image_create-c16.txt")
    log(f"  {target.name} image create c=16: {m['rps']:.1f}/s, 5xx {m['s5xx']}, "
        f"non-2xx {m['non2xx']}")
    _record(failures, is_ferro, "image create c=16", m)
    return m


def _compute(target, ds, cfg, raw, log, failures):
    out = {}
    pids = ds.counts["project_ids"][: cfg.server_projects]
    t0 = time.monotonic()
    tokens = compute.project_tokens(target, ds, pids)
    out["project_tokens_s"] = time.monotonic() - t0
    lat = compute.create_to_active(target, ds, tokens[0], compute.PER_PROJECT)
    lat.sort()
    out["create_to_active_ms"] = {"p50": lat[len(lat) // 2], "max": lat[-1], "n": len(lat)}
    log(f"  server create to ACTIVE: p50 {lat[len(lat) // 2]:.1f} ms, max {lat[-1]:.1f} ms")
    bulk = compute.bulk_create(target, ds, tokens[1:], clients=16)
    bulk["active_after_s"] = compute.wait_all_active(target, ds)
    out["bulk"] = bulk
    log(f"  {bulk['servers']} server creates from 16 clients: {bulk['creates_per_s']:.0f}/s "
        f"(p50 {bulk['p50_ms']:.1f} ms, p99 {bulk['p99_ms']:.1f} ms), errors {bulk['errors']}; "
        f"all ACTIVE {bulk['active_after_s']:.1f} s later")
    if bulk["errors"]:
        failures.append(f"server create: {bulk['errors']} errors, first {bulk['first_error']}")
    total = len(pids) * compute.PER_PROJECT
    count, secs = compute.walk_pages(target, ds, 1000)
    out["walk"] = {"servers": count, "seconds": secs, "page": 1000}
    log(f"  walked {count} servers in pages of 1000 in {secs:.2f} s")
    if count < total:
        failures.append(f"servers/detail walk: {count} servers, expected {total}")
    out["detail"] = {}
    for label, query in (("default page (1000)", "?all_tenants=1"),
                         ("limit=100", "?all_tenants=1&limit=100")):
        out["detail"][label] = {}
        for conns in cfg.concurrency:
            req = compute.servers_detail_request(target, ds, query)
            slug = "servers_detail_" + ("default" if "default" in label else "limit100")
            m = loadgen.measure(target.identity_proc, req, conns, cfg.duration,
                                raw / f"{target.name}-{slug}-c{conns}.txt")
            out["detail"][label][conns] = m
            log(f"  GET /servers/detail {label} c={conns}: {m['rps']:.1f} req/s, "
                f"p50 {m['p50_ms']:.1f} ms, p99 {m['p99_ms']:.1f} ms, errors {m['errors']}")
            _record(failures, True, f"servers/detail {label} c={conns}", m)
    net_id = compute.network_setup(target, ds)
    out["network"] = {}
    for kind, req in (("network", compute.network_create_request(target, ds)),
                      ("port", compute.port_create_request(target, ds, net_id))):
        out["network"][kind] = {}
        for conns in cfg.write_concurrency:
            m = loadgen.measure(target.identity_proc, req, conns, cfg.duration,
                                raw / f"{target.name}-{kind}_create-c{conns}.txt")
            out["network"][kind][conns] = m
            log(f"  {kind} create c={conns}: {m['rps']:.1f}/s, p50 {m['p50_ms']:.1f} ms, "
                f"p99 {m['p99_ms']:.1f} ms, non-2xx {m['non2xx']}")
            _record(failures, True, f"{kind} create c={conns}", m)
    return out
