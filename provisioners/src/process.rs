//! Local processes: one runner for every command Kiln starts on its own machine (`shell-local`,
//! `ansible-playbook`, `ansible-galaxy`). The command runs in a process group of its own, its
//! output lines become events as they come, and cancelling the build (or dropping the future, as
//! a provisioner timeout does) stops the whole group: a script's children and Ansible's forked
//! workers too, even when only Kiln's own PID got the signal.

use kiln_core::{BuildContext, OutputStream};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Script files are written, and local commands started, under this lock. A fork while a
/// script file is open for writing (another build starting its command) hands the child a
/// writable descriptor of it until the child execs, and executing the script in that moment
/// fails with "Text file busy" (ETXTBSY): seen with two parallel builds' shell-local
/// post-processors. Writers take it for writing, [`run`] for reading while it spawns.
pub(crate) static SCRIPT_FILES: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Why a command did not give an exit status.
#[derive(Debug)]
pub(crate) enum RunError {
    /// It could not be started.
    Spawn(std::io::Error),
    /// Waiting for it failed.
    Wait(std::io::Error),
    /// The build was cancelled; the command's process group was killed.
    Cancelled,
}

/// Runs `program args` with `env` added and no standard input, sending each line it writes to
/// `on_line` and then as an output event; returns its exit code (-1 when a signal ended it).
pub(crate) async fn run(
    ctx: &BuildContext,
    program: &str,
    args: &[String],
    env: &[(String, String)],
    on_line: &(dyn Fn(&str) + Sync),
) -> Result<i32, RunError> {
    let spawned = {
        // `spawn` returns once the child has exec'd, closing what it inherited.
        let _no_script_open = SCRIPT_FILES
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tokio::process::Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
    };
    let mut child = spawned.map_err(RunError::Spawn)?;
    // Recorded as it starts (its PID is known only now); a journal that cannot be written
    // leaves it unrecorded rather than stopping the build halfway through a command.
    let mut group = child.id().map(|pid| Group {
        pgid: pid,
        entry: ctx
            .journal
            .record(kiln_core::journal::Resource::process_group(
                pid,
                "local command",
            ))
            .ok(),
        kill: true,
    });
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let pump = |pipe: Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>,
                stream: OutputStream| {
        let ui = ctx.ui.clone();
        async move {
            if let Some(p) = pipe {
                let mut lines = BufReader::new(p).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    on_line(&line);
                    ui.output(stream, line);
                }
            }
        }
    };
    let out = pump(out.map(|o| Box::new(o) as _), OutputStream::Stdout);
    let err = pump(err.map(|e| Box::new(e) as _), OutputStream::Stderr);
    let status = tokio::select! {
        (s, (), ()) = async { tokio::join!(child.wait(), out, err) } => s.map_err(RunError::Wait)?,
        () = ctx.cancel.cancelled() => {
            drop(group.take());
            let _ = child.kill().await;
            return Err(RunError::Cancelled);
        }
    };
    // Ended, reaped, and its output closed: what is left of its group (if anything) holds the
    // pipes no more; its number may be reused once the group is empty, so it is not killed.
    if let Some(g) = &mut group {
        g.kill = false;
    }
    Ok(status.code().unwrap_or(-1))
}

/// A command's process group and its journal entry: killed when dropped (a cancellation, a
/// timeout dropping the future) unless the command ended; marked done either way.
struct Group {
    pgid: u32,
    entry: Option<kiln_core::journal::Entry>,
    kill: bool,
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.kill {
            if let Ok(pid) = i32::try_from(self.pgid) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        if let Some(e) = self.entry.take() {
            e.done();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    fn ctx() -> (
        BuildContext,
        tokio::sync::mpsc::UnboundedReceiver<kiln_core::Event>,
    ) {
        let (events, rx) = kiln_core::Events::channel();
        let ctx = BuildContext {
            info: std::sync::Arc::default(),
            ui: events.ui("null.t"),
            cancel: tokio_util::sync::CancellationToken::new(),
            journal: Default::default(),
            operator: Default::default(),
        };
        (ctx, rx)
    }

    /// Running or sleeping; a zombie waiting for its reaper counts as gone.
    fn alive(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
            .unwrap_or(false)
    }

    #[tokio::test]
    async fn lines_reach_the_observer_and_the_exit_code_comes_back() {
        let (ctx, _rx) = ctx();
        let seen = Mutex::new(Vec::new());
        let code = run(
            &ctx,
            "/bin/sh",
            &["-c".into(), "echo one; echo two >&2; exit 3".into()],
            &[],
            &|l| seen.lock().unwrap().push(l.to_string()),
        )
        .await
        .unwrap();
        assert_eq!(code, 3);
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, ["one", "two"]);
    }

    /// A cancelled command takes its children with it: the grandchild a script started in
    /// the background is gone too, not only the shell.
    #[tokio::test]
    async fn cancelling_kills_the_whole_group() {
        let (ctx, _rx) = ctx();
        let pid_file = tempfile::NamedTempFile::new().unwrap();
        let script = format!("sleep 300 & echo $! > {}; wait", pid_file.path().display());
        let cancel = ctx.cancel.clone();
        let path = pid_file.path().to_path_buf();
        tokio::spawn(async move {
            while std::fs::read_to_string(&path)
                .unwrap_or_default()
                .trim()
                .is_empty()
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            cancel.cancel();
        });
        let r = tokio::time::timeout(
            Duration::from_secs(20),
            run(&ctx, "/bin/sh", &["-c".into(), script], &[], &|_| {}),
        )
        .await
        .expect("the cancel stops the command");
        assert!(matches!(r, Err(RunError::Cancelled)), "{r:?}");
        let pid: i32 = std::fs::read_to_string(pid_file.path())
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Killed, and reaped by init soon after.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while alive(pid) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            !alive(pid),
            "the background sleep {pid} survived the cancel"
        );
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error() {
        let (ctx, _rx) = ctx();
        let r = run(&ctx, "/nonexistent/prog", &[], &[], &|_| {}).await;
        assert!(
            matches!(&r, Err(RunError::Spawn(e)) if e.kind() == std::io::ErrorKind::NotFound),
            "{r:?}"
        );
    }
}
