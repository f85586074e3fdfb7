//! What is installed on a machine, read from its package databases: dpkg's status file, apk's
//! installed database and rpm's query output, with the OS identity from `/etc/os-release` and
//! licences from Debian's machine-readable copyright files.
//!
//! [`PROBE`] is one POSIX shell command that prints all of them as sections, so a machine is
//! read in one remote command; [`Inventory::from_probe`] parses what it printed.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The package manager a package belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    /// dpkg (Debian, Ubuntu): purl type `deb`.
    Deb,
    /// rpm (Fedora, RHEL, SUSE): purl type `rpm`.
    Rpm,
    /// apk (Alpine): purl type `apk`.
    Apk,
}

impl Manager {
    /// The purl type.
    #[must_use]
    pub fn purl_type(self) -> &'static str {
        match self {
            Manager::Deb => "deb",
            Manager::Rpm => "rpm",
            Manager::Apk => "apk",
        }
    }
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Its package manager.
    pub manager: Manager,
    /// The binary package's name.
    pub name: String,
    /// Its version, as the package manager writes it (`1:9.2p1-2+deb12u3`).
    pub version: String,
    /// Its architecture (`amd64`, `x86_64`, `all`).
    pub arch: String,
    /// The source package it was built from (dpkg's `Source:`, rpm's source RPM, apk's origin).
    pub source_name: String,
    /// The source package's version (differs from `version` for binNMUs).
    pub source_version: String,
    /// Licences the system records (SPDX identifiers where the record uses them).
    pub licenses: Vec<String>,
}

/// The machine's OS, from `/etc/os-release`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID`, e.g. `debian`.
    pub id: String,
    /// `VERSION_ID`, e.g. `12`.
    pub version_id: String,
    /// `PRETTY_NAME`.
    pub pretty_name: String,
    /// `VERSION_CODENAME`, e.g. `bookworm`.
    pub codename: String,
}

/// What a machine has installed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Its OS.
    pub os: OsRelease,
    /// Its packages, by manager and name.
    pub packages: Vec<Package>,
}

/// The remote command that prints everything [`Inventory::from_probe`] reads, in sections that
/// start with a `@@kiln-sbom SECTION` line. It only reads files and runs `rpm -qa` when rpm is
/// there; it needs no privileges beyond reading the package databases.
pub const PROBE: &str = r#"echo '@@kiln-sbom os-release'; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
echo '@@kiln-sbom dpkg'; cat /var/lib/dpkg/status 2>/dev/null
echo '@@kiln-sbom copyright'; grep -H '^License:' /usr/share/doc/*/copyright 2>/dev/null
echo '@@kiln-sbom apk'; cat /lib/apk/db/installed 2>/dev/null
echo '@@kiln-sbom rpm'; if command -v rpm >/dev/null 2>&1; then rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{LICENSE}\n' 2>/dev/null; fi
echo '@@kiln-sbom end'
"#;

/// The sections of a probe's output.
fn sections(out: &str) -> BTreeMap<&str, String> {
    let mut map: BTreeMap<&str, String> = BTreeMap::new();
    let mut current = None;
    for line in out.lines() {
        if let Some(name) = line.strip_prefix("@@kiln-sbom ") {
            current = Some(name.trim());
            continue;
        }
        if let Some(c) = current {
            let s = map.entry(c).or_default();
            s.push_str(line);
            s.push('\n');
        }
    }
    map
}

/// `/etc/os-release`: `KEY=value` lines, values optionally quoted.
#[must_use]
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut kv = BTreeMap::new();
    for line in text.lines() {
        let Some((k, v)) = line.trim().split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(v);
        kv.insert(
            k.trim().to_string(),
            v.replace("\\\"", "\"").replace("\\$", "$"),
        );
    }
    let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
    OsRelease {
        id: get("ID"),
        version_id: get("VERSION_ID"),
        pretty_name: get("PRETTY_NAME"),
        codename: get("VERSION_CODENAME"),
    }
}

/// Stanzas of a deb822-style file (dpkg's status): fields, continuation lines folded in.
fn stanzas(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut cur: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            last = None;
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(k) = &last {
                if let Some(v) = cur.get_mut(k) {
                    v.push('\n');
                    v.push_str(line.trim());
                }
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.insert(k.trim().to_string(), v.trim().to_string());
            last = Some(k.trim().to_string());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The packages dpkg's status file lists as installed, with licences from `copyright` (lines of
/// `grep -H '^License:' /usr/share/doc/*/copyright`).
#[must_use]
pub fn parse_dpkg_status(status: &str, copyright: &str) -> Vec<Package> {
    let mut licenses: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for line in copyright.lines() {
        // /usr/share/doc/NAME/copyright:License: EXPR
        let Some((path, lic)) = line.split_once(":License:") else {
            continue;
        };
        let Some(name) = path
            .strip_prefix("/usr/share/doc/")
            .and_then(|p| p.strip_suffix("/copyright"))
        else {
            continue;
        };
        let lic = lic.trim();
        let l = licenses.entry(name).or_default();
        if !lic.is_empty() && !l.iter().any(|x| x == lic) {
            l.push(lic.to_string());
        }
    }
    let mut out: Vec<Package> = stanzas(status)
        .into_iter()
        .filter(|s| {
            s.get("Status")
                .is_some_and(|st| st.split_whitespace().nth(2) == Some("installed"))
        })
        .filter_map(|s| {
            let name = s.get("Package")?.clone();
            let version = s.get("Version")?.clone();
            // `Source: name` or `Source: name (version)`; absent when it is the package's own.
            let (source_name, source_version) = match s.get("Source") {
                Some(src) => match src.split_once('(') {
                    Some((n, v)) => (
                        n.trim().to_string(),
                        v.trim_end_matches(')').trim().to_string(),
                    ),
                    None => (src.trim().to_string(), version.clone()),
                },
                None => (name.clone(), version.clone()),
            };
            Some(Package {
                manager: Manager::Deb,
                licenses: licenses.get(name.as_str()).cloned().unwrap_or_default(),
                arch: s.get("Architecture").cloned().unwrap_or_default(),
                name,
                version,
                source_name,
                source_version,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    out
}

/// apk's installed database: `P:` name, `V:` version, `A:` arch, `o:` origin, `L:` licence.
#[must_use]
pub fn parse_apk_installed(text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut f: BTreeMap<&str, &str> = BTreeMap::new();
        for line in block.lines() {
            if let Some((k, v)) = line.split_once(':') {
                f.entry(k).or_insert(v);
            }
        }
        let (Some(name), Some(version)) = (f.get("P"), f.get("V")) else {
            continue;
        };
        out.push(Package {
            manager: Manager::Apk,
            name: (*name).to_string(),
            version: (*version).to_string(),
            arch: f.get("A").copied().unwrap_or_default().to_string(),
            source_name: f.get("o").copied().unwrap_or(name).to_string(),
            source_version: (*version).to_string(),
            licenses: f
                .get("L")
                .map(|l| vec![(*l).to_string()])
                .unwrap_or_default(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// `rpm -qa --qf` lines of [`PROBE`]: name, epoch:version-release, arch, source RPM, licence.
#[must_use]
pub fn parse_rpm_query(text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [name, evr, arch, srpm, license] = f[..] else {
            continue;
        };
        if name == "gpg-pubkey" {
            continue;
        }
        let evr = evr.strip_prefix("0:").unwrap_or(evr);
        // NAME-VERSION-RELEASE.src.rpm
        let source = srpm.trim_end_matches(".rpm").trim_end_matches(".src");
        // The source RPM's file name has no epoch: the binary's is the source's.
        let epoch = evr
            .split_once(':')
            .map(|(e, _)| format!("{e}:"))
            .unwrap_or_default();
        let (source_name, source_version) = match source.rsplitn(3, '-').collect::<Vec<_>>()[..] {
            [rel, ver, n] => (n.to_string(), format!("{epoch}{ver}-{rel}")),
            _ => (name.to_string(), evr.to_string()),
        };
        out.push(Package {
            manager: Manager::Rpm,
            name: name.to_string(),
            version: evr.to_string(),
            arch: arch.to_string(),
            source_name,
            source_version,
            licenses: if license.is_empty() || license == "(none)" {
                Vec::new()
            } else {
                vec![license.to_string()]
            },
        });
    }
    out.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    out
}

impl Inventory {
    /// Parses what [`PROBE`] printed.
    ///
    /// # Errors
    /// When the output is not the probe's (its last section is missing: the command was cut
    /// short).
    pub fn from_probe(out: &str) -> Result<Inventory, String> {
        let s = sections(out);
        if !out.contains("@@kiln-sbom end") {
            return Err("the package database probe did not finish (its output ends early)".into());
        }
        let get = |k: &str| s.get(k).map_or("", String::as_str);
        let mut packages = parse_dpkg_status(get("dpkg"), get("copyright"));
        packages.extend(parse_rpm_query(get("rpm")));
        packages.extend(parse_apk_installed(get("apk")));
        Ok(Inventory {
            os: parse_os_release(get("os-release")),
            packages,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_status_keeps_installed_packages_with_their_source() {
        let status = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library\n continued line\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\nPackage: libfoo1\nStatus: install ok installed\nArchitecture: amd64\nSource: foo (1.2-3)\nVersion: 1.2-3+b1\n";
        let copyright = "/usr/share/doc/libc6/copyright:License: LGPL-2.1+\n/usr/share/doc/libc6/copyright:License: GPL-2+\n/usr/share/doc/libc6/copyright:License: LGPL-2.1+\n";
        let p = parse_dpkg_status(status, copyright);
        assert_eq!(p.len(), 2);
        assert_eq!(
            (
                p[0].name.as_str(),
                p[0].source_name.as_str(),
                p[0].source_version.as_str()
            ),
            ("libc6", "glibc", "2.36-9+deb12u4")
        );
        assert_eq!(p[0].licenses, ["LGPL-2.1+", "GPL-2+"]);
        assert_eq!(
            (
                p[1].version.as_str(),
                p[1].source_name.as_str(),
                p[1].source_version.as_str()
            ),
            ("1.2-3+b1", "foo", "1.2-3")
        );
    }

    #[test]
    fn rpm_and_apk_records() {
        let rpm = parse_rpm_query(
            "bash\t0:5.1.8-6.el9\tx86_64\tbash-5.1.8-6.el9.src.rpm\tGPLv3+\ngpg-pubkey\t0:1-1\t(none)\t(none)\t(none)\nopenssl-libs\t1:3.0.7-27.el9\tx86_64\topenssl-3.0.7-27.el9.src.rpm\tApache-2.0\n",
        );
        assert_eq!(rpm.len(), 2);
        assert_eq!(
            (rpm[1].source_name.as_str(), rpm[1].source_version.as_str()),
            ("openssl", "1:3.0.7-27.el9")
        );
        assert_eq!(
            (
                rpm[0].version.as_str(),
                rpm[0].source_name.as_str(),
                rpm[0].source_version.as_str()
            ),
            ("5.1.8-6.el9", "bash", "5.1.8-6.el9")
        );
        let apk = parse_apk_installed(
            "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nP:busybox-binsh\nV:1.36.1-r5\nA:x86_64\no:busybox\n",
        );
        assert_eq!(apk[0].name, "busybox-binsh");
        assert_eq!(apk[0].source_name, "busybox");
        assert_eq!(apk[1].licenses, ["MIT"]);
    }

    #[test]
    fn os_release_values_are_unquoted() {
        let os = parse_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
        );
        assert_eq!(
            (os.id.as_str(), os.version_id.as_str(), os.codename.as_str()),
            ("debian", "12", "bookworm")
        );
        assert_eq!(os.pretty_name, "Debian GNU/Linux 12 (bookworm)");
    }

    #[test]
    fn a_cut_short_probe_is_an_error() {
        assert!(Inventory::from_probe("@@kiln-sbom os-release\nID=debian\n").is_err());
    }
}
