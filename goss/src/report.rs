//! Results in goss's formats: `rspecish` (the default), `documentation`, `tap`, `junit`, `json`
//! (`json_oneline`), `nagios` and `silent`.

use crate::probe::{Outcome, Verdict};
use std::time::Duration;

/// The formats the goss provisioner's `format` accepts.
pub const FORMATS: &[&str] = &[
    "rspecish",
    "documentation",
    "tap",
    "junit",
    "json",
    "json_oneline",
    "nagios",
    "nagios_verbose",
    "silent",
];

/// One result as goss words it.
#[must_use]
pub fn line(o: &Outcome) -> String {
    let head = format!("{}: {}: {}", o.kind.title(), o.id, o.property);
    match o.result {
        Verdict::Pass => format!("{head}: matches expectation: {}", o.expected),
        Verdict::Skip => format!("{head}: skipped"),
        Verdict::Fail if !o.missing.is_empty() => {
            format!("{head}: patterns not found: [{}]", o.missing.join(", "))
        }
        Verdict::Fail => format!(
            "{head}:\nExpected\n    {}\nto match\n    {}",
            o.found, o.expected
        ),
    }
}

fn counts(results: &[Outcome]) -> (usize, usize, usize) {
    let failed = results.iter().filter(|o| o.result == Verdict::Fail).count();
    let skipped = results.iter().filter(|o| o.result == Verdict::Skip).count();
    (results.len(), failed, skipped)
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `results` in `format`.
#[must_use]
pub fn render(format: &str, results: &[Outcome], took: Duration, now: &str) -> String {
    let (n, failed, skipped) = counts(results);
    let summary = format!(
        "Total Duration: {:.3}s\nCount: {n}, Failed: {failed}, Skipped: {skipped}\n",
        took.as_secs_f64()
    );
    match format {
        "documentation" => {
            let mut s = String::new();
            for o in results {
                s.push_str(&line(o));
                s.push('\n');
            }
            s.push('\n');
            s + &summary
        }
        "tap" => {
            let mut s = format!("1..{n}\n");
            for (i, o) in results.iter().enumerate() {
                let l = line(o).replace('\n', " ");
                s.push_str(&match o.result {
                    Verdict::Pass => format!("ok {} - {l}\n", i + 1),
                    Verdict::Fail => format!("not ok {} - {l}\n", i + 1),
                    Verdict::Skip => format!("ok {} - # SKIP {l}\n", i + 1),
                });
            }
            s
        }
        "junit" => {
            let mut s = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"goss\" errors=\"0\" tests=\"{n}\" failures=\"{failed}\" skipped=\"{skipped}\" time=\"{:.3}\" timestamp=\"{now}\">\n",
                took.as_secs_f64()
            );
            for o in results {
                let name = if o.title.is_empty() {
                    format!("{} {} {}", o.kind.title(), o.id, o.property)
                } else {
                    o.title.clone()
                };
                let l = xml(&line(o));
                s.push_str(&format!(
                    "<testcase name=\"{}\" time=\"0.000\">\n",
                    xml(&name)
                ));
                s.push_str(&match o.result {
                    Verdict::Pass => format!("<system-out>{l}</system-out>\n"),
                    Verdict::Skip => format!("<skipped/><system-out>{l}</system-out>\n"),
                    Verdict::Fail => {
                        format!("<system-err>{l}</system-err>\n<failure>{l}</failure>\n")
                    }
                });
                s.push_str("</testcase>\n");
            }
            s + "</testsuite>\n"
        }
        "json" | "json_oneline" => {
            let results: Vec<serde_json::Value> = results
                .iter()
                .map(|o| {
                    serde_json::json!({
                        "successful": o.result == Verdict::Pass,
                        "skipped": o.result == Verdict::Skip,
                        "resource-id": o.id,
                        "resource-type": o.kind.title(),
                        "property": o.property,
                        "title": o.title,
                        "result": match o.result { Verdict::Pass => 0, Verdict::Fail => 1, Verdict::Skip => 2 },
                        "expected": o.expected,
                        "found": o.found,
                        "missing-elements": o.missing,
                        "summary-line": line(o),
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "results": results,
                "summary": {
                    "test-count": n,
                    "failed-count": failed,
                    "skipped-count": skipped,
                    "total-duration": took.as_nanos() as u64,
                    "summary-line": format!("Count: {n}, Failed: {failed}, Skipped: {skipped}, Duration: {:.3}s", took.as_secs_f64()),
                },
            });
            if format == "json" {
                serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
            } else {
                doc.to_string() + "\n"
            }
        }
        "nagios" | "nagios_verbose" => format!(
            "GOSS {} - Count: {n}, Failed: {failed}, Skipped: {skipped}, Duration: {:.3}s\n",
            if failed > 0 { "CRITICAL" } else { "OK" },
            took.as_secs_f64()
        ),
        "silent" => String::new(),
        _ => {
            let mut s: String = results
                .iter()
                .map(|o| match o.result {
                    Verdict::Pass => '.',
                    Verdict::Fail => 'F',
                    Verdict::Skip => 'S',
                })
                .collect();
            s.push_str("\n\n");
            let bad: Vec<&Outcome> = results
                .iter()
                .filter(|o| o.result == Verdict::Fail)
                .collect();
            if !bad.is_empty() {
                s.push_str("Failures/Skipped:\n\n");
                for o in bad {
                    s.push_str(&line(o));
                    s.push_str("\n\n");
                }
            }
            s + &summary
        }
    }
}
