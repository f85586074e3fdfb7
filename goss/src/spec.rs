//! A goss spec: its YAML (after `{{.Vars}}` templating), its `gossfile` includes, and the tests
//! it asks for, one per asserted property of each resource.

use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The resource types, in goss's order and with goss's names for results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `addr`.
    Addr,
    /// `command`.
    Command,
    /// `dns`.
    Dns,
    /// `file`.
    File,
    /// `group`.
    Group,
    /// `http`.
    Http,
    /// `interface`.
    Interface,
    /// `kernel-param`.
    KernelParam,
    /// `matching`.
    Matching,
    /// `mount`.
    Mount,
    /// `package`.
    Package,
    /// `port`.
    Port,
    /// `process`.
    Process,
    /// `service`.
    Service,
    /// `user`.
    User,
}

impl Kind {
    fn parse(key: &str) -> Option<Kind> {
        Some(match key {
            "addr" => Kind::Addr,
            "command" => Kind::Command,
            "dns" => Kind::Dns,
            "file" => Kind::File,
            "group" => Kind::Group,
            "http" => Kind::Http,
            "interface" => Kind::Interface,
            "kernel-param" => Kind::KernelParam,
            "matching" => Kind::Matching,
            "mount" => Kind::Mount,
            "package" => Kind::Package,
            "port" => Kind::Port,
            "process" => Kind::Process,
            "service" => Kind::Service,
            "user" => Kind::User,
            _ => return None,
        })
    }

    /// The name goss's results use (`KernelParam`, `HTTP`).
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Kind::Addr => "Addr",
            Kind::Command => "Command",
            Kind::Dns => "DNS",
            Kind::File => "File",
            Kind::Group => "Group",
            Kind::Http => "HTTP",
            Kind::Interface => "Interface",
            Kind::KernelParam => "KernelParam",
            Kind::Matching => "Matching",
            Kind::Mount => "Mount",
            Kind::Package => "Package",
            Kind::Port => "Port",
            Kind::Process => "Process",
            Kind::Service => "Service",
            Kind::User => "User",
        }
    }

    /// The attributes that configure the resource (the rest are assertions).
    fn settings(self) -> &'static [&'static str] {
        match self {
            Kind::Addr => &["address", "timeout", "local-address"],
            Kind::Command => &["exec", "timeout"],
            Kind::Dns => &["resolve", "server", "timeout"],
            Kind::File => &["path"],
            Kind::Group => &["groupname"],
            Kind::Http => &[
                "url",
                "allow-insecure",
                "no-follow-redirects",
                "timeout",
                "request-headers",
                "request-body",
                "method",
                "username",
                "password",
                "ca-file",
                "cert-file",
                "key-file",
                "proxy",
            ],
            Kind::Interface => &["name"],
            Kind::KernelParam => &["name"],
            Kind::Matching => &["content"],
            Kind::Mount => &["mountpoint", "timeout"],
            Kind::Package => &["name"],
            Kind::Port => &[],
            Kind::Process => &["comm"],
            Kind::Service => &["name", "runlevels"],
            Kind::User => &["username"],
        }
    }

    /// The properties it can assert.
    fn properties(self) -> &'static [&'static str] {
        match self {
            Kind::Addr => &["reachable"],
            Kind::Command => &["exit-status", "stdout", "stderr"],
            Kind::Dns => &["resolvable", "addrs"],
            Kind::File => &[
                "exists",
                "mode",
                "size",
                "owner",
                "group",
                "filetype",
                "contents",
                "md5",
                "sha256",
                "sha512",
                "linked-to",
            ],
            Kind::Group => &["exists", "gid"],
            Kind::Http => &["status", "headers", "body"],
            Kind::Interface => &["exists", "addrs", "mtu"],
            Kind::KernelParam => &["value"],
            Kind::Matching => &["matches"],
            Kind::Mount => &[
                "exists",
                "opts",
                "vfs-opts",
                "source",
                "filesystem",
                "usage",
            ],
            Kind::Package => &["installed", "versions"],
            Kind::Port => &["listening", "ip"],
            Kind::Process => &["running"],
            Kind::Service => &["enabled", "running"],
            Kind::User => &["exists", "uid", "gid", "groups", "home", "shell"],
        }
    }
}

/// One resource of the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Its type.
    pub kind: Kind,
    /// Its key in the spec.
    pub id: String,
    /// Its `title`.
    pub title: String,
    /// `skip: true`.
    pub skip: bool,
    /// Its settings (`path`, `exec`, `timeout` ...).
    pub settings: BTreeMap<String, Value>,
    /// Its assertions, in the spec's order.
    pub asserts: Vec<(String, Value)>,
}

impl Resource {
    /// A setting as text, else the resource's id (goss's default for `path`, `name`, `exec`).
    #[must_use]
    pub fn setting_or_id(&self, key: &str) -> String {
        match self.settings.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => serde_yaml::to_string(v)
                .unwrap_or_default()
                .trim()
                .to_string(),
            None => self.id.clone(),
        }
    }
}

/// Replaces `{{.Vars.KEY}}` (nested keys dotted) and `{{.Env.KEY}}` in a spec's text.
///
/// # Errors
/// A placeholder of a variable that is not set.
pub fn render(text: &str, vars: &Value, env: &BTreeMap<String, String>) -> Result<String, String> {
    fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Mapping(m) => {
                for (k, v) in m {
                    if let Some(k) = k.as_str() {
                        flatten(&format!("{prefix}.{k}"), v, out);
                    }
                }
            }
            Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            Value::Null => {}
            other => {
                out.insert(
                    prefix.to_string(),
                    serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                );
            }
        }
    }
    let mut data = BTreeMap::new();
    flatten("Vars", vars, &mut data);
    for (k, v) in env {
        data.insert(format!("Env.{k}"), v.clone());
    }
    let borrowed: BTreeMap<&str, String> =
        data.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    if !text.contains("{{") {
        return Ok(text.to_string());
    }
    kiln_core::gotemplate::render(text, &borrowed)
}

/// Parses one spec file's text; returns its resources and its `gossfile` includes.
///
/// # Errors
/// A located message: YAML errors, unknown resource types or attributes.
pub fn parse(name: &str, text: &str) -> Result<(Vec<Resource>, Vec<String>), String> {
    let doc: Value = serde_yaml::from_str(text).map_err(|e| match e.location() {
        Some(l) => format!(
            "{name}:{}:{}: {}",
            l.line(),
            l.column(),
            e.to_string().split(" at line ").next().unwrap_or_default()
        ),
        None => format!("{name}: {e}"),
    })?;
    let mut out = Vec::new();
    let mut includes = Vec::new();
    let Some(top) = doc.as_mapping() else {
        if doc.is_null() {
            return Ok((out, includes));
        }
        return Err(format!(
            "{name}: a goss file is a map of resource types (file:, package:, command: ...)"
        ));
    };
    for (k, v) in top {
        let key = k.as_str().unwrap_or_default();
        if key == "gossfile" {
            for (path, attrs) in v.as_mapping().into_iter().flatten() {
                let skip = attrs.get("skip").and_then(Value::as_bool).unwrap_or(false);
                let file = attrs
                    .get("file")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .or_else(|| path.as_str().map(String::from));
                if let (false, Some(f)) = (skip, file) {
                    includes.push(f);
                }
            }
            continue;
        }
        let Some(kind) = Kind::parse(key) else {
            return Err(format!(
                "{name}: unknown resource type {key:?}; goss's are addr, command, dns, file, gossfile, group, http, interface, kernel-param, matching, mount, package, port, process, service, user"
            ));
        };
        let empty = Mapping::new();
        for (id, attrs) in v.as_mapping().unwrap_or(&empty) {
            let id = match id {
                Value::String(s) => s.clone(),
                other => serde_yaml::to_string(other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            let mut r = Resource {
                kind,
                id: id.clone(),
                title: String::new(),
                skip: false,
                settings: BTreeMap::new(),
                asserts: Vec::new(),
            };
            for (ak, av) in attrs.as_mapping().unwrap_or(&empty) {
                let ak = ak.as_str().unwrap_or_default();
                match ak {
                    "title" => r.title = av.as_str().unwrap_or_default().to_string(),
                    "meta" | "retry_count" | "retry_delay" => {}
                    "skip" => r.skip = av.as_bool().unwrap_or(false),
                    _ if kind.settings().contains(&ak) => {
                        r.settings.insert(ak.to_string(), av.clone());
                    }
                    _ if kind.properties().contains(&ak) => {
                        r.asserts.push((ak.to_string(), av.clone()))
                    }
                    // goss's older name for file contents.
                    "contains" if kind == Kind::File => {
                        r.asserts.push(("contents".into(), av.clone()))
                    }
                    _ => {
                        return Err(format!(
                            "{name}: {key} {id:?}: unknown attribute {ak:?}; a {key} has {}",
                            kind.settings()
                                .iter()
                                .chain(kind.properties())
                                .copied()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    }
                }
            }
            out.push(r);
        }
    }
    Ok((out, includes))
}

/// Loads `entry` and the files it includes (relative to the including file), each rendered
/// with `vars` first.
///
/// # Errors
/// A file that cannot be read or parsed, or an include cycle.
pub fn load(
    entry: &Path,
    vars: &Value,
    env: &BTreeMap<String, String>,
) -> Result<Vec<Resource>, String> {
    let mut out = Vec::new();
    let mut stack = vec![entry.to_path_buf()];
    let mut seen: Vec<PathBuf> = Vec::new();
    while let Some(p) = stack.pop() {
        if seen.contains(&p) {
            continue;
        }
        seen.push(p.clone());
        let text = std::fs::read_to_string(&p)
            .map_err(|e| format!("cannot read the goss file {}: {e}", p.display()))?;
        let text = render(&text, vars, env).map_err(|e| format!("{}: {e}", p.display()))?;
        let (resources, includes) = parse(&p.display().to_string(), &text)?;
        out.extend(resources);
        let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
        // Include keys are globs, as in goss; one that matches nothing is an error.
        let mut found = Vec::new();
        for inc in includes {
            let pattern = dir.join(&inc);
            let mut matched: Vec<PathBuf> = glob::glob(&pattern.to_string_lossy())
                .map_err(|e| format!("{}: gossfile {inc:?}: {e}", p.display()))?
                .filter_map(Result::ok)
                .collect();
            matched.sort();
            if matched.is_empty() {
                return Err(format!("{}: gossfile {inc:?} matches no file", p.display()));
            }
            found.extend(matched);
        }
        for f in found.into_iter().rev() {
            stack.push(f);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_settings_and_asserts() {
        let (r, inc) = parse(
            "goss.yaml",
            "gossfile:\n  more.yaml: {}\nfile:\n  /etc/passwd:\n    exists: true\n    mode: \"0644\"\n    title: passwd\ncommand:\n  echo hi:\n    exit-status: 0\n    stdout: [hi]\n    timeout: 5000\n",
        )
        .unwrap();
        assert_eq!(inc, ["more.yaml"]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].kind, Kind::File);
        assert_eq!(r[0].title, "passwd");
        assert_eq!(r[0].asserts.len(), 2);
        assert_eq!(r[1].setting_or_id("exec"), "echo hi");
        assert!(r[1].settings.contains_key("timeout"));
        assert_eq!(
            parse("g.yaml", "file:\n  /x:\n    exist: true\n").unwrap_err(),
            "g.yaml: file \"/x\": unknown attribute \"exist\"; a file has path, exists, mode, size, owner, group, filetype, contents, md5, sha256, sha512, linked-to"
        );
        assert_eq!(
            parse("g.yaml", "file:\n  /x: [\n").unwrap_err(),
            "g.yaml:3:1: did not find expected node content"
        );
    }

    #[test]
    fn vars_and_env_are_rendered() {
        let vars: Value = serde_yaml::from_str("user: alice\nweb: {port: 8080}\n").unwrap();
        let env = BTreeMap::from([("STAGE".to_string(), "prod".to_string())]);
        assert_eq!(
            render(
                "{{ .Vars.user }} {{.Vars.web.port}} {{.Env.STAGE}}",
                &vars,
                &env
            )
            .unwrap(),
            "alice 8080 prod"
        );
    }
}
