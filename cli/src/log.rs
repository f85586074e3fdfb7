//! The debug log: `KILN_LOG` (or Packer's `PACKER_LOG`) set to a level (`trace`, `debug`,
//! `info`, `warn`, `error`) or to any other non-empty value but `0` (meaning `debug`) turns on
//! Kiln's `tracing` events (steps and provisioners with durations, every SSH command) on
//! standard error, or appended to `KILN_LOG_PATH` / `PACKER_LOG_PATH`. Every line is scrubbed of
//! the run's secrets before it is written, as every other output is.

use kiln_core::event::Secrets;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

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
        let text = String::from_utf8_lossy(buf);
        let mut text = crate::SECRETS.scrub(&text);
        if let Some(s) = RUN_SECRETS.get() {
            text = s.scrub(&text);
        }
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

/// Starts the log when asked for; says on standard error when its file cannot be opened.
pub fn init() {
    let Some(level) = level() else {
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
        .try_init();
}
