//! The debug log: `KILN_LOG` (or Packer's `PACKER_LOG`) set to a level (`trace`, `debug`,
//! `info`, `warn`, `error`) or to any other non-empty value but `0` (meaning `debug`) turns on
//! Kiln's `tracing` events (steps and provisioners with durations, every SSH command) on
//! standard error, or appended to `KILN_LOG_PATH` / `PACKER_LOG_PATH`. Every line is scrubbed of
//! the run's secrets before it is written, as every other output is.
//!
//! `kiln build -log-dir DIR` also writes one log per build, `DIR/<build>.log`: the build's
//! output (what `==> build:` lines say, command output) and its log events (at `KILN_LOG`'s
//! level, `debug` when unset), found by the `build` span the orchestrator runs each build in.

use kiln_core::event::Secrets;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// The build's event-stream secrets (generated keys, passwords), known once the build starts.
static RUN_SECRETS: OnceLock<Arc<Secrets>> = OnceLock::new();

/// Scrubs log lines with the build's secrets too from now on.
pub fn scrub_with(s: Arc<Secrets>) {
    let _ = RUN_SECRETS.set(s);
}

fn level() -> Option<LevelFilter> {
    let v = ["KILN_LOG", "PACKER_LOG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty() && v != "0"))?;
    Some(match v.to_ascii_lowercase().as_str() {
        "trace" => LevelFilter::TRACE,
        "info" => LevelFilter::INFO,
        "warn" => LevelFilter::WARN,
        "error" => LevelFilter::ERROR,
        _ => LevelFilter::DEBUG,
    })
}

struct Sink(Mutex<Box<dyn Write + Send>>);

struct Line<'a>(&'a Sink);

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The formatter hands over one whole event per call.
        let text = scrub(&String::from_utf8_lossy(buf));
        let mut w = self
            .0
             .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        w.write_all(text.as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0
             .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .flush()
    }
}

fn scrub(text: &str) -> String {
    let text = crate::SECRETS.scrub(text);
    match RUN_SECRETS.get() {
        Some(s) => s.scrub(&text),
        None => text,
    }
}

/// The per-build logs of `-log-dir`.
pub struct BuildLogs {
    dir: PathBuf,
    files: Mutex<HashMap<String, Option<std::fs::File>>>,
}

static BUILD_LOGS: OnceLock<BuildLogs> = OnceLock::new();

impl BuildLogs {
    /// Appends `line` (scrubbed) to `build`'s log, creating the file (anew) on its first line;
    /// a file that cannot be created is reported once on standard error.
    fn write(&self, build: &str, line: &str) {
        let mut files = self
            .files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let f = files.entry(build.to_string()).or_insert_with(|| {
            let path = self.dir.join(format!("{}.log", file_name(build)));
            match std::fs::File::create(&path) {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!(
                        "Warning: cannot write the build log {}: {e}.",
                        path.display()
                    );
                    None
                }
            }
        });
        if let Some(f) = f {
            let _ = f.write_all(scrub(line).as_bytes());
        }
    }
}

/// A build name as a file name: letters, digits, `.`, `-` and `_` kept, the rest `_`, and then
/// a short hash of the name, so that two names never share a file.
fn file_name(build: &str) -> String {
    let safe = kiln_core::operator::file_safe(build);
    if safe == build {
        return safe;
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    build.hash(&mut h);
    format!("{safe}-{:08x}", h.finish() & 0xffff_ffff)
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Writes a build's event (its output) to its `-log-dir` log, if there is one.
pub fn build_event(ev: &kiln_core::Event) {
    use kiln_core::EventKind;
    let Some(logs) = BUILD_LOGS.get() else {
        return;
    };
    if ev.build.is_empty() {
        return;
    }
    let line = match &ev.kind {
        EventKind::Say(t) => format!("==> {t}"),
        EventKind::Message(t) => format!("    {t}"),
        EventKind::Error(t) => format!("==> Error: {t}"),
        EventKind::Output { stream, line } => {
            format!("    [{}] {line}", format!("{stream:?}").to_lowercase())
        }
        EventKind::BuildStarted => "build started".into(),
        EventKind::BuildFinished { error, elapsed, .. } => match error {
            None => format!("build finished in {:.1}s", elapsed.as_secs_f64()),
            Some(e) => format!("build failed after {:.1}s: {e}", elapsed.as_secs_f64()),
        },
        _ => return,
    };
    for l in line.lines() {
        logs.write(&ev.build, &format!("{} {l}\n", now()));
    }
}

/// The name of the build a span is about.
struct BuildName(String);

/// Finds one field's value.
struct Field<'a>(&'a str, Option<String>);

impl tracing::field::Visit for Field<'_> {
    fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
        if f.name() == self.0 {
            self.1 = Some(v.to_string());
        }
    }
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
        if f.name() == self.0 {
            self.1 = Some(format!("{v:?}"));
        }
    }
}

/// An event's message and fields, `message k=v ...`.
#[derive(Default)]
struct Text(String);

impl tracing::field::Visit for Text {
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        if f.name() == "message" {
            self.0.push_str(&format!("{v:?}"));
        } else {
            self.0.push_str(&format!("{}={v:?}", f.name()));
        }
    }
    fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
        // Display, not Debug: an escaped secret would slip past the scrubbing.
        self.record_debug(f, &format_args!("{v}"));
    }
}

/// Routes log events inside a `build` span to that build's log.
struct PerBuild;

impl<S> tracing_subscriber::Layer<S> for PerBuild
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        if attrs.metadata().name() != "build" {
            return;
        }
        let mut f = Field("build", None);
        attrs.record(&mut f);
        if let (Some(name), Some(span)) = (f.1, ctx.span(id)) {
            span.extensions_mut().insert(BuildName(name));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let Some(logs) = BUILD_LOGS.get() else {
            return;
        };
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let Some(build) = scope
            .from_root()
            .find_map(|s| s.extensions().get::<BuildName>().map(|b| b.0.clone()))
        else {
            return;
        };
        let mut text = Text::default();
        event.record(&mut text);
        let m = event.metadata();
        // A multi-line value (a script's command line) continues on indented lines.
        let text = text.0.replace('\n', "\n    | ");
        logs.write(
            &build,
            &format!("{} {} {}: {text}\n", now(), m.level(), m.target()),
        );
    }
}

/// Starts the log when asked for (`KILN_LOG`), and the per-build logs of `-log-dir`; says on
/// standard error when a file cannot be opened.
pub fn init(log_dir: Option<&Path>) {
    let build_logs = log_dir.and_then(|dir| {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!(
                "Warning: cannot create the log directory {}: {e}; no per-build logs.",
                dir.display()
            );
            return None;
        }
        let _ = BUILD_LOGS.set(BuildLogs {
            dir: dir.to_path_buf(),
            files: Mutex::default(),
        });
        let level = level().unwrap_or(LevelFilter::DEBUG);
        Some(
            Targets::new()
                .with_default(LevelFilter::WARN.min(level))
                .with_target("kiln", level),
        )
    });
    let Some(level) = level() else {
        if let Some(filter) = build_logs {
            let _ = tracing_subscriber::registry()
                .with(PerBuild.with_filter(filter))
                .try_init();
        }
        return;
    };
    let path = ["KILN_LOG_PATH", "PACKER_LOG_PATH"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    let out: Box<dyn Write + Send> = match &path {
        Some(p) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("Warning: cannot open the log file {p}: {e}; logging to standard error.");
                Box::new(std::io::stderr())
            }
        },
        None => Box::new(std::io::stderr()),
    };
    let sink: &'static Sink = Box::leak(Box::new(Sink(Mutex::new(out))));
    // Kiln's own crates at the level asked for; dependencies only when they warn.
    let filter = Targets::new()
        .with_default(LevelFilter::WARN.min(level))
        .with_target("kiln", level);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || Line(sink))
                .with_filter(filter),
        )
        .with(build_logs.map(|f| PerBuild.with_filter(f)))
        .try_init();
}
