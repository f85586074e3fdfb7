//! The person watching a build, as the engine sees them: `-on-error=ask` asks them what to do
//! about a failed step, `-debug` and the `breakpoint` provisioner wait for them to go on, and a
//! machine kept after a failure is described to them with what it takes to log in.
//!
//! The engine never reads a terminal itself: the program that embeds it attaches an
//! [`Operator`] (the `kiln` command's reads its standard input); without one, builds run
//! unattended: pauses end at once and questions get no answer, so a failed step is cleaned up.

use crate::event::Ui;
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Someone who can answer. Implementations serialise their prompts: parallel builds may ask at
/// once.
#[async_trait]
pub trait Operator: Send + Sync + std::fmt::Debug {
    /// Shows `message` (through `ui`) and returns when the operator presses Enter or their
    /// input ends.
    async fn pause(&self, ui: &Ui, message: &str);

    /// Shows `question` and returns the line answered, or `None` when no one can answer (no
    /// terminal, input ended).
    async fn ask(&self, ui: &Ui, question: &str) -> Option<String>;
}

/// No one: pauses end at once (saying so), questions get no answer.
#[derive(Debug, Default)]
pub struct Unattended;

#[async_trait]
impl Operator for Unattended {
    async fn pause(&self, ui: &Ui, message: &str) {
        ui.say(format!("{message} (No operator is attached: going on.)"));
    }
    async fn ask(&self, _ui: &Ui, _question: &str) -> Option<String> {
        None
    }
}

/// How to reach the machine a build is provisioning, for an operator who wants to look at it
/// after a failure.
#[derive(Clone, PartialEq, Eq)]
pub struct Access {
    /// The SSH host.
    pub host: String,
    /// The SSH port.
    pub port: String,
    /// The SSH user.
    pub user: String,
    /// The private key the build logs in with (secret: written to a file only on request),
    /// when the operator has no file of it.
    pub private_key: Option<String>,
    /// The template's own key file (`ssh_private_key_file`), named instead of a copy.
    pub key_file: Option<String>,
    /// Whether the build logs in with a password (never shown).
    pub password: bool,
    /// A command that enters the machine, where that is not SSH (a container:
    /// `docker exec -it ID /bin/sh`).
    pub command: Option<String>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "<sensitive>"),
            )
            .field("key_file", &self.key_file)
            .field("password", &self.password)
            .finish()
    }
}

/// What one build shares with its operator: the operator itself, how to reach the machine
/// while it is being provisioned, and whether the operator chose to keep everything.
#[derive(Debug, Clone)]
pub struct OperatorLink {
    operator: Arc<dyn Operator>,
    access: Arc<Mutex<Option<Access>>>,
    kept: Arc<AtomicBool>,
    answer: Arc<Mutex<Option<FailureChoice>>>,
}

impl Default for OperatorLink {
    fn default() -> Self {
        OperatorLink::new(Arc::new(Unattended))
    }
}

impl OperatorLink {
    /// A link to `operator` for one build.
    #[must_use]
    pub fn new(operator: Arc<dyn Operator>) -> Self {
        OperatorLink {
            operator,
            access: Arc::default(),
            kept: Arc::default(),
            answer: Arc::default(),
        }
    }

    /// See [`Operator::pause`].
    pub async fn pause(&self, ui: &Ui, message: &str) {
        self.operator.pause(ui, message).await;
    }

    /// See [`Operator::ask`].
    pub async fn ask(&self, ui: &Ui, question: &str) -> Option<String> {
        self.operator.ask(ui, question).await
    }

    /// Records (or, with `None`, forgets) how to reach the machine.
    pub fn set_access(&self, access: Option<Access>) {
        *self
            .access
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = access;
    }

    /// How to reach the machine, while it is being provisioned.
    #[must_use]
    pub fn access(&self) -> Option<Access> {
        self.access
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Marks the build's resources as kept for debugging (the operator chose to abort).
    pub fn keep(&self) {
        self.kept.store(true, Ordering::SeqCst);
    }

    /// Whether the operator chose to keep the build's resources.
    #[must_use]
    pub fn kept(&self) -> bool {
        self.kept.load(Ordering::SeqCst)
    }

    /// Records that the failure now on its way up was already answered (by the provisioning
    /// hook, which asks about a failed provisioner itself), so that the step runner does not
    /// ask again.
    pub fn answered(&self, choice: FailureChoice) {
        *self
            .answer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(choice);
    }

    /// Takes the answer recorded by [`OperatorLink::answered`].
    #[must_use]
    pub fn take_answer(&self) -> Option<FailureChoice> {
        self.answer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Asks what to do about a failure of `what` (a step or provisioner): shows how to reach
    /// the machine if it is being provisioned, asks [`FAILURE_QUESTION`] until the answer
    /// makes sense, and cleans up when no one answers. The key file written for the operator
    /// stays only if they abort (it goes if this is cancelled, too).
    pub async fn ask_about_failure(&self, ui: &Ui, what: &str) -> FailureChoice {
        ui.say(format!("{what} failed"));
        let key_file = self.show_access(ui);
        let choice = loop {
            let Some(line) = self.ask(ui, FAILURE_QUESTION).await else {
                ui.say("There is no one to answer (no terminal): cleaning up.");
                break FailureChoice::Cleanup;
            };
            match parse_failure_choice(&line) {
                Some(c) => break c,
                None => ui.say(format!("Incorrect input: {:?}", line.trim_end())),
            }
        };
        if choice == FailureChoice::Abort {
            if let Some(k) = key_file {
                k.keep();
            }
        }
        choice
    }

    /// Tells the operator how to log in to the machine being provisioned, if it is, writing
    /// its private key to [`key_file_name`] when it logs in with one; the file is removed when
    /// the returned guard is dropped, unless it is kept.
    pub fn show_access(&self, ui: &Ui) -> Option<KeyFile> {
        let a = self.access()?;
        let mut key_file = None;
        if let Some(k) = &a.private_key {
            match write_key_file(ui.build(), k) {
                Ok(f) => key_file = Some(KeyFile(Some(f))),
                Err(e) => ui.error(format!(
                    "Cannot write the SSH key to {}: {e}",
                    key_file_name(ui.build())
                )),
            }
        }
        ui.say(describe_access(&a, ui.build()));
        key_file
    }
}

/// A key file written for the operator: removed when dropped, unless kept.
#[derive(Debug)]
pub struct KeyFile(Option<String>);

impl KeyFile {
    /// Leaves the file for the operator (the machine is kept).
    pub fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// The line that tells an operator how to log in to a kept machine. A private key is never
/// shown: it is named by the file [`write_key_file`] writes.
#[must_use]
pub fn describe_access(a: &Access, build: &str) -> String {
    if let Some(c) = &a.command {
        return format!("The container is still running; enter it with: {c}");
    }
    let key = match (&a.key_file, &a.private_key) {
        (Some(f), _) => format!(" -i {f}"),
        (None, Some(_)) => format!(" -i {}", key_file_name(build)),
        (None, None) => String::new(),
    };
    let password = if a.password {
        " (with the template's ssh_password)"
    } else {
        ""
    };
    format!(
        "The machine is still running; log in with: ssh -p {}{key} {}@{}{password}",
        a.port, a.user, a.host
    )
}

/// The file a build's SSH private key is written to for debugging: `<build>.pem` in the current
/// directory, as Packer's `-debug` does (characters other than letters, digits, `.`, `-` and
/// `_` become `_`).
#[must_use]
pub fn key_file_name(build: &str) -> String {
    format!("{}.pem", file_safe(build))
}

/// `name` as a file name: letters, digits, `.`, `-` and `_` kept, every other character `_`.
#[must_use]
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes `key` to [`key_file_name`] (mode 0600, replacing an older one).
///
/// # Errors
/// When the file cannot be written.
pub fn write_key_file(build: &str, key: &str) -> std::io::Result<String> {
    use std::io::Write;
    let name = key_file_name(build);
    let _ = std::fs::remove_file(&name);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&name)?;
    f.write_all(key.as_bytes())?;
    if !key.ends_with('\n') {
        f.write_all(b"\n")?;
    }
    Ok(name)
}

/// What the operator chose after a step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureChoice {
    /// Run the cleanups and fail the build.
    Cleanup,
    /// Fail the build and leave everything in place.
    Abort,
    /// Run the step again.
    Retry,
}

/// The question `-on-error=ask` asks (Packer's wording, so that muscle memory works).
pub const FAILURE_QUESTION: &str = "[c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)?";

/// Reads an answer to [`FAILURE_QUESTION`]: its first letter, case-insensitively; an empty
/// line means clean up. `None` for anything else.
#[must_use]
pub fn parse_failure_choice(line: &str) -> Option<FailureChoice> {
    match line.trim().chars().next().map(|c| c.to_ascii_lowercase()) {
        None | Some('c') => Some(FailureChoice::Cleanup),
        Some('a') => Some(FailureChoice::Abort),
        Some('r') => Some(FailureChoice::Retry),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_by_their_first_letter() {
        assert_eq!(parse_failure_choice(""), Some(FailureChoice::Cleanup));
        assert_eq!(parse_failure_choice("c\n"), Some(FailureChoice::Cleanup));
        assert_eq!(parse_failure_choice(" Abort"), Some(FailureChoice::Abort));
        assert_eq!(parse_failure_choice("r"), Some(FailureChoice::Retry));
        assert_eq!(
            parse_failure_choice("retry please"),
            Some(FailureChoice::Retry)
        );
        assert_eq!(parse_failure_choice("x"), None);
    }

    #[test]
    fn a_private_key_is_not_in_debug_output() {
        let a = Access {
            host: "h".into(),
            port: "22".into(),
            user: "u".into(),
            private_key: Some("-----BEGIN KEY-----".into()),
            key_file: None,
            password: false,
            command: None,
        };
        let s = format!("{a:?}");
        assert!(!s.contains("BEGIN"), "{s}");
        assert!(s.contains("<sensitive>"), "{s}");
        assert_eq!(
            describe_access(&a, "qemu.vm"),
            "The machine is still running; log in with: ssh -p 22 -i qemu.vm.pem u@h"
        );
        // The template's own key file is named, not copied.
        let own = Access {
            private_key: None,
            key_file: Some("/home/me/.ssh/id_ed25519".into()),
            ..a
        };
        assert_eq!(
            describe_access(&own, "qemu.vm"),
            "The machine is still running; log in with: ssh -p 22 -i /home/me/.ssh/id_ed25519 u@h"
        );
    }
}
