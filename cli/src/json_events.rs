//! `kiln build --json`: one JSON object per line on standard output for every event, for
//! pipelines that read a build's progress. Version 1 of the format; a field is only ever
//! added, and a change of meaning gets a new `v`. Every object has `v`, `time` (RFC 3339,
//! UTC), `build` (`type.name`, empty for run-wide events) and `type`:
//!
//! | `type` | fields |
//! |---|---|
//! | `run_started` | `builds`: the builds about to run |
//! | `build_started` | |
//! | `say` | `text`: a headline (`==> build: text` in the human output) |
//! | `message` | `text`: a detail line |
//! | `output` | `stream` (`stdout`/`stderr`), `line`: a line a command printed |
//! | `error` | `text` |
//! | `progress` | `label`, `done`, `total` (or null) |
//! | `progress_done` | `label` |
//! | `document` | `kind`, `name`, `bytes`: a report the build wrote (SBOM, test results) |
//! | `build_finished` | `error` (null on success), `elapsed_seconds`, `artifacts` (`builder_id`, `id`, `string`, `files`) |
//! | `run_finished` | `elapsed_seconds`, `succeeded`, `failed` (build → error) |
//!
//! Secrets are scrubbed before an event exists, so they are absent here as everywhere.

use kiln_core::event::{ArtifactInfo, Event, EventKind};
use kiln_core::OutputStream;
use serde_json::{json, Map, Value};
use std::time::{Duration, SystemTime};

/// The format's version, `v` in every object.
pub const VERSION: u32 = 1;

fn stamp(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn object(build: &str, t: SystemTime, kind: &str, fields: Value) -> String {
    let mut m = Map::new();
    m.insert("v".into(), VERSION.into());
    m.insert("time".into(), stamp(t).into());
    m.insert("build".into(), build.into());
    m.insert("type".into(), kind.into());
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    Value::Object(m).to_string()
}

fn artifact(a: &ArtifactInfo) -> Value {
    json!({"builder_id": a.builder_id, "id": a.id, "string": a.string, "files": a.files})
}

/// The line for `ev`.
#[must_use]
pub fn event(ev: &Event) -> String {
    let (kind, fields) = match &ev.kind {
        EventKind::BuildStarted => ("build_started", json!({})),
        EventKind::Say(t) => ("say", json!({ "text": t })),
        EventKind::Message(t) => ("message", json!({ "text": t })),
        EventKind::Output { stream, line } => (
            "output",
            json!({
                "stream": match stream { OutputStream::Stdout => "stdout", OutputStream::Stderr => "stderr" },
                "line": line,
            }),
        ),
        EventKind::Error(t) => ("error", json!({ "text": t })),
        EventKind::Progress { label, done, total } => (
            "progress",
            json!({"label": label, "done": done, "total": total}),
        ),
        EventKind::ProgressDone { label } => ("progress_done", json!({ "label": label })),
        EventKind::Document {
            kind,
            name,
            content,
        } => (
            "document",
            json!({"kind": kind, "name": name, "bytes": content.len()}),
        ),
        EventKind::BuildFinished {
            error,
            elapsed,
            artifacts,
        } => (
            "build_finished",
            json!({
                "error": error,
                "elapsed_seconds": elapsed.as_secs_f64(),
                "artifacts": artifacts.iter().map(artifact).collect::<Vec<_>>(),
            }),
        ),
    };
    object(&ev.build, ev.time, kind, fields)
}

/// The first line: the builds about to run.
#[must_use]
pub fn run_started(builds: &[String]) -> String {
    object(
        "",
        SystemTime::now(),
        "run_started",
        json!({ "builds": builds }),
    )
}

/// A run-wide headline (an interrupt, for one).
#[must_use]
pub fn say(text: &str) -> String {
    object("", SystemTime::now(), "say", json!({ "text": text }))
}

/// The last line.
#[must_use]
pub fn run_finished(
    results: &[(String, Result<Vec<ArtifactInfo>, String>)],
    waited: Duration,
) -> String {
    let succeeded: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(n, _)| n.as_str())
        .collect();
    let failed: Map<String, Value> = results
        .iter()
        .filter_map(|(n, r)| {
            r.as_ref()
                .err()
                .map(|e| (n.clone(), Value::from(e.as_str())))
        })
        .collect();
    object(
        "",
        SystemTime::now(),
        "run_finished",
        json!({"elapsed_seconds": waited.as_secs_f64(), "succeeded": succeeded, "failed": failed}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_is_one_versioned_object() {
        let ev = Event {
            build: "null.n".into(),
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(86_400),
            kind: EventKind::Output {
                stream: OutputStream::Stderr,
                line: "a \"quoted\" line".into(),
            },
        };
        assert_eq!(
            event(&ev),
            r#"{"v":1,"time":"1970-01-02T00:00:00Z","build":"null.n","type":"output","stream":"stderr","line":"a \"quoted\" line"}"#
        );
    }
}
