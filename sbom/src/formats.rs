//! An [`Inventory`] as CycloneDX 1.6 JSON and SPDX 2.3 JSON, and package URLs.
//!
//! Components carry their purl (`pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc`),
//! the source package (`kiln:source-name`, `kiln:source-version` properties in CycloneDX,
//! `sourceInfo` in SPDX) and the licences the system records: as SPDX identifiers where the
//! Debian short name has one, by name otherwise.

use crate::inventory::{Inventory, Manager, Package};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Percent-encodes a purl component: letters, digits, `.`, `-`, `_`, `~` and `:` stay.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The purl namespace of the machine's OS for `manager` (`debian`, `ubuntu`, `alpine`, `fedora`).
fn namespace(inv: &Inventory) -> String {
    if inv.os.id.is_empty() {
        "unknown".into()
    } else {
        inv.os.id.to_ascii_lowercase()
    }
}

/// A package's URL, its qualifiers in canonical (sorted) order.
#[must_use]
pub fn purl(inv: &Inventory, p: &Package) -> String {
    let mut q: Vec<(&str, String)> = Vec::new();
    if !p.arch.is_empty() {
        q.push(("arch", p.arch.clone()));
    }
    if !inv.os.id.is_empty() && !inv.os.version_id.is_empty() {
        q.push((
            "distro",
            format!("{}-{}", namespace(inv), inv.os.version_id),
        ));
    }
    if p.source_name != p.name || p.source_version != p.version {
        q.push((
            "upstream",
            if p.source_version == p.version {
                p.source_name.clone()
            } else {
                format!("{}@{}", p.source_name, p.source_version)
            },
        ));
    }
    q.sort_by(|a, b| a.0.cmp(b.0));
    let qs: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!(
        "pkg:{}/{}/{}@{}{}{}",
        p.manager.purl_type(),
        encode(&namespace(inv)),
        encode(&p.name),
        encode(&p.version),
        if qs.is_empty() { "" } else { "?" },
        qs.join("&")
    )
}

/// The SPDX identifier of a licence as Debian (DEP-5), rpm or apk name it, when it has one.
#[must_use]
pub fn spdx_id(name: &str) -> Option<&'static str> {
    Some(match name.trim() {
        "GPL-1" | "GPL-1.0" => "GPL-1.0-only",
        "GPL-1+" | "GPL-1.0+" => "GPL-1.0-or-later",
        "GPL-2" | "GPL-2.0" | "GPLv2" | "GPL-2.0-only" => "GPL-2.0-only",
        "GPL-2+" | "GPL-2.0+" | "GPLv2+" | "GPL-2.0-or-later" => "GPL-2.0-or-later",
        "GPL-3" | "GPL-3.0" | "GPLv3" | "GPL-3.0-only" => "GPL-3.0-only",
        "GPL-3+" | "GPL-3.0+" | "GPLv3+" | "GPL-3.0-or-later" => "GPL-3.0-or-later",
        "LGPL-2" | "LGPL-2.0" => "LGPL-2.0-only",
        "LGPL-2+" | "LGPL-2.0+" => "LGPL-2.0-or-later",
        "LGPL-2.1" | "LGPL-2.1-only" => "LGPL-2.1-only",
        "LGPL-2.1+" | "LGPLv2+" | "LGPL-2.1-or-later" => "LGPL-2.1-or-later",
        "LGPL-3" | "LGPL-3.0" => "LGPL-3.0-only",
        "LGPL-3+" | "LGPL-3.0+" | "LGPLv3+" | "LGPL-3.0-or-later" => "LGPL-3.0-or-later",
        "AGPL-3" | "AGPL-3.0" => "AGPL-3.0-only",
        "AGPL-3+" | "AGPL-3.0+" => "AGPL-3.0-or-later",
        "Expat" | "MIT" => "MIT",
        "BSD-2-clause" | "BSD-2-Clause" => "BSD-2-Clause",
        "BSD-3-clause" | "BSD-3-Clause" => "BSD-3-Clause",
        "BSD-4-clause" | "BSD-4-Clause" => "BSD-4-Clause",
        "ISC" => "ISC",
        "Zlib" | "zlib" => "Zlib",
        "Apache-2.0" | "Apache-2" | "ASL 2.0" => "Apache-2.0",
        "MPL-1.1" => "MPL-1.1",
        "MPL-2.0" => "MPL-2.0",
        "CC0-1.0" | "CC0" => "CC0-1.0",
        "Artistic-2.0" => "Artistic-2.0",
        "OpenSSL" => "OpenSSL",
        "PSF-2.0" | "PSF-2" => "PSF-2.0",
        "Unicode-DFS-2016" => "Unicode-DFS-2016",
        "curl" => "curl",
        "X11" => "X11",
        _ => return None,
    })
}

fn stamp(now: OffsetDateTime) -> String {
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The document's name: the OS and the build that read it.
fn os_name(inv: &Inventory) -> String {
    if inv.os.pretty_name.is_empty() {
        format!("{} {}", inv.os.id, inv.os.version_id)
            .trim()
            .to_string()
    } else {
        inv.os.pretty_name.clone()
    }
}

/// CycloneDX 1.6 JSON of `inv`, named for `subject` (the build).
#[must_use]
pub fn cyclonedx(inv: &Inventory, subject: &str, now: OffsetDateTime) -> Value {
    let components: Vec<Value> = inv
        .packages
        .iter()
        .map(|p| {
            let purl = purl(inv, p);
            let licenses: Vec<Value> = p
                .licenses
                .iter()
                .map(|l| match spdx_id(l) {
                    Some(id) => json!({"license": {"id": id}}),
                    None => json!({"license": {"name": l}}),
                })
                .collect();
            let mut c = json!({
                "bom-ref": purl,
                "type": "library",
                "name": p.name,
                "version": p.version,
                "purl": purl,
            });
            if !licenses.is_empty() {
                c["licenses"] = Value::Array(licenses);
            }
            c["properties"] = json!([
                {"name": "kiln:package-manager", "value": p.manager.purl_type()},
                {"name": "kiln:arch", "value": p.arch},
                {"name": "kiln:source-name", "value": p.source_name},
                {"name": "kiln:source-version", "value": p.source_version},
            ]);
            c
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "version": 1,
        "metadata": {
            "timestamp": stamp(now),
            "tools": {"components": [{"type": "application", "name": "kiln", "version": env!("CARGO_PKG_VERSION")}]},
            "component": {
                "bom-ref": "kiln:subject",
                "type": "operating-system",
                "name": if inv.os.id.is_empty() { "unknown" } else { inv.os.id.as_str() },
                "version": inv.os.version_id,
                "description": format!("{} ({subject})", os_name(inv)),
                "properties": [{"name": "kiln:build", "value": subject}, {"name": "kiln:os-codename", "value": inv.os.codename}],
            },
        },
        "components": components,
        "dependencies": [{"ref": "kiln:subject", "dependsOn": inv.packages.iter().map(|p| purl(inv, p)).collect::<Vec<_>>()}],
    })
}

/// An SPDX element id: letters, digits, `.` and `-` only.
fn spdx_ref(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// SPDX 2.3 JSON of `inv`, named for `subject` (the build).
#[must_use]
pub fn spdx(inv: &Inventory, subject: &str, now: OffsetDateTime) -> Value {
    let mut packages = vec![json!({
        "SPDXID": "SPDXRef-OperatingSystem",
        "name": if inv.os.id.is_empty() { "unknown" } else { inv.os.id.as_str() },
        "versionInfo": inv.os.version_id,
        "primaryPackagePurpose": "OPERATING_SYSTEM",
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "description": os_name(inv),
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-OperatingSystem",
    })];
    for (i, p) in inv.packages.iter().enumerate() {
        let id = format!(
            "SPDXRef-Package-{}-{}-{i}",
            p.manager.purl_type(),
            spdx_ref(&p.name)
        );
        let ids: Option<Vec<&str>> = p.licenses.iter().map(|l| spdx_id(l)).collect();
        let declared = match ids {
            Some(ids) if !ids.is_empty() => {
                let mut ids = ids;
                ids.dedup();
                ids.join(" AND ")
            }
            _ => "NOASSERTION".to_string(),
        };
        let mut pkg = json!({
            "SPDXID": id,
            "name": p.name,
            "versionInfo": p.version,
            "primaryPackagePurpose": "LIBRARY",
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": declared,
            "copyrightText": "NOASSERTION",
            "sourceInfo": format!("built from the {} source package {} {}", p.manager.purl_type(), p.source_name, p.source_version),
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl(inv, p),
            }],
        });
        if declared == "NOASSERTION" && !p.licenses.is_empty() {
            pkg["licenseComments"] = format!("recorded as: {}", p.licenses.join(", ")).into();
        }
        packages.push(pkg);
        relationships.push(json!({
            "spdxElementId": "SPDXRef-OperatingSystem",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": subject,
        "documentNamespace": format!("https://kiln.invalid/spdx/{}-{}", spdx_ref(subject), uuid::Uuid::new_v4()),
        "creationInfo": {
            "created": stamp(now),
            "creators": [format!("Tool: kiln-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

/// The packages of an SBOM this module wrote (CycloneDX or SPDX), for scanning it later.
///
/// # Errors
/// When the document is neither, or a component lacks what scanning needs.
pub fn read_sbom(doc: &Value) -> Result<Inventory, String> {
    let mut inv = Inventory::default();
    let from_purl = |purl: &str| -> Option<(Manager, String, String, String)> {
        let rest = purl.strip_prefix("pkg:")?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (ty, path) = path.split_once('/')?;
        let manager = match ty {
            "deb" => Manager::Deb,
            "rpm" => Manager::Rpm,
            "apk" => Manager::Apk,
            _ => return None,
        };
        let (_ns, nv) = path.split_once('/')?;
        let (name, version) = nv.split_once('@')?;
        let distro = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("distro="))
            .unwrap_or_default();
        Some((manager, decode(name), decode(version), decode(distro)))
    };
    if doc["bomFormat"] == "CycloneDX" {
        let meta = &doc["metadata"]["component"];
        inv.os.id = meta["name"].as_str().unwrap_or_default().to_string();
        inv.os.version_id = meta["version"].as_str().unwrap_or_default().to_string();
        for c in doc["components"].as_array().into_iter().flatten() {
            let Some(purl) = c["purl"].as_str() else {
                continue;
            };
            let Some((manager, name, version, _)) = from_purl(purl) else {
                continue;
            };
            let prop = |k: &str| {
                c["properties"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find_map(|p| {
                        (p["name"] == k)
                            .then(|| p["value"].as_str().unwrap_or_default().to_string())
                    })
            };
            inv.packages.push(Package {
                manager,
                arch: prop("kiln:arch").unwrap_or_default(),
                source_name: prop("kiln:source-name").unwrap_or_else(|| name.clone()),
                source_version: prop("kiln:source-version").unwrap_or_else(|| version.clone()),
                name,
                version,
                licenses: Vec::new(),
            });
        }
        return Ok(inv);
    }
    if doc["spdxVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with("SPDX-2"))
    {
        for p in doc["packages"].as_array().into_iter().flatten() {
            if p["SPDXID"] == "SPDXRef-OperatingSystem" {
                inv.os.id = p["name"].as_str().unwrap_or_default().to_string();
                inv.os.version_id = p["versionInfo"].as_str().unwrap_or_default().to_string();
                continue;
            }
            let purl = p["externalRefs"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|r| {
                    (r["referenceType"] == "purl").then(|| r["referenceLocator"].as_str())?
                });
            let Some((manager, name, version, distro)) = purl.and_then(from_purl) else {
                continue;
            };
            if inv.os.id.is_empty() {
                if let Some((id, v)) = distro.split_once('-') {
                    inv.os.id = id.to_string();
                    inv.os.version_id = v.to_string();
                }
            }
            // "built from the deb source package NAME VERSION"
            let (source_name, source_version) = p["sourceInfo"]
                .as_str()
                .and_then(|s| s.split("source package ").nth(1))
                .and_then(|s| s.split_once(' '))
                .map_or((name.clone(), version.clone()), |(n, v)| {
                    (n.to_string(), v.to_string())
                });
            inv.packages.push(Package {
                manager,
                arch: String::new(),
                name,
                version,
                source_name,
                source_version,
                licenses: Vec::new(),
            });
        }
        return Ok(inv);
    }
    Err("not a CycloneDX or SPDX 2 JSON document (no bomFormat or spdxVersion)".into())
}

/// Undoes [`encode`].
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(s.get(i + 1..i + 3).unwrap_or("zz"), 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::OsRelease;

    fn inv() -> Inventory {
        Inventory {
            os: OsRelease {
                id: "debian".into(),
                version_id: "12".into(),
                pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
                codename: "bookworm".into(),
            },
            packages: vec![
                Package {
                    manager: Manager::Deb,
                    name: "libc6".into(),
                    version: "2.36-9+deb12u4".into(),
                    arch: "amd64".into(),
                    source_name: "glibc".into(),
                    source_version: "2.36-9+deb12u4".into(),
                    licenses: vec!["LGPL-2.1+".into(), "GPL-2+".into()],
                },
                Package {
                    manager: Manager::Deb,
                    name: "openssh-client".into(),
                    version: "1:9.2p1-2+deb12u3".into(),
                    arch: "amd64".into(),
                    source_name: "openssh".into(),
                    source_version: "1:9.2p1-2+deb12u3".into(),
                    licenses: vec!["BSD-2-clause".into(), "Beer-ware".into()],
                },
            ],
        }
    }

    #[test]
    fn purls_follow_the_spec() {
        let i = inv();
        assert_eq!(
            purl(&i, &i.packages[0]),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"
        );
        assert_eq!(
            purl(&i, &i.packages[1]),
            "pkg:deb/debian/openssh-client@1:9.2p1-2%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=openssh"
        );
    }

    #[test]
    fn both_formats_read_back() {
        let i = inv();
        let now = time::macros::datetime!(2026-12-03 10:00 UTC);
        let c = cyclonedx(&i, "qemu.vm", now);
        assert_eq!(c["specVersion"], "1.6");
        assert_eq!(
            c["components"][0]["licenses"],
            json!([{"license": {"id": "LGPL-2.1-or-later"}}, {"license": {"id": "GPL-2.0-or-later"}}])
        );
        let s = spdx(&i, "qemu.vm", now);
        assert_eq!(
            s["packages"][1]["licenseDeclared"],
            "LGPL-2.1-or-later AND GPL-2.0-or-later"
        );
        assert_eq!(s["packages"][2]["licenseDeclared"], "NOASSERTION");
        assert_eq!(
            s["packages"][2]["licenseComments"],
            "recorded as: BSD-2-clause, Beer-ware"
        );
        for doc in [c, s] {
            let back = read_sbom(&doc).unwrap();
            assert_eq!(back.os.id, "debian");
            assert_eq!(back.os.version_id, "12");
            let got: Vec<(&str, &str, &str, &str)> = back
                .packages
                .iter()
                .map(|p| {
                    (
                        p.name.as_str(),
                        p.version.as_str(),
                        p.source_name.as_str(),
                        p.source_version.as_str(),
                    )
                })
                .collect();
            assert_eq!(
                got,
                [
                    ("libc6", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4"),
                    (
                        "openssh-client",
                        "1:9.2p1-2+deb12u3",
                        "openssh",
                        "1:9.2p1-2+deb12u3"
                    )
                ]
            );
        }
    }
}
