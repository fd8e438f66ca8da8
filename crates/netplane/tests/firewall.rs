//! Security groups against the real kernel (root only; skipped otherwise).
//! Guests are stood in for by network namespaces of the test's own, each
//! with a veth whose other end is the guest port's tap in the bridge; the
//! network's DHCP namespace is the trusted outsider. Python listeners and
//! clients carry the traffic.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use ferro_netplane::{
    Desired, Direction, Ethertype, Netplane, Network, Port, PortKind, SecurityGroup,
    SecurityGroupRule, Subnet,
};

const NET: &str = "fwnet000001";
const A: &str = "guest-a-0001";
const B: &str = "guest-b-0001";
const C: &str = "guest-c-0001";
const DHCP: &str = "dhcp-p-0001";
const IP_A: &str = "10.203.0.10";
const IP_B: &str = "10.203.0.11";
const IP_C: &str = "10.203.0.12";
const IP_D: &str = "10.203.0.2";
const MAC_A: &str = "fa:16:3e:20:30:0a";

/// Echo server on a port, v4 and v6: greets with the peer's address.
const SERVER: &str = r#"
import socket, sys, threading
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(16)
def serve(c, a):
    c.sendall(("hello %s\n" % a[0]).encode())
    while True:
        d = c.recv(100)
        if not d:
            break
        c.sendall(d)
while True:
    c, a = s.accept()
    threading.Thread(target=serve, args=(c, a), daemon=True).start()
"#;

/// One connection attempt: prints `open <greeting>` or `closed <why>`.
const PROBE: &str = r#"
import socket, sys
dst, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET)
s.settimeout(1.5)
if src:
    s.bind((src, 0))
try:
    s.connect((dst, port))
    print("open", s.recv(100).decode().strip())
except OSError as e:
    print("closed", e)
"#;

/// A connection that stays: one echo per line on stdin.
const SESSION: &str = r#"
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
print(s.recv(100).decode().strip(), flush=True)
for _ in sys.stdin:
    try:
        s.sendall(b"ping\n")
        print("echo" if s.recv(100) == b"ping\n" else "eof", flush=True)
    except OSError as e:
        print("lost", e, flush=True)
"#;

/// Waits 2 s for one UDP datagram on port 68: `got <sender>` or `nothing`.
const DHCP_CLIENT: &str = r#"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 68))
s.settimeout(2)
print("ready", flush=True)
try:
    d, a = s.recvfrom(100)
    print("got", a[0], flush=True)
except OSError:
    print("nothing", flush=True)
"#;

/// Sends what a DHCP server sends (from port 67 to port 68).
const DHCP_SERVER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 67))
for _ in range(3):
    s.sendto(b"offer", (sys.argv[1], 68))
"#;

/// An ARP request from `argv[1]` claiming sender `argv[2]/argv[3]` for `argv[4]`.
const ARP: &str = r#"
import socket, struct, sys
dev, sip, smac, tip = sys.argv[1:5]
mac = bytes.fromhex(smac.replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + socket.inet_aton(sip) + b"\0" * 6 + socket.inet_aton(tip)
for _ in range(3):
    s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
"#;

fn cmd(args: &[&str]) -> std::process::Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn ok(args: &[&str]) {
    let out = cmd(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn in_ns<'a>(ns: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["ip", "netns", "exec", ns];
    all.extend_from_slice(args);
    all
}

/// Whether a TCP connection from `ns` to `dst:port` (from `src`) opens.
fn opens(ns: &str, dst: &str, port: u16, src: Option<&str>) -> bool {
    let port = port.to_string();
    let out = cmd(&in_ns(
        ns,
        &["python3", "-c", PROBE, dst, &port, src.unwrap_or("")],
    ));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.starts_with("open")
}

/// Everything the test started and made, gone even when it panics.
struct Cleanup {
    prefixes: Vec<String>,
    children: Vec<Child>,
    dir: std::path::PathBuf,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // The network's dnsmasq (the reconciler started it; its pid file
        // says which).
        let pid_file = self.dir.join(format!("dhcp/{NET}/pid"));
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let pid = pid.trim();
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&*pid_file.to_string_lossy()) {
                let _ = Command::new("kill").arg(pid).status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Ok(out) = Command::new("ip").args(["netns", "list"]).output() {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let Some(name) = line.split_whitespace().next() else {
                    continue;
                };
                if self.prefixes.iter().any(|p| name.starts_with(p.as_str())) {
                    let _ = Command::new("ip").args(["netns", "del", name]).status();
                }
            }
        }
    }
}

impl Cleanup {
    fn spawn(&mut self, args: &[&str]) -> usize {
        let child = Command::new(args[0])
            .args(&args[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        self.children.push(child);
        self.children.len() - 1
    }

    fn pipes(&mut self, i: usize) -> (ChildStdin, BufReader<ChildStdout>) {
        let c = &mut self.children[i];
        let stdin = c.stdin.take().unwrap_or_else(|| panic!("no stdin"));
        let stdout = BufReader::new(c.stdout.take().unwrap_or_else(|| panic!("no stdout")));
        (stdin, stdout)
    }
}

fn line(r: &mut BufReader<ChildStdout>) -> String {
    let mut s = String::new();
    if let Err(e) = r.read_line(&mut s) {
        panic!("read: {e}");
    }
    s.trim().to_owned()
}

fn rule(direction: Direction, ethertype: Ethertype) -> SecurityGroupRule {
    SecurityGroupRule {
        direction,
        ethertype,
        protocol: None,
        port_range_min: None,
        port_range_max: None,
        remote_ip_prefix: None,
        remote_group_id: None,
    }
}

fn port(id: &str, mac: &str, ips: &[&str], kind: PortKind, groups: &[&str]) -> Port {
    Port {
        id: id.into(),
        network_id: NET.into(),
        mac: mac.into(),
        fixed_ips: ips
            .iter()
            .map(|ip| {
                let s = if ip.contains(':') { "s6" } else { "s4" };
                (s.to_owned(), (*ip).to_owned())
            })
            .collect(),
        kind,
        port_security_enabled: true,
        security_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        ..Port::default()
    }
}

/// `default` as Neutron makes it (ingress from members only, all egress)
/// and `other` (egress only).
fn groups() -> Vec<SecurityGroup> {
    let mut members = vec![];
    for e in [Ethertype::IPv4, Ethertype::IPv6] {
        let mut r = rule(Direction::Ingress, e);
        r.remote_group_id = Some("default".into());
        members.push(r);
        members.push(rule(Direction::Egress, e));
    }
    vec![
        SecurityGroup {
            id: "default".into(),
            stateful: true,
            rules: members,
        },
        SecurityGroup {
            id: "other".into(),
            stateful: true,
            rules: vec![rule(Direction::Egress, Ethertype::IPv4)],
        },
    ]
}

fn ssh_rule() -> SecurityGroupRule {
    let mut r = rule(Direction::Ingress, Ethertype::IPv4);
    r.protocol = Some(6);
    r.port_range_min = Some(22);
    r.port_range_max = Some(22);
    r
}

fn network() -> Network {
    let subnet = |id: &str, cidr: &str, v: u8| Subnet {
        id: id.into(),
        cidr: cidr.into(),
        ip_version: v,
        gateway_ip: None,
        enable_dhcp: v == 4,
        ..Subnet::default()
    };
    Network {
        id: NET.into(),
        mtu: 1500,
        subnets: vec![
            subnet("s4", "10.203.0.0/24", 4),
            subnet("s6", "fd00:203::/64", 6),
        ],
        ..Network::default()
    }
}

fn port_mut<'a>(want: &'a mut Desired, id: &str) -> &'a mut Port {
    want.ports
        .iter_mut()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no port {id}"))
}

fn group_mut<'a>(want: &'a mut Desired, id: &str) -> &'a mut SecurityGroup {
    want.security_groups
        .iter_mut()
        .find(|g| g.id == id)
        .unwrap_or_else(|| panic!("no group {id}"))
}

/// A guest: namespace `ns` with `eth0` (MAC, IPv4, IPv6), its veth peer
/// the port's tap in the bridge namespace.
fn guest(ns: &str, br: &str, port: &str, mac: &str, ip4: &str, ip6: Option<&str>) {
    let tap = ferro_netplane::dev_name("tap", port);
    ok(&["ip", "netns", "add", ns]);
    ok(&["ip", "-n", ns, "link", "set", "lo", "up"]);
    ok(&[
        "ip", "-n", ns, "link", "add", "eth0", "address", mac, "type", "veth", "peer", "name",
        &tap, "netns", br,
    ]);
    ok(&[
        "ip",
        "-n",
        ns,
        "link",
        "set",
        "eth0",
        "addrgenmode",
        "eui64",
    ]);
    ok(&[
        "ip",
        "-n",
        ns,
        "addr",
        "add",
        &format!("{ip4}/24"),
        "dev",
        "eth0",
    ]);
    if let Some(ip6) = ip6 {
        ok(&[
            "ip",
            "-n",
            ns,
            "addr",
            "add",
            &format!("{ip6}/64"),
            "dev",
            "eth0",
            "nodad",
        ]);
    }
    ok(&["ip", "-n", ns, "link", "set", "eth0", "up"]);
}

fn tools_missing() -> bool {
    ["python3", "dnsmasq"].iter().any(|t| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .map_or(true, |o| !o.status.success())
    })
}

#[tokio::test]
async fn security_groups_filter_guests() {
    if let Err(why) = Netplane::check().await {
        eprintln!("skipped: {why}");
        return;
    }
    if tools_missing() {
        eprintln!("skipped: needs python3 and dnsmasq");
        return;
    }
    let prefix = format!("fsfw{}", std::process::id());
    let guests = format!("fsfwg{}-", std::process::id());
    let dir = std::env::temp_dir().join(&prefix);
    let mut cleanup = Cleanup {
        prefixes: vec![format!("{prefix}-"), guests.clone()],
        children: vec![],
        dir: dir.clone(),
    };
    let np = Netplane::new(prefix.clone(), dir.clone());
    let br = np.bridge_namespace();
    let dhcp_ns = format!("{prefix}-dhcp-{NET}");
    let (ga, gb, gc) = (
        format!("{guests}a"),
        format!("{guests}b"),
        format!("{guests}c"),
    );

    // The network and its DHCP port first; then the guests' veths, whose
    // bridge ends are the ports' taps.
    let mut want = Desired {
        networks: vec![network()],
        ports: vec![port(
            DHCP,
            "fa:16:3e:20:30:02",
            &[IP_D],
            PortKind::Dhcp,
            &[],
        )],
        security_groups: groups(),
        ..Desired::default()
    };
    np.reconcile(&want).await.expect("reconcile");
    guest(&ga, &br, A, MAC_A, IP_A, Some("fd00:203::a"));
    guest(&gb, &br, B, "fa:16:3e:20:30:0b", IP_B, Some("fd00:203::b"));
    guest(&gc, &br, C, "fa:16:3e:20:30:0c", IP_C, None);
    want.ports.extend([
        port(
            A,
            MAC_A,
            &[IP_A, "fd00:203::a"],
            PortKind::Guest,
            &["default"],
        ),
        port(
            B,
            "fa:16:3e:20:30:0b",
            &[IP_B, "fd00:203::b"],
            PortKind::Guest,
            &["default"],
        ),
        port(C, "fa:16:3e:20:30:0c", &[IP_C], PortKind::Guest, &["other"]),
    ]);
    np.reconcile(&want).await.expect("reconcile");
    for ns in [&ga, &gb, &gc, &dhcp_ns] {
        let port = if *ns == dhcp_ns { "2222" } else { "22" };
        cleanup.spawn(&in_ns(ns, &["python3", "-c", SERVER, port]));
    }
    std::thread::sleep(Duration::from_millis(500));

    // The default group: ingress only from members, all egress; replies
    // to what a guest opened pass.
    assert!(
        !opens(&dhcp_ns, IP_A, 22, None),
        "default group: closed to non-members"
    );
    assert!(
        opens(&gb, IP_A, 22, None),
        "default group: open to a member"
    );
    assert!(
        opens(&gb, "fd00:203::a", 22, None),
        "over IPv6 too (ND passes)"
    );
    assert!(
        !opens(&gc, IP_A, 22, None),
        "closed to a guest of another group"
    );
    assert!(!opens(&ga, IP_C, 22, None), "a group without ingress rules");
    assert!(opens(&ga, IP_D, 2222, None), "egress, and its replies");

    // A rule for tcp/22 opens it to everyone.
    group_mut(&mut want, "default").rules.push(ssh_rule());
    np.reconcile(&want).await.expect("reconcile");
    assert!(opens(&dhcp_ns, IP_A, 22, None), "the rule opens port 22");
    assert!(opens(&gc, IP_A, 22, None));
    assert!(
        !opens(&dhcp_ns, IP_C, 22, None),
        "only for the group's ports"
    );

    // A connection stays open across updates that keep it allowed (the
    // ruleset is replaced atomically) and ends with the rule.
    let i = cleanup.spawn(&in_ns(&dhcp_ns, &["python3", "-c", SESSION, IP_A, "22"]));
    let (mut to, mut from) = cleanup.pipes(i);
    assert_eq!(line(&mut from), format!("hello ::ffff:{IP_D}"));
    group_mut(&mut want, "other")
        .rules
        .push(rule(Direction::Egress, Ethertype::IPv6));
    np.reconcile(&want).await.expect("reconcile");
    writeln!(to, "go").expect("write");
    assert_eq!(line(&mut from), "echo", "kept across an unrelated update");
    group_mut(&mut want, "default")
        .rules
        .retain(|r| r != &ssh_rule());
    np.reconcile(&want).await.expect("reconcile");
    writeln!(to, "go").expect("write");
    assert!(
        line(&mut from).starts_with("lost"),
        "deleting the rule ends the connection"
    );
    assert!(
        !opens(&dhcp_ns, IP_A, 22, None),
        "deleting the rule closes port 22"
    );

    // Remote groups follow membership.
    port_mut(&mut want, C)
        .security_groups
        .push("default".into());
    np.reconcile(&want).await.expect("reconcile");
    assert!(opens(&gc, IP_A, 22, None), "a new member gets in");

    // Spoofing: a source address not the port's, then the same as an
    // allowed address pair; a foreign MAC; ARP for another's address; a
    // DHCP server.
    ok(&[
        "ip",
        "-n",
        &ga,
        "addr",
        "add",
        "10.203.0.50/32",
        "dev",
        "eth0",
    ]);
    assert!(opens(&ga, IP_B, 22, Some(IP_A)));
    assert!(
        !opens(&ga, IP_B, 22, Some("10.203.0.50")),
        "spoofed source IP dropped"
    );
    port_mut(&mut want, A).allowed_address_pairs = vec![("10.203.0.48/29".into(), MAC_A.into())];
    np.reconcile(&want).await.expect("reconcile");
    assert!(
        opens(&ga, IP_B, 22, Some("10.203.0.50")),
        "an allowed address pair"
    );
    ok(&[
        "ip",
        "-n",
        &ga,
        "link",
        "set",
        "eth0",
        "address",
        "fa:16:3e:20:30:99",
    ]);
    ok(&["ip", "-n", &gb, "neigh", "flush", "all"]);
    assert!(!opens(&ga, IP_B, 22, None), "spoofed source MAC dropped");
    ok(&["ip", "-n", &ga, "link", "set", "eth0", "address", MAC_A]);
    ok(&["ip", "-n", &gb, "neigh", "flush", "all"]);
    assert!(opens(&ga, IP_B, 22, None));
    let neigh =
        || String::from_utf8_lossy(&cmd(&["ip", "-n", &dhcp_ns, "neigh"]).stdout).into_owned();
    ok(&["ip", "-n", &dhcp_ns, "neigh", "flush", "all"]);
    ok(&in_ns(
        &ga,
        &["python3", "-c", ARP, "eth0", IP_B, MAC_A, IP_D],
    ));
    ok(&in_ns(
        &ga,
        &[
            "python3",
            "-c",
            ARP,
            "eth0",
            IP_A,
            "fa:16:3e:20:30:0b",
            IP_D,
        ],
    ));
    std::thread::sleep(Duration::from_millis(300));
    let seen = neigh();
    assert!(
        !seen.contains(IP_B),
        "ARP claiming another's IP dropped: {seen}"
    );
    assert!(
        !seen.contains("fa:16:3e:20:30:0b"),
        "ARP with a foreign sender MAC dropped: {seen}"
    );
    ok(&in_ns(
        &ga,
        &["python3", "-c", ARP, "eth0", IP_A, MAC_A, IP_D],
    ));
    std::thread::sleep(Duration::from_millis(300));
    let seen = neigh();
    assert!(
        seen.contains(&format!("{IP_A} dev")) && seen.contains(MAC_A),
        "ARP of its own passes: {seen}"
    );
    let dhcp_offer_reaches_b = |cleanup: &mut Cleanup| {
        let i = cleanup.spawn(&in_ns(&gb, &["python3", "-c", DHCP_CLIENT]));
        let (_to, mut from) = cleanup.pipes(i);
        assert_eq!(line(&mut from), "ready");
        ok(&in_ns(&ga, &["python3", "-c", DHCP_SERVER, IP_B]));
        line(&mut from).starts_with("got")
    };
    assert!(
        !dhcp_offer_reaches_b(&mut cleanup),
        "a guest is no DHCP server"
    );

    // Fail closed: without br_netfilter nothing reaches the rules, so
    // nothing of a filtered guest passes; the next reconcile repairs it.
    ok(&in_ns(
        &br,
        &[
            "sh",
            "-c",
            "echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables",
        ],
    ));
    assert!(
        !opens(&gb, IP_A, 22, None),
        "no br_netfilter: closed, not open"
    );
    np.reconcile(&want).await.expect("reconcile");
    assert!(opens(&gb, IP_A, 22, None));

    // A tap nobody asked for is closed (the reconciler removes it later).
    let gx = format!("{guests}x");
    guest(
        &gx,
        &br,
        "unknown-0001",
        "fa:16:3e:20:30:77",
        "10.203.0.77",
        None,
    );
    let tap = ferro_netplane::dev_name("tap", "unknown-0001");
    ok(&[
        "ip",
        "-n",
        &br,
        "link",
        "set",
        &tap,
        "master",
        &ferro_netplane::dev_name("brq", NET),
        "up",
    ]);
    assert!(!opens(&gx, IP_D, 2222, None), "an unknown tap is dropped");

    // No groups (port security on): only what Neutron always allows.
    assert!(opens(&gc, IP_D, 2222, None) && opens(&gb, IP_C, 22, None));
    port_mut(&mut want, C).security_groups.clear();
    np.reconcile(&want).await.expect("reconcile");
    assert!(!opens(&gc, IP_D, 2222, None), "no groups: no egress");
    assert!(!opens(&gb, IP_C, 22, None), "no groups: no ingress");

    // Port security off: no rules, no spoofing checks.
    let a = port_mut(&mut want, A);
    a.port_security_enabled = false;
    a.security_groups.clear();
    a.allowed_address_pairs.clear();
    np.reconcile(&want).await.expect("reconcile");
    assert!(opens(&dhcp_ns, IP_A, 22, None), "port security off: open");
    ok(&[
        "ip",
        "-n",
        &ga,
        "addr",
        "add",
        "10.203.0.99/32",
        "dev",
        "eth0",
    ]);
    assert!(opens(&dhcp_ns, IP_A, 22, None));
    assert!(
        opens(&ga, IP_D, 2222, Some("10.203.0.99")),
        "port security off: any source"
    );
    assert!(
        dhcp_offer_reaches_b(&mut cleanup),
        "port security off: even DHCP offers"
    );

    np.remove_all().await.expect("remove all");
}
