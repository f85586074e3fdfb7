//! The typed event stream. Library code reports everything it does here; renderers (the CLI's
//! human and machine-readable output, or an embedding program) subscribe.
//!
//! Every text that passes through [`Events`] is scrubbed of registered secrets first, so that a
//! sensitive variable or a password can never reach a log, whatever a plugin prints.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A build started.
    BuildStarted,
    /// A headline step message (`==> build: message`).
    Say(String),
    /// A detail message (`    build: message`).
    Message(String),
    /// A line printed by a remote or local command.
    Output {
        /// Which stream the line came from.
        stream: crate::OutputStream,
        /// The line, without its newline.
        line: String,
    },
    /// An error message that does not end the build by itself.
    Error(String),
    /// Progress of a long transfer or wait (bytes or steps done of total).
    Progress {
        /// What is in progress, e.g. the file name.
        label: String,
        /// Done so far.
        done: u64,
        /// Total, when known.
        total: Option<u64>,
    },
    /// A transfer or wait ended.
    ProgressDone {
        /// The label given in [`EventKind::Progress`].
        label: String,
    },
    /// A file the build wrote about its image (an SBOM, a test report), for the catalog to
    /// keep with the version it records.
    Document {
        /// What it is: `sbom-cyclonedx`, `sbom-spdx`, `goss-results`.
        kind: String,
        /// Where it came from (the file written, or the spec run).
        name: String,
        /// Its text.
        content: String,
    },
    /// A build ended with these artifacts (their `string()`s, ids and files).
    BuildFinished {
        /// `None` on success, the error text otherwise.
        error: Option<String>,
        /// How long the build took.
        elapsed: Duration,
        /// The artifacts kept by the build.
        artifacts: Vec<ArtifactInfo>,
    },
}

/// What a renderer needs to know about an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactInfo {
    /// The builder or post-processor id that made it.
    pub builder_id: String,
    /// Its id (an image path, an AMI list, ...).
    pub id: String,
    /// Its human description.
    pub string: String,
    /// Its files.
    pub files: Vec<String>,
    /// What its builder asks the catalog to keep (`state("catalog")`), or null.
    pub catalog: serde_json::Value,
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The build it belongs to (`type.name`), empty for run-wide events.
    pub build: String,
    /// When it happened.
    pub time: SystemTime,
    /// What happened.
    pub kind: EventKind,
}

/// Values that must never appear in output.
#[derive(Debug, Default)]
pub struct Secrets(RwLock<Vec<String>>);

impl Secrets {
    /// Registers a secret; empty and trivially short strings are ignored.
    pub fn add(&self, secret: &str) {
        if secret.trim().len() < 2 {
            return;
        }
        let mut v = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !v.iter().any(|s| s == secret) {
            v.push(secret.to_string());
            // Longest first, so that a secret containing another is scrubbed whole.
            v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Replaces every registered secret in `text` with `<sensitive>`.
    #[must_use]
    pub fn scrub(&self, text: &str) -> String {
        let v = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = text.to_string();
        for s in v.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "<sensitive>");
            }
            // Multi-line secrets (private keys) may be printed one line at a time.
            for line in s.lines().filter(|l| l.trim().len() >= 16) {
                if out.contains(line) {
                    out = out.replace(line, "<sensitive>");
                }
            }
        }
        out
    }
}

/// The sending side of the event stream, cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    tx: mpsc::UnboundedSender<Event>,
    secrets: Arc<Secrets>,
}

impl Events {
    /// A new stream and its receiver.
    #[must_use]
    pub fn channel() -> (Events, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Events {
                tx,
                secrets: Arc::new(Secrets::default()),
            },
            rx,
        )
    }

    /// The secrets this stream scrubs.
    #[must_use]
    pub fn secrets(&self) -> &Arc<Secrets> {
        &self.secrets
    }

    /// Sends an event, scrubbing secrets from its text. A closed receiver is not an error.
    pub fn emit(&self, build: &str, kind: EventKind) {
        let s = |t: String| self.secrets.scrub(&t);
        let kind = match kind {
            EventKind::Say(t) => EventKind::Say(s(t)),
            EventKind::Message(t) => EventKind::Message(s(t)),
            EventKind::Error(t) => EventKind::Error(s(t)),
            EventKind::Output { stream, line } => EventKind::Output {
                stream,
                line: s(line),
            },
            EventKind::BuildFinished {
                error,
                elapsed,
                artifacts,
            } => EventKind::BuildFinished {
                error: error.map(s),
                elapsed,
                artifacts,
            },
            other => other,
        };
        let _ = self.tx.send(Event {
            build: build.to_string(),
            time: SystemTime::now(),
            kind,
        });
    }

    /// A handle that emits for one build.
    #[must_use]
    pub fn ui(&self, build: &str) -> Ui {
        Ui {
            events: self.clone(),
            build: Arc::from(build),
        }
    }
}

/// The per-build face of [`Events`] that plugins use, like Packer's `packersdk.Ui`.
#[derive(Debug, Clone)]
pub struct Ui {
    events: Events,
    build: Arc<str>,
}

impl Ui {
    /// The build this handle reports for.
    #[must_use]
    pub fn build(&self) -> &str {
        &self.build
    }

    /// A headline message.
    pub fn say(&self, text: impl Into<String>) {
        self.events.emit(&self.build, EventKind::Say(text.into()));
    }

    /// Hands the catalog a document about the image (see [`EventKind::Document`]).
    pub fn document(&self, kind: &str, name: String, content: String) {
        self.events.emit(
            &self.build,
            EventKind::Document {
                kind: kind.to_string(),
                name,
                content,
            },
        );
    }

    /// A detail message.
    pub fn message(&self, text: impl Into<String>) {
        self.events
            .emit(&self.build, EventKind::Message(text.into()));
    }

    /// An error message.
    pub fn error(&self, text: impl Into<String>) {
        self.events.emit(&self.build, EventKind::Error(text.into()));
    }

    /// One line of command output.
    pub fn output(&self, stream: crate::OutputStream, line: impl Into<String>) {
        self.events.emit(
            &self.build,
            EventKind::Output {
                stream,
                line: line.into(),
            },
        );
    }

    /// Progress of a transfer.
    pub fn progress(&self, label: &str, done: u64, total: Option<u64>) {
        self.events.emit(
            &self.build,
            EventKind::Progress {
                label: label.into(),
                done,
                total,
            },
        );
    }

    /// The end of a transfer.
    pub fn progress_done(&self, label: &str) {
        self.events.emit(
            &self.build,
            EventKind::ProgressDone {
                label: label.into(),
            },
        );
    }

    /// Registers a secret to scrub from all output.
    pub fn add_secret(&self, secret: &str) {
        self.events.secrets.add(secret);
    }

    /// The underlying stream.
    #[must_use]
    pub fn events(&self) -> &Events {
        &self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_from_every_text() {
        let (events, mut rx) = Events::channel();
        events.secrets().add("hunter2-secret");
        let ui = events.ui("null.a");
        ui.say("password is hunter2-secret!");
        ui.output(crate::OutputStream::Stdout, "hunter2-secret");
        let a = rx.try_recv().unwrap();
        assert_eq!(a.kind, EventKind::Say("password is <sensitive>!".into()));
        let b = rx.try_recv().unwrap();
        assert!(matches!(b.kind, EventKind::Output { line, .. } if line == "<sensitive>"));
    }
}
