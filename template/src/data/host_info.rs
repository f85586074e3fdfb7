//! `data "host-info"` (the community plugin's name and outputs): facts about the machine Kiln
//! runs on.

use hcl::{Map, Value};

/// What the `host-info` data source reports, read from the machine Kiln runs on.
#[derive(Debug, Default)]
pub(crate) struct HostFacts {
    /// `/etc/os-release`.
    pub(crate) os_release: String,
    /// `/etc/debian_version`, where there is one.
    pub(crate) debian_version: Option<String>,
}

impl HostFacts {
    pub(crate) fn read() -> Self {
        HostFacts {
            os_release: std::fs::read_to_string("/etc/os-release")
                .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
                .unwrap_or_default(),
            debian_version: std::fs::read_to_string("/etc/debian_version").ok(),
        }
    }
}

/// `data "host-info"` (the community plugin's outputs): `os_type` (Go's GOOS), `architecture`
/// (GOARCH names), `platform` (the distribution), `version` (its release, Debian's point
/// release) and `family` (`debian`, `rhel`, ...).
pub(crate) fn outputs(f: &HostFacts) -> Value {
    let field = |k: &str| {
        f.os_release
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(|v| v.trim().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    let platform = field("ID");
    let version = match (&f.debian_version, platform.as_str()) {
        (Some(v), "debian") => v.trim().to_string(),
        _ => field("VERSION_ID"),
    };
    let family = match platform.as_str() {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" | "pop" | "kali" => "debian",
        "rhel" | "centos" | "rocky" | "almalinux" | "ol" | "oracle" | "scientific" | "amzn" => {
            "rhel"
        }
        "fedora" => "fedora",
        "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" | "sles" | "suse" => "suse",
        "arch" | "manjaro" => "arch",
        "alpine" => "alpine",
        "gentoo" => "gentoo",
        _ => "",
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        other => other,
    };
    let mut m = Map::new();
    m.insert("os_type".into(), Value::from(std::env::consts::OS));
    m.insert("architecture".into(), Value::from(arch));
    m.insert("platform".into(), Value::from(platform));
    m.insert("version".into(), Value::from(version));
    m.insert("family".into(), Value::from(family));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_info_reads_os_release() {
        let f = HostFacts {
            os_release:
                "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"
                    .into(),
            debian_version: Some("12.5\n".into()),
        };
        let get = |v: &Value, k: &str| {
            v.as_object()
                .and_then(|o| o.get(k))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let v = outputs(&f);
        assert_eq!(get(&v, "platform"), Value::from("debian"));
        assert_eq!(get(&v, "version"), Value::from("12.5"));
        assert_eq!(get(&v, "family"), Value::from("debian"));
        assert_eq!(get(&v, "os_type"), Value::from("linux"));
        let f = HostFacts {
            os_release: "ID=\"rocky\"\nVERSION_ID=\"9.3\"\n".into(),
            debian_version: None,
        };
        let v = outputs(&f);
        assert_eq!(
            (get(&v, "platform"), get(&v, "version"), get(&v, "family")),
            (
                Value::from("rocky"),
                Value::from("9.3"),
                Value::from("rhel")
            )
        );
    }
}
