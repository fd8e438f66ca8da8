"""The results as markdown: machine, side-by-side tables, targets met or
missed. Ratios are ferrostack / upstream for rates (higher is better)
and upstream / ferrostack for memory and time (higher is better)."""

MiB = 2 ** 20


def _f(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


def _rate(m):
    if m is None:
        return "–"
    return _f(m["rps"]) if m["requests"] else "0 (none completed)"


def _lat(m, digits=1):
    if m is None or not m["requests"]:
        return "– / –"
    return f"{_f(m['p50_ms'], digits)} / {_f(m['p99_ms'], digits)}"


def _ratio(a, b):
    return a / b if a and b else None


def _peak(side, key):
    """Best req/s over the concurrencies, and the concurrency."""
    runs = side["requests"].get(key, {})
    if not runs:
        return None, None
    conns, m = max(runs.items(), key=lambda kv: kv[1]["rps"])
    return m["rps"], conns


def _machine(res):
    m = res["machine"]
    lines = ["## Machine", "",
             f"- date: {m['date']}; run took {res['elapsed_s'] / 60:.1f} min",
             f"- CPU: {m['cpu']}, nproc {m['nproc']}; RAM {m['ram_gib']} GiB; kernel {m['kernel']}",
             f"- ferrostack commit {m['ferrostack_commit']}, binary {m['ferrostack_binary']}",
             f"- load average (1/5/15 min) at start {' '.join(m['loadavg_start'])}, "
             f"at end {' '.join(m.get('loadavg_end', []))} (other jobs share this machine)",
             f"- load generator: {m['wrk']}; Python {m['python']}"
             if res.get("ferrostack") else f"- Python {m['python']}"]
    split = m.get("cpu_split")
    if not res.get("ferrostack"):
        pass   # real guests only: their CPUs are given in their section
    elif split:
        lines.append(f"- CPUs: every server process pinned to CPU {', '.join(map(str, split['server']))}; "
                     f"wrk and the Python clients to CPU {', '.join(map(str, split['load']))}")
    else:
        lines.append("- CPUs: servers and load generator share every CPU (`--no-pin`)")
    if "upstream_versions" in m:
        v = ", ".join(f"{k} {val}" for k, val in sorted(m["upstream_versions"].items()))
        lines.append(f"- upstream: {v}; gunicorn 2 sync workers per service; SQLite; "
                     "Fernet tokens; Glance file store, no auth in front")
    c = res["config"]
    if res.get("ferrostack"):
        lines.append(f"- data set: {c['users']} users, {c['projects']} projects, {c['images']} images; "
                     f"{c['duration']:g} s per measurement; concurrency {c['concurrency']}")
    return lines


def _requests_table(res):
    fs, up = res["ferrostack"], res.get("upstream")
    lines = ["## Request scenarios", "",
             "req/s; latency p50/p99 in ms; server CPU ms per request; errors = non-2xx "
             "and socket errors.", "",
             "| scenario | conc | upstream req/s | Ferrostack req/s | ratio | upstream p50/p99 "
             "| Ferrostack p50/p99 | CPU ms/req up / fs | errors up / fs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    labels = {"token_issue": "token issue (password)", "token_validate": "token validation",
              "users_list": "GET /v3/users", "projects_list": "GET /v3/projects",
              "images_list": "GET /v2/images", "images_list_1000": "GET /v2/images?limit=1000"}
    for key, runs in fs["requests"].items():
        for conns, f in runs.items():
            u = up["requests"][key][conns] if up else None
            lines.append(
                f"| {labels.get(key, key)} | {conns} | {_rate(u)} | {_rate(f)} | "
                f"{_f(_ratio(f['rps'], u and u['rps']))}× | {_lat(u)} | {_lat(f, 2)} | "
                f"{_f(u and u['cpu_ms_per_req'], 2)} / {_f(f['cpu_ms_per_req'], 3)} | "
                f"{u['errors'] if u else '–'} / {f['errors']} |")
    return lines


def _servers_table(res):
    fs, up = res["ferrostack"], res.get("upstream")
    lines = ["## Start-up, memory, image data, concurrent writes", "",
             "| measure | upstream | Ferrostack | ratio |", "|---|---:|---:|---:|"]
    f = fs["servers"]["ferrostack"]
    if up:
        ks, gl = up["servers"]["keystone"], up["servers"]["glance"]
        lines += [
            f"| start-up to first 200, Keystone (s) | {ks['startup_s']:.2f} | "
            f"{f['startup_s']:.3f} | {_f(_ratio(ks['startup_s'], f['startup_s']))}× faster |",
            f"| start-up to first 200, Glance (s) | {gl['startup_s']:.2f} | – | |",
            f"| idle RSS, Keystone alone ({ks['processes']} processes, MiB) | "
            f"{ks['idle_rss'] / MiB:.1f} | {f['idle_rss'] / MiB:.1f} | "
            f"{_f(_ratio(ks['idle_rss'], f['idle_rss']))}× smaller |",
            f"| idle RSS, Keystone + Glance (MiB) | {(ks['idle_rss'] + gl['idle_rss']) / MiB:.1f} | "
            f"{f['idle_rss'] / MiB:.1f} | "
            f"{_f(_ratio(ks['idle_rss'] + gl['idle_rss'], f['idle_rss']))}× smaller |",
            f"| RSS after all scenarios, Keystone + Glance (MiB) | "
            f"{(ks['peak_rss_final'] + gl['peak_rss_final']) / MiB:.1f} | "
            f"{f['peak_rss_final'] / MiB:.1f} | |",
        ]
    else:
        lines += [f"| start-up to first 200 (s) | – | {f['startup_s']:.3f} | |",
                  f"| idle RSS (MiB) | – | {f['idle_rss'] / MiB:.1f} | |"]
    peak_f = _max_peak(fs)
    peak_u = _max_peak(up) if up else None
    lines.append(f"| peak RSS during the scenarios, sampled every 100 ms (MiB) | "
                 f"{_f(peak_u and peak_u / MiB)} | {peak_f / MiB:.1f} | |")
    tf, tu = fs.get("transfer", {}), (up or {}).get("transfer", {})
    size = res["config"].get("blob_size", 0) >> 20
    for k, label in (("upload_mb_s", "upload"), ("download_mb_s", "download")):
        lines.append(f"| {size} MiB image {label} (MB/s, median, checksum verified) | "
                     f"{_f(tu.get(k))} | {_f(tf.get(k))} | {_f(_ratio(tf.get(k), tu.get(k)))}× |")
    cf, cu = fs["creates"], (up or {}).get("creates")
    lines.append(f"| image creates from 16 connections (req/s) | {_f(cu and cu['rps'])} | "
                 f"{_f(cf['rps'])} | {_f(_ratio(cf['rps'], cu and cu['rps']))}× |")
    lines.append(f"| … of which 5xx | {cu['s5xx'] if cu else '–'} of {cu['requests'] if cu else '–'} | "
                 f"{cf['s5xx']} of {cf['requests']} | |")
    return lines


def _max_peak(side):
    """Sum over the side's servers of each one's highest sampled RSS (every
    measurement dict carries `server` and `peak_rss`)."""
    best = {}

    def walk(v):
        if isinstance(v, dict):
            if "server" in v and "peak_rss" in v:
                best[v["server"]] = max(best.get(v["server"], 0), v["peak_rss"])
            for x in v.values():
                walk(x)

    walk({k: v for k, v in side.items() if k != "servers"})
    return sum(best.values())


def _compute(res):
    c = res["ferrostack"].get("compute")
    if not c:
        return []
    b, w = c["bulk"], c["walk"]
    lines = ["## Ferrostack alone: compute (fake driver) and network", "",
             f"- server create to ACTIVE, one client, sequential: p50 "
             f"{c['create_to_active_ms']['p50']:.1f} ms, max {c['create_to_active_ms']['max']:.1f} ms "
             f"({c['create_to_active_ms']['n']} servers)",
             f"- {b['servers']:,} server creates from 16 concurrent clients (10 per project, "
             f"upstream's default quota): {b['creates_per_s']:,.0f} creates/s, POST p50 "
             f"{b['p50_ms']:.1f} ms / p99 {b['p99_ms']:.1f} ms, errors {b['errors']}; all ACTIVE "
             f"{b['active_after_s']:.1f} s after the last POST",
             f"- walking all {w['servers']:,} servers through `GET /servers/detail?all_tenants=1` "
             f"in pages of {w['page']}: {w['seconds']:.2f} s", "",
             "| request | conc | req/s | p50 / p99 ms | CPU ms/req | errors |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, runs in c["detail"].items():
        for conns, m in runs.items():
            lines.append(f"| GET /servers/detail?all_tenants=1, {label} | {conns} | "
                         f"{_rate(m)} | {_lat(m, 2)} | "
                         f"{_f(m['cpu_ms_per_req'], 2)} | {m['errors']} |")
    for kind, runs in c["network"].items():
        for conns, m in runs.items():
            lines.append(f"| POST /v2.0/{kind}s | {conns} | {_rate(m)} | {_lat(m, 2)} | "
                         f"{_f(m['cpu_ms_per_req'], 2)} | {m['errors']} |")
    return lines


def _guests(res):
    g = res.get("guests")
    if not g:
        return []
    lines = ["## Real guests: Ferrostack (qemu driver) vs plain QEMU", ""]
    if g.get("skipped"):
        return lines + [f"Skipped: {g['skipped']}."]
    accel = g.get("accel") or g.get("accel_setting")
    lines.append(f"The test guest (tests/guest) on both sides: {g['memory_mb']} MiB, 1 vCPU, "
                 f"accelerator {accel} (setting `{g['accel_setting']}`), qcow2 overlay grown to "
                 f"{g['disk_gb']} GiB on virtio, config drive ISO as IDE CD-ROM, serial to a file; "
                 "plain QEMU gets the driver's command line and the clock starts before its "
                 "overlay and ISO are made. Sequential boots alternate the two sides (and which "
                 "goes first); each guest is deleted (plain: SIGTERM) before the next. "
                 + (f"Ferrostack and every QEMU on CPUs {', '.join(map(str, g['cpus']))}. "
                    if g.get("cpus") else "")
                 + "Ratio: Ferrostack / plain (lower is better, 1.0 is the physical limit); "
                 "on a loaded machine the wall times move by seconds from boot to boot, the "
                 "QEMU CPU time much less.")
    lines.append("")
    if g.get("error"):
        lines += [f"**Failed**: {g['error']}", ""]
    seq, conc = g.get("sequential"), g.get("concurrent")
    lines += ["| measure | plain QEMU | Ferrostack | ratio |", "|---|---:|---:|---:|"]

    def ms(sm):
        return f"{sm['p50']:.0f} / {sm['p95']:.0f}" if sm else "–"

    if seq:
        f, p = seq["ferrostack"], seq["plain"]
        n = f["create_to_ready_s"]["n"]
        lines += [
            f"| create → ACTIVE, ms p50 / p95 ({n} sequential) | – | "
            f"{ms(f['create_to_active_ms'])} | |",
            f"| create → QEMU process started, ms p50 / p95 | – | "
            f"{ms(f['post_to_qemu_start_ms'])} | |",
            f"| QEMU process started → ACTIVE, ms p50 / max | – | "
            + (f"{f['qemu_start_to_active_ms']['p50']:.0f} / "
               f"{f['qemu_start_to_active_ms']['max']:.0f}" if f["qemu_start_to_active_ms"]
               else "–") + " | |",
            f"| QEMU exec → QMP answers, ms p50 / p95 | {ms(p['launch_to_qmp_ms'])} | – | |",
            f"| boot to `FERRO-READY`, s p50 (min–max) | {_s(p['launch_to_ready_s'])} | "
            f"{_s(f['create_to_ready_s'])} | {seq['ready_ratio']:.2f}× |",
            f"| QEMU CPU time (user + system) until ready, s p50 (min–max) | "
            f"{_s(p.get('qemu_cpu_s_at_ready'))} | {_s(f.get('qemu_cpu_s_at_ready'))} | |",
            f"| QEMU RSS at ready, MiB p50 | {_mib(p['qemu_rss_at_ready'])} | "
            f"{_mib(f['qemu_rss_at_ready'])} | |"]
    c = g.get("ferrostack_cpu")
    if c:
        lines.append(f"| Ferrostack's own CPU time per sequential boot (create, poll, delete), ms "
                     f"| – | {c['per_boot_s'] * 1000:.0f} | |")
    if conc and "plain" in conc:
        f, p = conc["ferrostack"], conc["plain"]
        k = f["ready_s"]["n"]
        lines += [
            f"| {k} boots at once, all ready, s wall (median of {conc.get('rounds', 1)}: "
            f"{_rounds(p)} / {_rounds(f)}) | {p['wall_s']:.2f} | {f['wall_s']:.2f} | "
            f"{conc['wall_ratio']:.2f}× |",
            f"| … each boot to ready (first round), s p50 (min–max) | {_s(p['ready_s'])} | {_s(f['ready_s'])} | |",
            f"| … QEMU RSS per guest with {k} running (first round), MiB p50 (min–max) | "
            f"{_mib(p['qemu_rss'], True)} | {_mib(f['qemu_rss'], True)} | |"]
    r = g.get("ferrostack_rss")
    if r and "growth" in r:
        lines.append(f"| Ferrostack's own RSS, MiB: before → with {g['concurrent_n']} guests → "
                     f"all deleted | – | {r['baseline'] / MiB:.1f} → {r['with_guests'] / MiB:.1f} → "
                     f"{r['after_all_deleted'] / MiB:.1f} (growth {r['growth'] / MiB:.1f}) | |")
    if g.get("targets"):
        lines += ["", "| target | measured | |", "|---|---|---|"]
        lines += [f"| {n} | {m} | {'met' if ok else '**missed**'} |" for n, m, ok in g["targets"]]
    return lines


def _dataplane(res):
    d = res.get("dataplane")
    if not d:
        return []
    lines = ["## Data plane (`[network] dataplane = \"on\"`)", ""]
    if d.get("skipped"):
        return lines + [f"Skipped: {d['skipped']}."]
    p = d.get("ports")
    lines += ["### Port create rate, data plane on vs off", ""]
    if p and p.get("error"):
        lines += [f"**Failed**: {p['error']}", ""]
    elif p:
        on, off = p["on"], p["off"]
        lines += [f"The same binary, fake compute driver, `[network] dataplane` set explicitly "
                  f"(`auto` turns it off with the fake driver); fresh data each side; {p['n']} "
                  "ports on a network with a DHCP subnet (IPv4, /20), first "
                  f"sequentially from one client, then {p['n']} more from {p['concurrency']} "
                  "clients. With the data plane on, every write wakes the reconciler, which "
                  "rewrites the network's dnsmasq hosts file "
                  "(`DATA/netplane/dhcp/<net>/host`) and signals dnsmasq.", "",
                  "| measure | off | on | on / off |", "|---|---:|---:|---:|",
                  f"| ports/s, sequential | {off['sequential_per_s']:.0f} | "
                  f"{on['sequential_per_s']:.0f} | {p['ratio_sequential']:.2f} |",
                  f"| ports/s, {p['concurrency']} clients | {off['concurrent_per_s']:.0f} | "
                  f"{on['concurrent_per_s']:.0f} | {p['ratio_concurrent']:.2f} |",
                  f"| last port's create returned → its entry in dnsmasq's hosts file, ms "
                  f"(sequential / {p['concurrency']} clients) | – | "
                  f"{on['sequential_host_ms']:.0f} / {on['concurrent_host_ms']:.0f} | |", ""]
    lines += ["### Create → SSH login through a floating IP", ""]
    g = d.get("guests")
    if d.get("guests_skipped"):
        lines += [f"Skipped: {d['guests_skipped']}.", ""]
    elif g and g.get("error") and not g.get("create_to_ssh_s"):
        lines += [f"**Failed**: {g['error']}", ""]
    elif g:
        s, a = g["create_to_ssh_s"], g.get("create_to_active_s")
        ps, pr = g.get("plain_to_ssh_s"), g.get("plain_to_ready_s")
        lines += [f"Ferrostack, qemu driver (accelerator {g.get('accel')}), the data plane on: "
                  "an external network (flat, subnet with a gateway, no DHCP), a tenant network "
                  "with a DHCP subnet, a router with the external gateway and an interface on "
                  "the tenant subnet, a keypair, an ingress tcp/22 rule in the default group, "
                  "one floating IP. Each round: server create (config drive on, so the key "
                  "needs no metadata service; its own fixed IP, see below), wait for its port, "
                  "associate the floating IP; the clock runs from the create request until "
                  "`ssh cirros@<floating IP> hostname` from the external network's "
                  "outside-world namespace (`<prefix>-ext-<network>`) answers with the "
                  "server's name (port 22 polled with 0.5 s TCP connects, then the login). "
                  f"The server is deleted before the next round. {s['n']} rounds.", "",
                  "Physical limit, in the same run, alternating round by round: the same guest "
                  "booted by plain `qemu-system-x86_64` (the driver's command line plus a "
                  "virtio NIC) on a tap in a bridge in a namespace of the bench's own making, "
                  "its address static from the config drive's `network_data.json` (no DHCP, "
                  "no router, no NAT), the key in its `meta_data.json`; the clock runs from "
                  "before its overlay and ISO are made until `ssh ... hostname` from that "
                  "namespace answers, polled the same way.", "",
                  "| measure | plain QEMU | Ferrostack | ratio (p50) |",
                  "|---|---:|---:|---:|"]
        if ps:
            lines.append(f"| create (plain: launch) → `hostname` over SSH, s p50 (min–max) | "
                         f"{_s(ps)} | {_s(s)} | {s['p50'] / ps['p50']:.2f}× |")
        else:
            lines.append(f"| create → `hostname` over SSH, s p50 (min–max) | – | {_s(s)} | |")
        if pr:
            lines.append(f"| launch → `FERRO-READY` on the console (before the guest's network "
                         f"and dropbear), s p50 (min–max) | {_s(pr)} | – | |")
        if a:
            lines.append(f"| create → ACTIVE seen, s p50 (min–max) | – | {_s(a)} | |")
        lines += ["", "Each round asks for its own fixed IP (`networks: [{uuid, fixed_ip}]`): "
                  "with the lowest free address the next server gets the deleted one's, which "
                  "dnsmasq still holds leased to the old MAC (in-memory lease database, nothing "
                  "releases it on port delete), so that guest gets no DHCP answer — a data-plane "
                  "bug this benchmark found (an earlier attempt waited minutes on it).", ""]
    lines += ["### Security-group rule change → effect", ""]
    sg = (g or {}).get("secgroup")
    if not sg:
        lines += ["Not run (needs the create → SSH scenario's guest).", ""]
    elif sg.get("error"):
        lines += [f"**Failed**: {sg['error']}", ""]
    elif sg.get("no_filtering"):
        lines += [f"**{sg['no_filtering']}**: port 22 through the floating IP still accepted "
                  f"new connections {sg['no_effect_within_s']:.0f} s after the tcp/22 rule was "
                  "deleted, so there is no delete → blocked time to report (the rule was "
                  "re-created and the port checked open again).", ""]
    else:
        off, on = sg["delete_to_blocked_s"], sg["create_to_open_s"]
        lines += [f"With the last round's guest running: the tcp/22 rule deleted, then new TCP "
                  f"connections to the floating IP's port 22 from the outside-world namespace "
                  f"({sg['connect_timeout_s']} s connect timeout, back to back) until one "
                  "fails (the time that failing attempt began); then the rule created again "
                  f"until one succeeds. {off['n']} of each.", "",
                  "| change | ms p50 | min | max |", "|---|---:|---:|---:|",
                  f"| rule deleted → new connection fails | {off['p50'] * 1000:.0f} | "
                  f"{off['min'] * 1000:.0f} | {off['max'] * 1000:.0f} |",
                  f"| rule created → new connection succeeds | {on['p50'] * 1000:.0f} | "
                  f"{on['min'] * 1000:.0f} | {on['max'] * 1000:.0f} |", ""]
    if "namespaces_left" in d:
        left = d["namespaces_left"]
        lines.append("Network namespaces of this run left afterwards: "
                     + (", ".join(left) if left else "none") + ".")
    return lines


def _rounds(side):
    return ", ".join(f"{w:.1f}" for w in side.get("wall_rounds_s", [side["wall_s"]]))


def _s(sm):
    return f"{sm['p50']:.2f} ({sm['min']:.2f}–{sm['max']:.2f})" if sm else "–"


def _mib(sm, spread=False):
    if not sm:
        return "–"
    if spread:
        return f"{sm['p50'] / MiB:.1f} ({sm['min'] / MiB:.1f}–{sm['max'] / MiB:.1f})"
    return f"{sm['p50'] / MiB:.1f}"


def targets(res):
    """(target, measured, met) rows; empty without an upstream side."""
    fs, up = res.get("ferrostack"), res.get("upstream")
    if not up or not fs:
        return []
    rows = []

    def ratio_row(name, keys, goal):
        ratios = [_ratio(_peak(fs, k)[0], _peak(up, k)[0]) for k in keys]
        worst = min(r for r in ratios if r) if all(ratios) else None
        rows.append((name, f"{_f(worst)}× (peak req/s vs peak req/s)",
                     worst is not None and worst >= goal))

    ratio_row("token validation ≥ 100× Keystone", ["token_validate"], 100)
    ratio_row("user and project lists ≥ 50×", ["users_list", "projects_list"], 50)
    ratio_row("image lists ≥ 20× Glance", ["images_list", "images_list_1000"], 20)
    bound = res.get("bcrypt", {}).get("bound_rps")
    issue = _peak(fs, "token_issue")[0]
    if bound and issue:
        rows.append(("token issue within 15 % of the bcrypt bound",
                     f"{issue:.1f}/s = {issue / bound * 100:.0f} % of {bound:.1f}/s",
                     issue >= 0.85 * bound))
    f, ks = fs["servers"]["ferrostack"], up["servers"]["keystone"]
    rows.append(("idle RSS ≤ 1/10 of Keystone alone",
                 f"{f['idle_rss'] / MiB:.1f} MiB vs {ks['idle_rss'] / MiB:.1f} MiB "
                 f"(1/{ks['idle_rss'] / f['idle_rss']:.1f})", f["idle_rss"] * 10 <= ks["idle_rss"]))
    rows.append(("start-up to first 200 ≤ 1/20 of Keystone's",
                 f"{f['startup_s'] * 1000:.0f} ms vs {ks['startup_s'] * 1000:.0f} ms "
                 f"(1/{ks['startup_s'] / f['startup_s']:.0f})", f["startup_s"] * 20 <= ks["startup_s"]))
    tf, tu = fs.get("transfer", {}), up.get("transfer", {})
    for k, label in (("upload_mb_s", "upload"), ("download_mb_s", "download")):
        if tf.get(k) and tu.get(k):
            rows.append((f"image {label} ≥ Glance", f"{tf[k]:.0f} vs {tu[k]:.0f} MB/s",
                         tf[k] >= tu[k]))
    rows.append(("zero 5xx under concurrent image creates",
                 f"Ferrostack {fs['creates']['s5xx']}, Glance {up['creates']['s5xx']}",
                 fs["creates"]["s5xx"] == 0))
    return rows


def render(res):
    title = "Benchmark: Ferrostack vs upstream Keystone and Glance"
    if res.get("dataplane_only"):
        title = "Benchmark: the data plane" + (" (smoke)" if res["config"]["smoke"] else "")
    elif not res.get("ferrostack"):
        title = "Benchmark: real guests, Ferrostack vs plain QEMU" + (
            " (smoke)" if res["config"]["smoke"] else "")
    elif not res.get("upstream"):
        title = "Benchmark (Ferrostack only" + (", smoke)" if res["config"]["smoke"] else ")")
    lines = [f"# {title}", "", "Produced by `bench/run.sh`; see bench/README.md for how each "
             "number is measured.", ""]
    rows = targets(res)
    if rows:
        lines += ["## Targets", "", "| target | measured | |", "|---|---|---|"]
        lines += [f"| {n} | {m} | {'met' if ok else '**missed**'} |" for n, m, ok in rows]
        lines.append("")
    b = res.get("bcrypt")
    if b and b.get("hash_s"):
        lines += [f"bcrypt bound: one cost-12 hash takes {b['hash_s'] * 1000:.0f} ms here "
                  f"(Python's bcrypt, median of 5), so {b['cores']} server core(s) can check at most "
                  f"{b['bound_rps']:.1f} passwords/s.", ""]
    parts = [_machine(res)]
    if res.get("ferrostack"):
        parts += [_requests_table(res), _servers_table(res), _compute(res)]
    parts.append(_guests(res))
    parts.append(_dataplane(res))
    for part in parts:
        if part:
            lines += part + [""]
    if res.get("failures"):
        lines += ["## Ferrostack failures (errors, or no request completed in the window)", ""]
        lines += [f"- {f}" for f in res["failures"]] + [""]
    return "\n".join(lines)
