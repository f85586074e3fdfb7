//! The cleanup journal as the CLI uses it: where journals live, `kiln cleanup`, the warning a
//! build gives about an earlier run's leftovers, and the signals that cancel a build (the first
//! one cleans up; the second stops waiting, says what is left and exits).

use kiln_core::journal::{self, Journal, Resource};
use std::path::PathBuf;

/// Where run journals live: `KILN_STATE_DIR/journal`, else `$XDG_STATE_HOME/kiln/journal`, else
/// `~/.local/state/kiln/journal`.
pub fn journal_dir() -> PathBuf {
    std::env::var_os("KILN_STATE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_STATE_HOME")
                .filter(|v| !v.is_empty())
                .map(|d| PathBuf::from(d).join("kiln"))
        })
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/state/kiln")
        })
        .join("journal")
}

/// This run's journal; without one (an unwritable state directory) the build still runs, with
/// a warning, as Packer would.
pub fn open(run: &str) -> Journal {
    let dir = journal_dir();
    match Journal::create(&dir, run) {
        Ok(j) => j,
        Err(e) => {
            eprintln!(
                "Warning: no cleanup journal ({}: {e}): what a killed run leaves behind cannot be found by `kiln cleanup`.",
                dir.display()
            );
            Journal::default()
        }
    }
}

/// Warns about what earlier runs left (they were killed, or their cleanup failed).
pub fn warn_leftovers() {
    let (found, _) = journal::leftovers(&journal_dir());
    let n: usize = found.iter().map(|l| l.open.len()).sum();
    if n > 0 {
        let runs = found.iter().filter(|l| !l.open.is_empty()).count();
        eprintln!(
            "Warning: {n} resource{} left by {runs} earlier run{} that did not finish its cleanup; `kiln cleanup` removes {}.",
            if n == 1 { "" } else { "s" },
            if runs == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "them" },
        );
    }
}

/// Says what the run leaves behind (a second interrupt, or a cleanup that failed).
pub fn say_left(left: &[Resource]) {
    if left.is_empty() {
        return;
    }
    eprintln!("==> Left behind (run `kiln cleanup` to remove):");
    for r in left {
        eprintln!("    {r}");
    }
}

/// `kiln cleanup`.
#[derive(clap::Args, Debug)]
pub struct CleanupArgs {
    /// List what is left instead of removing it.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
}

/// Runs `kiln cleanup`: exit 0 when nothing is left, 1 when something could not be removed.
pub async fn run(a: &CleanupArgs, registry: &kiln_core::Registry) -> i32 {
    let dir = journal_dir();
    if a.dry_run {
        let (found, report) = journal::leftovers(&dir);
        let mut any = false;
        for l in &found {
            for (_, r) in l.open.iter().rev() {
                any = true;
                println!("{r}\t(run {})", l.run);
            }
        }
        report_running(&report);
        if !any {
            println!("Nothing to clean up.");
        }
        return 0;
    }
    let report = journal::cleanup(&dir, registry, &|r| println!("==> Removing {r}")).await;
    report_running(&report);
    for (p, e) in &report.unreadable {
        eprintln!("Warning: {}: {e}; left alone.", p.display());
    }
    for (r, e) in &report.failed {
        eprintln!("Error: could not remove {r}: {e}");
    }
    if report.removed.is_empty() && report.failed.is_empty() {
        println!("Nothing to clean up.");
    } else {
        println!(
            "Removed {} resource{}{}.",
            report.removed.len(),
            if report.removed.len() == 1 { "" } else { "s" },
            if report.failed.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} could not be removed and stay recorded",
                    report.failed.len()
                )
            }
        );
    }
    i32::from(!report.failed.is_empty())
}

fn report_running(report: &journal::CleanupReport) {
    for (p, pid) in &report.running {
        eprintln!(
            "Note: {} belongs to a run still going (pid {pid}); left to it.",
            p.display()
        );
    }
}

/// Cancels `cancel` on the first SIGINT, SIGTERM or SIGHUP; on a second SIGINT or SIGTERM,
/// says what the journal still holds and exits with status 130 without waiting for the
/// cleanups.
pub fn on_signals(
    cancel: tokio_util::sync::CancellationToken,
    journal: Journal,
    announce: impl Fn() + Send + 'static,
) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let mut term = signal(SignalKind::terminate()).ok();
        let mut hup = signal(SignalKind::hangup()).ok();
        let mut int = signal(SignalKind::interrupt()).ok();
        for round in 0..2 {
            // A closed terminal sends SIGHUP more than once (the shell forwards it, then the
            // kernel on the session's end): after the first signal, a hangup is not a
            // second interrupt, so the cleanups still run.
            tokio::select! {
                Some(()) = recv(&mut int) => {}
                Some(()) = recv(&mut term) => {}
                Some(()) = recv(&mut hup), if round == 0 => {}
                else => return,
            }
            if round == 0 {
                announce();
                cancel.cancel();
            } else {
                eprintln!("==> Second interrupt: not waiting for the cleanups to finish.");
                say_left(&journal.open_resources());
                std::process::exit(130);
            }
        }
    });
}

async fn recv(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}
