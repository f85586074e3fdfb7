//! The SBOM and scan benchmark (run by `bench/sbom`): a machine of 2,000 dpkg packages and an
//! OSV database of 50,000 records, written as osv.dev's zip. Measures parsing the probe's output,
//! writing CycloneDX and SPDX, loading the database and matching, and prints one JSON line.
#![allow(clippy::print_stdout)]

use kiln_sbom::{formats, inventory, osv};
use std::io::Write;
use std::time::Instant;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let packages: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let records: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000);
    // The probe's output for a Debian 12 machine: os-release, dpkg status, copyright lines.
    let mut probe = String::from("@@kiln-sbom os-release\nID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n@@kiln-sbom dpkg\n");
    for i in 0..packages {
        let src = format!("src{}", i / 3);
        probe.push_str(&format!(
            "Package: pkg{i:04}\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: {}\nMaintainer: Debian <debian@example.org>\nArchitecture: amd64\nSource: {src}\nVersion: {}:{}.{}.{}-{}+deb12u{}\nDepends: libc6 (>= 2.34)\nDescription: package {i}\n a longer description\n of two lines\n\n",
            i * 7,
            i % 3,
            i % 17,
            i % 101,
            i % 7,
            i % 5 + 1,
            i % 9
        ));
    }
    probe.push_str("@@kiln-sbom copyright\n");
    for i in 0..packages {
        probe.push_str(&format!(
            "/usr/share/doc/pkg{i:04}/copyright:License: GPL-2+\n"
        ));
    }
    probe.push_str("@@kiln-sbom apk\n@@kiln-sbom rpm\n@@kiln-sbom end\n");

    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    {
        let f = std::fs::File::create(&zip_path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for r in 0..records {
            // A third of the records are about the machine's source packages, around their
            // versions; the rest about packages it does not have.
            let name = if r % 3 == 0 {
                format!("src{}", (r / 3) % (packages / 3).max(1))
            } else {
                format!("other{r}")
            };
            let fixed = format!("{}:{}.{}.{}-1", r % 3, r % 17, (r * 7) % 101, r % 11);
            let rec = format!(
                r#"{{"schema_version":"1.6.0","id":"DEBIAN-CVE-2026-{r:05}","modified":"2026-11-01T00:00:00Z","upstream":["CVE-2026-{r:05}"],"summary":"a vulnerability","details":"{}","severity":[{{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:L/A:N"}}],"affected":[{{"package":{{"ecosystem":"Debian:12","name":"{name}","purl":"pkg:deb/debian/{name}?arch=source"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}],"ecosystem_specific":{{"urgency":"not yet assigned"}}}}]}}"#,
                "x".repeat(300)
            );
            z.start_file(format!("DEBIAN-CVE-2026-{r:05}.json"), opts)
                .unwrap();
            z.write_all(rec.as_bytes()).unwrap();
        }
        z.finish().unwrap();
    }
    let zip_mb = std::fs::metadata(&zip_path).unwrap().len() as f64 / 1e6;

    let mut runs = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let inv = inventory::Inventory::from_probe(&probe).unwrap();
        let parse = ms(t0);
        let t = Instant::now();
        let now = time::OffsetDateTime::now_utc();
        let c = serde_json::to_string_pretty(&formats::cyclonedx(&inv, "bench", now)).unwrap();
        let s = serde_json::to_string_pretty(&formats::spdx(&inv, "bench", now)).unwrap();
        let write = ms(t);
        let t = Instant::now();
        let db = osv::Database::load(&zip_path).unwrap();
        let load = ms(t);
        let t = Instant::now();
        let findings = osv::scan(&inv, &db);
        let scan = ms(t);
        runs.push((
            parse,
            write,
            load,
            scan,
            ms(t0),
            findings.len(),
            c.len() + s.len(),
            db.len(),
        ));
    }
    runs.sort_by(|a, b| a.4.total_cmp(&b.4));
    let m = runs[runs.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "packages": packages,
            "records": m.7,
            "zip_mb": zip_mb,
            "parse_ms": m.0,
            "write_cyclonedx_and_spdx_ms": m.1,
            "sbom_bytes": m.6,
            "load_db_ms": m.2,
            "scan_ms": m.3,
            "total_ms": m.4,
            "findings": m.5,
        })
    );
}
