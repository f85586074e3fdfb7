//! Running Ansible's commands on the machine running Kiln: the version check, and a command
//! whose output streams into the build's events line by line.

use crate::process::RunError;
use kiln_core::{BuildContext, BuildError};
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Mutex;

/// An Ansible version, as `ansible-playbook --version` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    /// `2.14.18`.
    pub text: String,
    /// `2`.
    pub major: u64,
}

/// The oldest Ansible Kiln drives (its inventory variables and `--ssh-extra-args`).
const OLDEST: u64 = 2;

/// What to install, said with every "Ansible is missing" error.
pub(crate) const INSTALL: &str = "install Ansible (Debian/Ubuntu: `apt-get install ansible-core`; \
     elsewhere: `pip install ansible-core`) or set `command` to its path";

/// Checks that `command` runs and is Ansible 2 or newer. Remembered per command for the
/// process, since every build's provisioners are prepared more than once.
pub(crate) fn version(command: &str) -> Result<Version, String> {
    static SEEN: Mutex<Option<HashMap<String, Result<Version, String>>>> = Mutex::new(None);
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let seen = seen.get_or_insert_with(HashMap::new);
    if let Some(r) = seen.get(command) {
        return r.clone();
    }
    let r = check(command);
    seen.insert(command.to_string(), r.clone());
    r
}

fn check(command: &str) -> Result<Version, String> {
    let out = std::process::Command::new(command)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("Error running \"{command} --version\": {e}; {INSTALL}"))?;
    if !out.status.success() {
        return Err(format!(
            "Error running \"{command} --version\": {}: {}; {INSTALL}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v = parse_version(&text)
        .ok_or_else(|| format!("Could not find {command} version in output:\n{text}"))?;
    if v.major < OLDEST {
        return Err(format!(
            "{command} is Ansible {}, too old: Kiln needs Ansible {OLDEST}.0 or newer; {INSTALL}",
            v.text
        ));
    }
    Ok(v)
}

/// The first `<word> <digits>.<digits>...` in the output, as Packer reads it:
/// `ansible-playbook [core 2.14.18]` and `ansible-playbook 2.9.6` both work.
pub(crate) fn parse_version(text: &str) -> Option<Version> {
    let b = text.as_bytes();
    for i in 1..b.len() {
        if b[i - 1] != b' ' || i < 2 || !(b[i - 2].is_ascii_alphanumeric() || b[i - 2] == b'_') {
            continue;
        }
        let rest = &text[i..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let v = rest[..end].trim_end_matches('.');
        let mut parts = v.split('.');
        let (Some(major), Some(minor)) = (parts.next(), parts.next()) else {
            continue;
        };
        if major.is_empty() || minor.is_empty() {
            continue;
        }
        if let Ok(major) = major.parse() {
            return Some(Version {
                text: v.to_string(),
                major,
            });
        }
    }
    None
}

/// How a local command ended, with the lines that explain a failure.
pub(crate) struct Finished {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Ansible's failure lines (`fatal:`, `failed:`, `ERROR!`) and its `PLAY RECAP`.
    pub summary: Vec<String>,
}

/// Runs `program args` with `env` added, streaming each output line as an event; stops it when
/// the build is cancelled or the provisioner's future is dropped (a timeout).
pub(crate) async fn run(
    ctx: &BuildContext,
    program: &str,
    args: &[String],
    env: &[(String, String)],
) -> Result<Finished, String> {
    let summary = Mutex::new(Summary::default());
    let see = |line: &str| {
        summary
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .see(line);
    };
    let code = crate::process::run(ctx, program, args, env, &see)
        .await
        .map_err(|e| match e {
            RunError::Spawn(e) => format!("running {program}: {e}; {INSTALL}"),
            RunError::Wait(e) => e.to_string(),
            RunError::Cancelled => "cancelled".into(),
        })?;
    let summary = summary
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(Finished {
        code,
        summary: summary.lines(),
    })
}

/// Collects the lines that say why a play failed.
#[derive(Default)]
struct Summary {
    failures: Vec<String>,
    recap: Vec<String>,
    in_recap: bool,
}

impl Summary {
    fn see(&mut self, line: &str) {
        let t = line.trim_start();
        if t.starts_with("PLAY RECAP") {
            self.in_recap = true;
            self.recap.clear();
            self.recap.push(line.to_string());
        } else if self.in_recap {
            if t.is_empty() {
                self.in_recap = false;
            } else {
                self.recap.push(line.to_string());
            }
        } else if (t.starts_with("fatal:") || t.starts_with("failed:") || t.starts_with("ERROR!"))
            && self.failures.len() < 20
        {
            self.failures.push(line.to_string());
        }
    }

    fn lines(self) -> Vec<String> {
        self.failures.into_iter().chain(self.recap).collect()
    }
}

/// The error for a command that ended badly: its exit code, then Ansible's own account.
pub(crate) fn failed(kind: &str, what: &str, f: &Finished) -> BuildError {
    let mut message = format!(
        "Error executing {what}: Non-zero exit status: exit status {}",
        f.code
    );
    for l in &f.summary {
        message.push('\n');
        message.push_str(l);
    }
    BuildError::Provisioner {
        kind: kind.into(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_as_packer_reads_them() {
        let v = parse_version("ansible-playbook [core 2.14.18]\n  config file = None\n").unwrap();
        assert_eq!((v.text.as_str(), v.major), ("2.14.18", 2));
        let v = parse_version("ansible-playbook 2.9.6\n").unwrap();
        assert_eq!((v.text.as_str(), v.major), ("2.9.6", 2));
        let v = parse_version("ansible 1.9.4\n").unwrap();
        assert_eq!(v.major, 1);
        assert_eq!(parse_version("no version here 7\n"), None);
    }

    #[test]
    fn the_summary_keeps_failures_and_the_recap() {
        let mut s = Summary::default();
        for l in [
            "TASK [x] ****",
            "ok: [default]",
            "fatal: [default]: FAILED! => {\"msg\": \"boom\"}",
            "",
            "PLAY RECAP ****",
            "default : ok=1 failed=1",
            "",
            "trailing",
        ] {
            s.see(l);
        }
        assert_eq!(
            s.lines(),
            [
                "fatal: [default]: FAILED! => {\"msg\": \"boom\"}",
                "PLAY RECAP ****",
                "default : ok=1 failed=1"
            ]
        );
    }
}
