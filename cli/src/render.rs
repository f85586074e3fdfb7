//! Renders the event stream: Packer's human output (coloured `==> build: message` lines, progress
//! bars on a terminal) or its `-machine-readable` format.

use kiln_core::event::{Event, EventKind};
use kiln_core::OutputStream;
use owo_colors::OwoColorize;
use std::collections::HashMap;
use std::io::Write;
use std::time::UNIX_EPOCH;

/// `println!` that ignores a failed write: a terminal closed under a running build (SIGHUP)
/// must not panic the renderer while the cleanups run.
macro_rules! outln {
    () => {{
        let _ = writeln!(std::io::stdout());
    }};
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Packer's machine-readable CSV.
    pub machine: bool,
    /// `--json`: one JSON object per event.
    pub json: bool,
    /// ANSI colours.
    pub color: bool,
    /// Prefix each line with a timestamp (`-timestamp-ui`).
    pub timestamps: bool,
    /// Show progress bars (stdout is a terminal).
    pub progress: bool,
}

/// Escapes a machine-readable field as Packer does.
#[must_use]
pub fn mr_escape(s: &str) -> String {
    s.replace(',', "%!(PACKER_COMMA)")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

/// A machine-readable line.
#[must_use]
pub fn mr_line(target: &str, kind: &str, data: &[&str]) -> String {
    let ts = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let fields: Vec<String> = data.iter().map(|d| mr_escape(d)).collect();
    format!("{ts},{target},{kind},{}", fields.join(","))
}

/// The renderer's state: build colours and live progress bars.
pub struct Renderer {
    style: Style,
    colors: HashMap<String, usize>,
    bars: HashMap<String, indicatif::ProgressBar>,
}

const PALETTE: usize = 5;

impl Renderer {
    /// A renderer with `style`.
    #[must_use]
    pub fn new(style: Style) -> Self {
        Renderer {
            style,
            colors: HashMap::new(),
            bars: HashMap::new(),
        }
    }

    fn paint(&self, build: &str, text: &str, bold: bool) -> String {
        if !self.style.color {
            return text.to_string();
        }
        let i = self.colors.get(build).copied().unwrap_or(0) % PALETTE;
        let s = match i {
            0 => text.green().to_string(),
            1 => text.cyan().to_string(),
            2 => text.magenta().to_string(),
            3 => text.yellow().to_string(),
            _ => text.blue().to_string(),
        };
        if bold {
            s.bold().to_string()
        } else {
            s
        }
    }

    fn alert(&self, text: &str) -> String {
        if self.style.color {
            text.red().to_string()
        } else {
            text.to_string()
        }
    }

    fn stamp(&self, line: String) -> String {
        if self.style.timestamps && !self.style.machine {
            let now = time::OffsetDateTime::now_utc();
            let fmt =
                time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
            format!("{}: {line}", now.format(&fmt).unwrap_or_default())
        } else {
            line
        }
    }

    /// Announces the builds about to run, as Packer does.
    pub fn start(&mut self, builds: &[String]) {
        if self.style.json {
            self.out(crate::json_events::run_started(builds));
            return;
        }
        for (i, b) in builds.iter().enumerate() {
            self.colors.insert(b.clone(), i);
        }
        for b in builds {
            let line = format!("{b}: output will be in this color.");
            if self.style.machine {
                outln!("{}", mr_line("", "ui", &["say", &line]));
            } else {
                let l = self.paint(b, &line, true);
                outln!("{}", self.stamp(l));
            }
        }
        if !self.style.machine {
            outln!();
        }
    }

    /// Prints a run-wide headline (`==> message`).
    pub fn say(&self, text: &str) {
        if self.style.json {
            self.out(crate::json_events::say(text.trim_start_matches("==> ")));
            return;
        }
        if self.style.machine {
            outln!("{}", mr_line("", "ui", &["say", text]));
        } else {
            let l = if self.style.color {
                text.bold().to_string()
            } else {
                text.to_string()
            };
            outln!("{}", self.stamp(l));
        }
    }

    fn out(&self, line: String) {
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "{line}");
    }

    /// Renders one event.
    pub fn event(&mut self, ev: &Event) {
        if self.style.json {
            self.out(crate::json_events::event(ev));
            return;
        }
        let b = ev.build.as_str();
        let m = self.style.machine;
        match &ev.kind {
            EventKind::BuildStarted | EventKind::Document { .. } => {}
            EventKind::Say(t) => {
                for line in t.lines() {
                    let text = format!("==> {b}: {line}");
                    if m {
                        self.out(mr_line("", "ui", &["say", &text]));
                    } else {
                        self.out(self.stamp(self.paint(b, &text, true)));
                    }
                }
            }
            EventKind::Message(t)
            | EventKind::Output {
                line: t,
                stream: OutputStream::Stdout,
            } => {
                for line in t.split('\n') {
                    let text = format!("    {b}: {line}");
                    if m {
                        self.out(mr_line("", "ui", &["message", &text]));
                    } else {
                        self.out(self.stamp(self.paint(b, &text, false)));
                    }
                }
            }
            EventKind::Output {
                line,
                stream: OutputStream::Stderr,
            } => {
                let text = format!("    {b}: {line}");
                if m {
                    self.out(mr_line("", "ui", &["message", &text]));
                } else {
                    self.out(self.stamp(self.alert(&text)));
                }
            }
            EventKind::Error(t) => {
                let text = format!("==> {b}: {t}");
                if m {
                    self.out(mr_line("", "ui", &["error", &text]));
                } else {
                    self.out(self.stamp(self.alert(&text)));
                }
            }
            EventKind::Progress { label, done, total } => {
                if !self.style.progress || m {
                    return;
                }
                let bar = self.bars.entry(label.clone()).or_insert_with(|| {
                    let pb = indicatif::ProgressBar::new(total.unwrap_or(0));
                    pb.set_style(
                        indicatif::ProgressStyle::with_template(
                            "    {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                        )
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    pb.set_message(label.clone());
                    pb
                });
                bar.set_position(*done);
            }
            EventKind::ProgressDone { label } => {
                if let Some(bar) = self.bars.remove(label) {
                    bar.finish_and_clear();
                }
            }
            EventKind::BuildFinished {
                error,
                elapsed,
                artifacts,
            } => {
                let took = kiln_core::duration::human(*elapsed);
                match error {
                    None => {
                        let text = format!("Build '{b}' finished after {took}.");
                        if m {
                            self.out(mr_line("", "ui", &["say", &text]));
                            self.out(mr_line(
                                b,
                                "artifact-count",
                                &[&artifacts.len().to_string()],
                            ));
                            for (i, a) in artifacts.iter().enumerate() {
                                let i = i.to_string();
                                self.out(mr_line(
                                    b,
                                    "artifact",
                                    &[&i, "builder-id", &a.builder_id],
                                ));
                                self.out(mr_line(b, "artifact", &[&i, "id", &a.id]));
                                self.out(mr_line(b, "artifact", &[&i, "string", &a.string]));
                                self.out(mr_line(
                                    b,
                                    "artifact",
                                    &[&i, "files-count", &a.files.len().to_string()],
                                ));
                                for (j, f) in a.files.iter().enumerate() {
                                    self.out(mr_line(
                                        b,
                                        "artifact",
                                        &[&i, "file", &j.to_string(), f],
                                    ));
                                }
                                self.out(mr_line(b, "artifact", &[&i, "end"]));
                            }
                        } else {
                            self.out(self.stamp(self.paint(b, &text, true)));
                        }
                    }
                    Some(e) => {
                        let text = format!("Build '{b}' errored after {took}: {e}");
                        if m {
                            self.out(mr_line("", "ui", &["error", &text]));
                        } else {
                            self.out(self.stamp(self.alert(&text)));
                        }
                    }
                }
            }
        }
    }

    /// Packer's closing summary. Returns true when every build succeeded.
    pub fn summary(
        &self,
        results: &[(String, Result<Vec<kiln_core::event::ArtifactInfo>, String>)],
        waited: std::time::Duration,
    ) -> bool {
        if self.style.json {
            self.out(crate::json_events::run_finished(results, waited));
            return results.iter().all(|(_, r)| r.is_ok());
        }
        let out = |s: String| {
            if self.style.machine {
                outln!("{}", mr_line("", "ui", &["say", &s]));
            } else {
                outln!(
                    "{}",
                    self.stamp(if self.style.color {
                        s.bold().to_string()
                    } else {
                        s
                    })
                );
            }
        };
        if !self.style.machine {
            outln!();
        }
        out(format!(
            "==> Wait completed after {}",
            kiln_core::duration::human(waited)
        ));
        let errors: Vec<_> = results
            .iter()
            .filter_map(|(n, r)| r.as_ref().err().map(|e| (n, e)))
            .collect();
        if !errors.is_empty() {
            if self.style.machine {
                outln!(
                    "{}",
                    mr_line("", "error-count", &[&errors.len().to_string()])
                );
                for (n, e) in &errors {
                    outln!("{}", mr_line(n, "error", &[e]));
                }
            } else {
                outln!();
                outln!(
                    "{}",
                    self.alert("==> Some builds didn't complete successfully and had errors:")
                );
                for (n, e) in &errors {
                    outln!("{}", self.alert(&format!("--> {n}: {e}")));
                }
            }
        }
        let artifacts: Vec<_> = results
            .iter()
            .filter_map(|(n, r)| r.as_ref().ok().map(|a| (n, a)))
            .filter(|(_, a)| !a.is_empty())
            .collect();
        if !self.style.machine {
            outln!();
        }
        if artifacts.is_empty() {
            out("==> Builds finished but no artifacts were created.".into());
        } else {
            out("==> Builds finished. The artifacts of successful builds are:".into());
            for (n, list) in artifacts {
                for a in list {
                    let line = format!("--> {n}: {}", a.string);
                    if self.style.machine {
                        outln!("{}", mr_line("", "ui", &["say", &line]));
                    } else {
                        outln!("{}", self.stamp(self.paint(n, &line, true)));
                    }
                }
            }
        }
        errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_readable_escaping() {
        assert_eq!(mr_escape("a,b\nc"), "a%!(PACKER_COMMA)b\\nc");
        assert!(mr_line("null.a", "artifact-count", &["1"]).ends_with(",null.a,artifact-count,1"));
    }
}
