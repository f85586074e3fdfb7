//! One POSIX shell script that gathers the facts of every resource of a spec, so a whole spec
//! costs one remote command, and the evaluation of the spec's assertions against those facts.
//!
//! Each resource `i` prints `@@g i KEY VALUE` lines; the output of readers (file contents,
//! command stdout and stderr, HTTP bodies) comes as `@@c i LINE`, `@@o i LINE`, `@@e i LINE`.

use crate::matcher::{matches, missing_patterns, show, Found};
use crate::spec::{Kind, Resource};
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Quotes `s` for the shell.
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

fn timeout_secs(r: &Resource, default_ms: u64) -> u64 {
    let ms = r
        .settings
        .get("timeout")
        .and_then(Value::as_u64)
        .unwrap_or(default_ms);
    ms.div_ceil(1000).max(1)
}

/// The script for `resources`.
#[must_use]
pub fn script(resources: &[Resource]) -> String {
    let mut s = String::from("g() { printf '@@g %s %s %s\\n' \"$1\" \"$2\" \"$3\"; }\npfx() { sed \"s/^/@@$1 $2 /\" \"$3\"; echo; }\nt=$(mktemp -d) || exit 1\ntrap 'rm -rf \"$t\"' EXIT\nto() { if command -v timeout >/dev/null 2>&1; then timeout \"$@\"; else shift; \"$@\"; fi; }\n");
    for (i, r) in resources.iter().enumerate() {
        if r.skip {
            continue;
        }
        let wants = |p: &str| r.asserts.iter().any(|(k, _)| k == p);
        let _ = writeln!(s, "# {} {}", r.kind.title(), r.id.replace('\n', " "));
        match r.kind {
            Kind::File => {
                let p = q(&r.setting_or_id("path"));
                let _ = writeln!(s, "if [ -e {p} ] || [ -L {p} ]; then g {i} exists true; g {i} stat \"$(stat -c '%a|%U|%G|%s|%F' {p})\"; [ -L {p} ] && g {i} link \"$(readlink {p})\"");
                for (prop, tool) in [
                    ("md5", "md5sum"),
                    ("sha256", "sha256sum"),
                    ("sha512", "sha512sum"),
                ] {
                    if wants(prop) {
                        // From standard input: a file name with a backslash would prefix the sum.
                        let _ = writeln!(
                            s,
                            "  [ -f {p} ] && g {i} {prop} \"$({tool} < {p} | cut -d' ' -f1)\""
                        );
                    }
                }
                if wants("contents") {
                    let _ = writeln!(s, "  [ -f {p} ] && pfx c {i} {p}");
                }
                let _ = writeln!(s, "else g {i} exists false; fi");
            }
            Kind::Package => {
                let n = q(&r.setting_or_id("name"));
                let _ = writeln!(s, "if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W -f='${{db:Status-Status}} ${{Version}}\\n' {n} 2>/dev/null | while read -r st v; do [ \"$st\" = installed ] && g {i} version \"$v\"; done; elif command -v rpm >/dev/null 2>&1; then rpm -q --qf '%|EPOCH?{{%{{EPOCH}}:}}:{{}}|%{{VERSION}}-%{{RELEASE}}\\n' {n} 2>/dev/null | grep -v 'is not installed' | while read -r v; do g {i} version \"$v\"; done; elif [ -f /lib/apk/db/installed ]; then awk -v n={n} '/^P:/ {{p=substr($0,3)}} /^V:/ && p==n {{print substr($0,3)}}' /lib/apk/db/installed | while read -r v; do g {i} version \"$v\"; done; fi");
            }
            Kind::Service => {
                let n = q(&r.setting_or_id("name"));
                let _ = writeln!(s, "if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl -q is-enabled {n} 2>/dev/null && g {i} enabled enabled; systemctl -q is-active {n} 2>/dev/null && g {i} running active; elif command -v rc-service >/dev/null 2>&1; then rc-update show 2>/dev/null | grep -q \"^ *\"{n}\" \" && g {i} enabled enabled; rc-service {n} status >/dev/null 2>&1 && g {i} running active; else ls /etc/rc[2345].d/S*{n} >/dev/null 2>&1 && g {i} enabled enabled; service {n} status >/dev/null 2>&1 && g {i} running active; fi");
            }
            Kind::Command => {
                let cmd = q(&r.setting_or_id("exec"));
                let secs = timeout_secs(r, 10_000);
                let _ = writeln!(s, "to {secs} sh -c {cmd} >\"$t/o{i}\" 2>\"$t/e{i}\" </dev/null; g {i} exit $?; pfx o {i} \"$t/o{i}\"; pfx e {i} \"$t/e{i}\"");
            }
            Kind::User => {
                let n = q(&r.setting_or_id("username"));
                // getent where there is one (NSS users too), else /etc/passwd (busybox).
                let _ = writeln!(s, "if l=$(getent passwd {n} 2>/dev/null || awk -F: -v n={n} '$1 == n' /etc/passwd | grep .); then g {i} passwd \"$l\"; for x in $(id -Gn {n} 2>/dev/null); do g {i} group \"$x\"; done; fi");
            }
            Kind::Group => {
                let n = q(&r.setting_or_id("groupname"));
                let _ = writeln!(s, "l=$(getent group {n} 2>/dev/null || awk -F: -v n={n} '$1 == n' /etc/group | grep .) && g {i} entry \"$l\"");
            }
            Kind::Port => {
                // The kernel's socket tables, as goss reads them: no ss or netstat needed.
                // Listening TCP sockets are in state 0A, bound UDP ones in 07.
                let (proto, _) = r.id.split_once(':').unwrap_or(("tcp", r.id.as_str()));
                let table = match proto {
                    "tcp6" | "udp6" | "udp" => proto,
                    _ => "tcp",
                };
                let state = if table.starts_with("udp") { "07" } else { "0A" };
                let _ = writeln!(s, "awk 'NR > 1 && $4 == \"{state}\" {{print $2}}' /proc/net/{table} 2>/dev/null | while read -r a; do g {i} listen \"$a\"; done");
            }
            Kind::Process => {
                let n = q(&r.setting_or_id("comm"));
                let _ = writeln!(s, "if command -v pgrep >/dev/null 2>&1; then pgrep -x {n} >/dev/null && g {i} running true; else ps -e -o comm= | grep -qx {n} && g {i} running true; fi");
            }
            Kind::KernelParam => {
                let n = r.setting_or_id("name");
                let path = format!("/proc/sys/{}", n.replace('.', "/"));
                let _ = writeln!(
                    s,
                    "v=$(sysctl -n {} 2>/dev/null || cat {} 2>/dev/null) && g {i} value \"$v\"",
                    q(&n),
                    q(&path)
                );
            }
            Kind::Mount => {
                let m = q(&r.setting_or_id("mountpoint"));
                // mountinfo: per-mount options (field 6) apart from the file system's (after `-`).
                let _ = writeln!(s, "awk -v m={m} '$5 == m {{for (k = 7; k <= NF; k++) if ($k == \"-\") {{print $(k+2)\"|\"$(k+1)\"|\"$6\"|\"$(k+3); break}}}}' /proc/self/mountinfo | tail -1 | while read -r l; do g {i} mount \"$l\"; done; to 1 df -P {m} 2>/dev/null | awk 'NR==2 {{sub(\"%\",\"\",$5); print $5}}' | while read -r u; do g {i} usage \"$u\"; done");
            }
            Kind::Interface => {
                let n = r.setting_or_id("name");
                let _ = writeln!(s, "if [ -e /sys/class/net/{n} ]; then g {i} exists true; g {i} mtu \"$(cat /sys/class/net/{n}/mtu)\"; ip -o addr show dev {qn} 2>/dev/null | awk '{{print $4}}' | while read -r a; do g {i} addr \"$a\"; done; fi", n = n.replace(['/', '\''], ""), qn = q(&n));
            }
            Kind::Dns => {
                let host = r.setting_or_id("resolve");
                let host = host
                    .split_once(':')
                    .map_or(host.as_str(), |(_, h)| h)
                    .to_string();
                let _ = writeln!(s, "if command -v getent >/dev/null 2>&1; then getent ahosts {h} 2>/dev/null | awk '{{print $1}}'; else nslookup {h} 2>/dev/null | awk 'NR > 2 && /^Address/ {{print $NF}}'; fi | sort -u | while read -r a; do g {i} addr \"$a\"; done", h = q(&host));
            }
            Kind::Addr => {
                let a = r.setting_or_id("address");
                let a = a
                    .split_once("://")
                    .map_or(a.as_str(), |(_, x)| x)
                    .to_string();
                let (host, port) = a.rsplit_once(':').unwrap_or((a.as_str(), ""));
                let secs = timeout_secs(r, 500);
                let _ = writeln!(s, "if command -v nc >/dev/null 2>&1; then to {secs} nc -z -w {secs} {h} {p} >/dev/null 2>&1 && g {i} reachable true; elif command -v bash >/dev/null 2>&1; then to {secs} bash -c 'exec 3<>/dev/tcp/'{h}'/'{p} >/dev/null 2>&1 && g {i} reachable true; fi", h = q(host), p = q(port));
            }
            Kind::Http => {
                let url = q(&r.setting_or_id("url"));
                let secs = timeout_secs(r, 5_000);
                let insecure =
                    if r.settings.get("allow-insecure").and_then(Value::as_bool) == Some(true) {
                        " -k"
                    } else {
                        ""
                    };
                let follow = if r
                    .settings
                    .get("no-follow-redirects")
                    .and_then(Value::as_bool)
                    == Some(true)
                {
                    ""
                } else {
                    " -L"
                };
                // The request as the spec describes it: method, headers, body, credentials,
                // certificates, proxy.
                let text = |k: &str| r.settings.get(k).and_then(Value::as_str).map(String::from);
                let mut extra = String::new();
                if let Some(m) = text("method") {
                    extra.push_str(&format!(" -X {}", q(&m)));
                }
                for h in r
                    .settings
                    .get("request-headers")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    extra.push_str(&format!(" -H {}", q(h)));
                }
                if let Some(b) = text("request-body") {
                    extra.push_str(&format!(" --data-raw {}", q(&b)));
                }
                if let Some(u) = text("username") {
                    extra.push_str(&format!(
                        " -u {}",
                        q(&format!("{u}:{}", text("password").unwrap_or_default()))
                    ));
                }
                for (k, flag) in [
                    ("ca-file", "--cacert"),
                    ("cert-file", "--cert"),
                    ("key-file", "--key"),
                    ("proxy", "-x"),
                ] {
                    if let Some(v) = text(k) {
                        extra.push_str(&format!(" {flag} {}", q(&v)));
                    }
                }
                let insecure = format!("{insecure}{extra}");
                let _ = writeln!(s, "if command -v curl >/dev/null 2>&1; then c=$(curl -s{insecure}{follow} -m {secs} -o \"$t/b{i}\" -D \"$t/h{i}\" -w '%{{http_code}}' {url}); g {i} status \"$c\"; [ -f \"$t/h{i}\" ] && pfx h {i} \"$t/h{i}\"; [ -f \"$t/b{i}\" ] && pfx c {i} \"$t/b{i}\"; elif command -v wget >/dev/null 2>&1; then wget -q -S -T {secs} -O \"$t/b{i}\" {url} 2>\"$t/h{i}\"; g {i} status \"$(awk '/^  HTTP\\// {{c=$2}} END {{print c}}' \"$t/h{i}\")\"; pfx c {i} \"$t/b{i}\"; fi");
            }
            Kind::Matching => {}
        }
    }
    s.push_str("echo '@@goss end'\n");
    s
}

/// What the script printed, by resource.
#[derive(Debug, Default)]
pub struct Facts {
    /// `@@g` values by resource and key, in order.
    pub values: BTreeMap<(usize, String), Vec<String>>,
    /// Reader output by resource and stream (`c`, `o`, `e`, `h`).
    pub lines: BTreeMap<(usize, char), String>,
    /// Whether the script ran to its end.
    pub complete: bool,
}

/// Parses the script's output.
#[must_use]
pub fn parse(out: &str) -> Facts {
    let mut f = Facts::default();
    for line in out.lines() {
        if line == "@@goss end" {
            f.complete = true;
        } else if let Some(rest) = line.strip_prefix("@@g ") {
            let mut it = rest.splitn(3, ' ');
            let (Some(i), Some(k)) = (it.next().and_then(|i| i.parse().ok()), it.next()) else {
                continue;
            };
            f.values
                .entry((i, k.to_string()))
                .or_default()
                .push(it.next().unwrap_or_default().to_string());
        } else if line.len() > 3 && line.starts_with("@@") {
            let stream = line.as_bytes()[2] as char;
            let rest = &line[4..];
            let (i, text) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Ok(i) = i.parse() {
                let e = f.lines.entry((i, stream)).or_default();
                e.push_str(text);
                e.push('\n');
            }
        }
    }
    f
}

/// The outcome of one assertion.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The resource's type.
    pub kind: Kind,
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The property.
    pub property: String,
    /// Passed, failed or skipped.
    pub result: Verdict,
    /// What the spec expected, as JSON.
    pub expected: String,
    /// What was found.
    pub found: String,
    /// For failed line patterns: those not matched.
    pub missing: Vec<String>,
}

/// A test's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It passed.
    Pass,
    /// It failed.
    Fail,
    /// `skip: true`.
    Skip,
}

fn first(f: &Facts, i: usize, k: &str) -> Option<String> {
    f.values
        .get(&(i, k.to_string()))
        .and_then(|v| v.first().cloned())
}

fn all(f: &Facts, i: usize, k: &str) -> Vec<String> {
    f.values
        .get(&(i, k.to_string()))
        .cloned()
        .unwrap_or_default()
}

/// What resource `i` has for `prop`, or the name of a reader stream for line patterns.
enum Fact {
    Value(Found),
    Reader(String),
}

fn fact(r: &Resource, i: usize, prop: &str, f: &Facts) -> Fact {
    let text = |s: Option<String>| Found::Text(s.unwrap_or_default());
    let stat = first(f, i, "stat").unwrap_or_default();
    let stat: Vec<&str> = stat.split('|').collect();
    let reader =
        |stream: char| Fact::Reader(f.lines.get(&(i, stream)).cloned().unwrap_or_default());
    Fact::Value(match (r.kind, prop) {
        (Kind::File, "exists") => Found::Bool(first(f, i, "exists").as_deref() == Some("true")),
        (Kind::File, "mode") => {
            Found::Text(format!("{:0>4}", stat.first().copied().unwrap_or_default()))
        }
        (Kind::File, "owner") => text(stat.get(1).map(|s| s.to_string())),
        (Kind::File, "group") => text(stat.get(2).map(|s| s.to_string())),
        (Kind::File, "size") => {
            Found::Number(stat.get(3).and_then(|s| s.parse().ok()).unwrap_or(0.0))
        }
        (Kind::File, "filetype") => Found::Text(
            match stat.get(4).copied().unwrap_or_default() {
                "regular file" | "regular empty file" => "file",
                "directory" => "directory",
                "symbolic link" => "symlink",
                "socket" => "socket",
                "character special file" => "character-device",
                "block special file" => "block-device",
                "fifo" => "pipe",
                other => other,
            }
            .to_string(),
        ),
        (Kind::File, "linked-to") => text(first(f, i, "link")),
        (Kind::File, "contents") => return reader('c'),
        (Kind::File, h) => text(first(f, i, h)),
        (Kind::Package, "installed") => Found::Bool(!all(f, i, "version").is_empty()),
        (Kind::Package, _) => Found::List(all(f, i, "version")),
        (Kind::Service, "enabled") => {
            Found::Bool(first(f, i, "enabled").as_deref() == Some("enabled"))
        }
        (Kind::Service, _) => Found::Bool(first(f, i, "running").as_deref() == Some("active")),
        (Kind::Command, "exit-status") => Found::Number(
            first(f, i, "exit")
                .and_then(|s| s.parse().ok())
                .unwrap_or(-1.0),
        ),
        (Kind::Command, "stdout") => return reader('o'),
        (Kind::Command, _) => return reader('e'),
        (Kind::User, p) => {
            let entry = first(f, i, "passwd");
            let fields: Vec<String> = entry
                .as_deref()
                .unwrap_or_default()
                .split(':')
                .map(String::from)
                .collect();
            let field = |n: usize| fields.get(n).cloned().unwrap_or_default();
            match p {
                "exists" => Found::Bool(entry.is_some()),
                "uid" => Found::Number(field(2).parse().unwrap_or(-1.0)),
                "gid" => Found::Number(field(3).parse().unwrap_or(-1.0)),
                "home" => Found::Text(field(5)),
                "shell" => Found::Text(field(6)),
                _ => Found::List(all(f, i, "group")),
            }
        }
        (Kind::Group, p) => {
            let entry = first(f, i, "entry");
            let gid = entry
                .as_deref()
                .and_then(|e| e.split(':').nth(2))
                .and_then(|g| g.parse().ok())
                .unwrap_or(-1.0);
            if p == "exists" {
                Found::Bool(entry.is_some())
            } else {
                Found::Number(gid)
            }
        }
        (Kind::Port, p) => {
            let want: Option<u16> = r.id.rsplit(':').next().and_then(|n| n.parse().ok());
            let ips: Vec<String> = all(f, i, "listen")
                .iter()
                .filter_map(|a| socket(a))
                .filter(|(_, port)| Some(*port) == want)
                .map(|(ip, _)| ip)
                .collect();
            if p == "listening" {
                Found::Bool(!ips.is_empty())
            } else {
                Found::List(ips)
            }
        }
        (Kind::Process, _) => Found::Bool(first(f, i, "running").is_some()),
        (Kind::KernelParam, _) => text(first(f, i, "value")),
        (Kind::Mount, p) => {
            let m = first(f, i, "mount");
            let parts: Vec<String> = m
                .as_deref()
                .unwrap_or_default()
                .split('|')
                .map(String::from)
                .collect();
            match p {
                "exists" => Found::Bool(m.is_some()),
                "source" => Found::Text(parts.first().cloned().unwrap_or_default()),
                "filesystem" => Found::Text(parts.get(1).cloned().unwrap_or_default()),
                "usage" => Found::Number(
                    first(f, i, "usage")
                        .and_then(|u| u.parse().ok())
                        .unwrap_or(0.0),
                ),
                "vfs-opts" => Found::List(
                    parts
                        .get(3)
                        .map(|o| o.split(',').map(String::from).collect())
                        .unwrap_or_default(),
                ),
                _ => Found::List(
                    parts
                        .get(2)
                        .map(|o| o.split(',').map(String::from).collect())
                        .unwrap_or_default(),
                ),
            }
        }
        (Kind::Interface, "exists") => Found::Bool(first(f, i, "exists").is_some()),
        (Kind::Interface, "mtu") => Found::Number(
            first(f, i, "mtu")
                .and_then(|m| m.parse().ok())
                .unwrap_or(0.0),
        ),
        (Kind::Interface, _) => Found::List(all(f, i, "addr")),
        (Kind::Dns, "resolvable") => Found::Bool(!all(f, i, "addr").is_empty()),
        (Kind::Dns, _) => Found::List(all(f, i, "addr")),
        (Kind::Addr, _) => Found::Bool(first(f, i, "reachable").is_some()),
        (Kind::Http, "status") => Found::Number(
            first(f, i, "status")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0.0),
        ),
        (Kind::Http, "headers") => return reader('h'),
        (Kind::Http, _) => return reader('c'),
        (Kind::Matching, _) => {
            let c = r.settings.get("content").cloned().unwrap_or(Value::Null);
            match c {
                Value::Sequence(items) => Found::List(
                    items
                        .iter()
                        .map(|v| {
                            serde_yaml::to_string(v)
                                .unwrap_or_default()
                                .trim()
                                .trim_matches('\'')
                                .to_string()
                        })
                        .collect(),
                ),
                Value::Bool(b) => Found::Bool(b),
                Value::Number(n) => Found::Number(n.as_f64().unwrap_or(0.0)),
                Value::String(s) => Found::Text(s),
                _ => Found::Text(String::new()),
            }
        }
    })
}

/// A `/proc/net/{tcp,udp}[6]` local address (`0100007F:0016`: the address in the kernel's
/// byte order, then the port) as an address and a port.
fn socket(hex: &str) -> Option<(String, u16)> {
    let (addr, port) = hex.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Option<Vec<u32>> = (0..addr.len() / 8)
        .map(|k| u32::from_str_radix(addr.get(k * 8..k * 8 + 8)?, 16).ok())
        .collect();
    let bytes: Vec<u8> = words?.iter().flat_map(|w| w.to_le_bytes()).collect();
    let ip = match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let b: [u8; 16] = bytes.try_into().ok()?;
            std::net::Ipv6Addr::from(b).to_string()
        }
        _ => return None,
    };
    Some((ip, port))
}

/// Evaluates every assertion of `resources` against the facts.
///
/// # Errors
/// A bad matcher in the spec.
pub fn evaluate(resources: &[Resource], f: &Facts) -> Result<Vec<Outcome>, String> {
    let mut out = Vec::new();
    for (i, r) in resources.iter().enumerate() {
        for (prop, expected) in &r.asserts {
            let mut o = Outcome {
                kind: r.kind,
                id: r.id.clone(),
                title: r.title.clone(),
                property: prop.clone(),
                result: Verdict::Skip,
                expected: show(expected),
                found: String::new(),
                missing: Vec::new(),
            };
            if r.skip {
                out.push(o);
                continue;
            }
            let ok = match fact(r, i, prop, f) {
                Fact::Value(found) => {
                    o.found = found.show();
                    matches(expected, &found)
                        .map_err(|e| format!("{} {:?} {prop}: {e}", r.kind.title(), r.id))?
                }
                Fact::Reader(text) => {
                    o.found = format!("{:?}", text.trim_end());
                    match expected {
                        Value::Sequence(items) => {
                            let pats: Vec<String> = items
                                .iter()
                                .map(|v| v.as_str().map_or_else(|| show(v), String::from))
                                .collect();
                            o.missing = missing_patterns(&pats, &text)?;
                            o.missing.is_empty()
                        }
                        Value::String(s) => text.trim_end_matches('\n') == s.trim_end_matches('\n'),
                        m => matches(m, &Found::Text(text.trim_end_matches('\n').to_string()))
                            .map_err(|e| format!("{} {:?} {prop}: {e}", r.kind.title(), r.id))?,
                    }
                }
            };
            o.result = if ok { Verdict::Pass } else { Verdict::Fail };
            out.push(o);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod socket_tests {
    #[test]
    fn proc_net_addresses() {
        assert_eq!(
            super::socket("0100007F:0016"),
            Some(("127.0.0.1".to_string(), 22))
        );
        assert_eq!(
            super::socket("00000000000000000000000001000000:1F90"),
            Some(("::1".to_string(), 8080))
        );
        assert_eq!(
            super::socket("00000000:0035"),
            Some(("0.0.0.0".to_string(), 53))
        );
    }
}
