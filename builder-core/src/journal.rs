//! The cleanup journal: what a run created that must not outlive it.
//!
//! Before (or, where the resource's name is only known from the creating call, right after) a
//! step creates something that costs money or holds a machine (a QEMU process, a temporary
//! directory, a partial output, an EC2 instance, key pair, security group or AMI in progress),
//! it records it here; when its cleanup removes it, or the build hands it over as an artifact,
//! it marks the entry done. Each record is appended to the run's journal file and synced to disk
//! before the call returns, so that after a second Ctrl-C, a `SIGKILL`, a crash or a power cut
//! [`cleanup`] (`kiln cleanup`) finds exactly what is left and removes it, newest first.
//!
//! A journal is one file per run, `<dir>/<run-id>.jsonl`, of JSON lines:
//!
//! ```text
//! {"journal":1,"run":"…","pid":4242,"started":"2026-12-04T01:02:03Z"}
//! {"id":1,"build":"qemu.vm","resource":{"type":"path","path":"/tmp/.kilnAbc","what":"temporary directory"}}
//! {"id":2,"build":"qemu.vm","resource":{"type":"process","pid":4250,"started":81234,"what":"QEMU"}}
//! {"id":2,"done":true}
//! ```
//!
//! The running process holds an exclusive lock on its file, so a cleanup never touches the
//! resources of a run that is still going. A run that ends with nothing open deletes its file.
//! A line cut short by a crash is ignored (it was not synced, so its call had not returned).

use crate::registry::Registry;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Something a build created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Resource {
    /// A process on this machine. `started` is its start time (clock ticks after boot, from
    /// `/proc/PID/stat`), so that a PID the system has since given to another process is never
    /// signalled.
    Process {
        /// Its PID.
        pid: u32,
        /// Its start time, when it could be read.
        started: Option<u64>,
        /// What it is (`QEMU`, `swtpm`, `local command`).
        what: String,
        /// It leads a process group of its own, removed whole.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        group: bool,
        /// The kernel's boot id when it started: after a reboot no process of the run lives,
        /// whatever now has its number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        boot: Option<String>,
    },
    /// A file or directory that must not outlive the run.
    Path {
        /// Where it is.
        path: PathBuf,
        /// What it is (`temporary directory`, `partial output directory`).
        what: String,
    },
    /// A resource in a cloud, removed by the [`Cleaner`] registered for its provider.
    Cloud(CloudResource),
}

/// A cloud resource: enough to find and remove it from another process, later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudResource {
    /// The cleaner's name, e.g. `aws`.
    pub provider: String,
    /// The region it lives in.
    pub region: String,
    /// Its kind, in the provider's terms (`instance`, `key-pair`, `security-group`, `image`).
    pub kind: String,
    /// Its id (or name, for kinds named by the caller).
    pub id: String,
    /// The API endpoint it was created through, when not the provider's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::Process { pid, what, .. } => write!(f, "{what} process {pid}"),
            Resource::Path { path, what } => write!(f, "{what} {}", path.display()),
            Resource::Cloud(c) => write!(
                f,
                "{} {} {} in {}",
                c.provider,
                c.kind.replace('-', " "),
                c.id,
                c.region
            ),
        }
    }
}

impl Resource {
    /// A process, with its start time read now.
    #[must_use]
    pub fn process(pid: u32, what: &str) -> Resource {
        Resource::Process {
            pid,
            started: process_start(pid),
            what: what.into(),
            group: false,
            boot: boot_id(),
        }
    }

    /// A process that leads a process group of its own (see [`Resource::Process`]).
    #[must_use]
    pub fn process_group(pid: u32, what: &str) -> Resource {
        Resource::Process {
            pid,
            started: process_start(pid),
            what: what.into(),
            group: true,
            boot: boot_id(),
        }
    }

    /// A file or directory.
    #[must_use]
    pub fn path(path: impl Into<PathBuf>, what: &str) -> Resource {
        // `Path::components` drops the `.` in `/work/./out`; a relative path is made absolute
        // so that `kiln cleanup`, run from anywhere, finds it.
        let path: PathBuf = path.into();
        let path = std::path::absolute(&path).unwrap_or(path);
        Resource::Path {
            path: path.components().collect(),
            what: what.into(),
        }
    }
}

/// Removes one kind of cloud's resources for [`cleanup`].
#[async_trait::async_trait]
pub trait Cleaner: Send + Sync + std::fmt::Debug {
    /// Removes `r`; a resource that is already gone is a success.
    ///
    /// # Errors
    /// Why it could not be removed (it stays in the journal for the next cleanup).
    async fn remove(&self, r: &CloudResource) -> Result<(), String>;
}

#[derive(Serialize, Deserialize)]
struct Header {
    journal: u32,
    run: String,
    pid: u32,
    started: String,
}

#[derive(Serialize, Deserialize)]
struct Line {
    id: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    build: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<Resource>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    done: bool,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    file: Mutex<File>,
    state: Mutex<(u64, std::collections::BTreeMap<u64, Resource>)>,
}

/// A run's journal, shared by its builds. The default journal records nothing (for library
/// users who keep no state on disk).
#[derive(Debug, Clone, Default)]
pub struct Journal {
    inner: Option<Arc<Inner>>,
    build: String,
}

/// One recorded resource; [`Entry::done`] marks it removed or handed over. Dropping an entry
/// leaves it open: only a cleanup that ran says it is gone.
#[derive(Debug)]
#[must_use = "an entry is marked done when its resource is removed or kept"]
pub struct Entry {
    journal: Journal,
    id: u64,
}

impl Journal {
    /// Creates the journal of run `run` in `dir` (created if needed) and locks it.
    ///
    /// # Errors
    /// When the directory or the file cannot be written.
    pub fn create(dir: &Path, run: &str) -> std::io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{run}.jsonl"));
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        file.try_lock().map_err(std::io::Error::other)?;
        let header = Header {
            journal: 1,
            run: run.into(),
            pid: std::process::id(),
            started: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        };
        let mut line = serde_json::to_string(&header).unwrap_or_default();
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_all()?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(Journal {
            inner: Some(Arc::new(Inner {
                path,
                file: Mutex::new(file),
                state: Mutex::new((0, std::collections::BTreeMap::new())),
            })),
            build: String::new(),
        })
    }

    /// The same journal, with entries attributed to `build`.
    #[must_use]
    pub fn for_build(&self, build: &str) -> Journal {
        Journal {
            inner: self.inner.clone(),
            build: build.into(),
        }
    }

    /// Its file, when it keeps one.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.inner.as_ref().map(|i| i.path.as_path())
    }

    /// Records `r` and syncs it to disk.
    ///
    /// # Errors
    /// When the journal cannot be written (the step should not create the resource then).
    pub fn record(&self, r: Resource) -> Result<Entry, crate::BuildError> {
        let Some(inner) = &self.inner else {
            return Ok(Entry {
                journal: self.clone(),
                id: 0,
            });
        };
        let id = {
            let mut st = inner
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            st.0 += 1;
            let id = st.0;
            st.1.insert(id, r.clone());
            id
        };
        self.append(&Line {
            id,
            build: self.build.clone(),
            resource: Some(r),
            done: false,
        })
        .map_err(|e| crate::BuildError::io("writing the cleanup journal", e))?;
        Ok(Entry {
            journal: self.clone(),
            id,
        })
    }

    fn append(&self, line: &Line) -> std::io::Result<()> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let mut text = serde_json::to_string(line).map_err(std::io::Error::other)?;
        text.push('\n');
        let mut f = inner
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f.write_all(text.as_bytes())?;
        f.sync_data()
    }

    /// What is recorded and not done, newest first.
    #[must_use]
    pub fn open_resources(&self) -> Vec<Resource> {
        self.inner
            .as_ref()
            .map(|i| {
                i.state
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .1
                    .values()
                    .rev()
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Ends the run's journal and returns what is left, newest first: with nothing left its file
    /// is deleted (as it is when the last handle goes with nothing open); else the file stays,
    /// unlocked once the process ends, for `kiln cleanup`.
    #[must_use]
    pub fn finish(self) -> Vec<Resource> {
        let left = self.open_resources();
        if let (Some(inner), true) = (&self.inner, left.is_empty()) {
            let _ = std::fs::remove_file(&inner.path);
        }
        left
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let empty = self.state.lock().map(|st| st.1.is_empty()).unwrap_or(false);
        if empty {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A value that removes a temporary file or directory when dropped (a `tempfile` handle), kept
/// in the journal while it lives: a killed run's temporary files are found by `kiln cleanup`.
#[derive(Debug)]
pub struct Held<T> {
    value: Option<T>,
    entry: Option<Entry>,
}

impl<T> std::ops::Deref for Held<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect("held until dropped")
    }
}

impl<T> std::ops::DerefMut for Held<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("held until dropped")
    }
}

impl<T> Drop for Held<T> {
    fn drop(&mut self) {
        // The value's own drop removes the file; only then is the entry done.
        drop(self.value.take());
        if let Some(e) = self.entry.take() {
            e.done();
        }
    }
}

impl Journal {
    /// Records `path` (what `value` removes when dropped) and holds `value`: the entry is done
    /// when the [`Held`] is dropped.
    ///
    /// # Errors
    /// When the journal cannot be written; `value` is dropped (its file removed) then.
    pub fn hold<T>(&self, value: T, path: &Path, what: &str) -> Result<Held<T>, crate::BuildError> {
        let entry = self.record(Resource::path(path, what))?;
        Ok(Held {
            value: Some(value),
            entry: Some(entry),
        })
    }
}

impl Entry {
    /// Marks the resource removed (or handed over to the user as part of an artifact).
    pub fn done(self) {
        let Some(inner) = &self.journal.inner else {
            return;
        };
        let removed = inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
            .remove(&self.id)
            .is_some();
        if removed {
            // A failed write leaves the entry open on disk: a later cleanup finds the resource
            // gone, which is a success.
            let _ = self.journal.append(&Line {
                id: self.id,
                build: String::new(),
                resource: None,
                done: true,
            });
        }
    }
}

/// What [`cleanup`] did.
#[derive(Debug, Default)]
pub struct CleanupReport {
    /// Removed resources.
    pub removed: Vec<Resource>,
    /// Resources that could not be removed, with why; they stay recorded.
    pub failed: Vec<(Resource, String)>,
    /// Journals of runs still going (their resources are theirs), with the run's PID.
    pub running: Vec<(PathBuf, u32)>,
    /// Journals that could not be read, with why.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// One journal left by a run that is not running any more, with what it left open (oldest
/// first).
#[derive(Debug)]
pub struct Leftover {
    /// The journal's file.
    pub path: PathBuf,
    /// The run's id.
    pub run: String,
    /// The resources still open, in the order they were recorded.
    pub open: Vec<(u64, Resource)>,
    file: File,
}

/// Journals in `dir`, split into those of runs that ended (their files are locked by this
/// call until the [`Leftover`] is dropped) and those still running.
#[must_use]
pub fn leftovers(dir: &Path) -> (Vec<Leftover>, CleanupReport) {
    let mut report = CleanupReport::default();
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return (out, report);
    };
    let mut paths: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    paths.sort();
    for path in paths {
        match read_leftover(&path) {
            Ok(Ok(l)) => out.push(l),
            Ok(Err(pid)) => report.running.push((path, pid)),
            Err(e) => report.unreadable.push((path, e)),
        }
    }
    (out, report)
}

fn read_leftover(path: &Path) -> Result<Result<Leftover, u32>, String> {
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    let mut lines = std::io::BufReader::new(&file).lines();
    let header: Header = lines
        .next()
        .and_then(Result::ok)
        .and_then(|l| serde_json::from_str(&l).ok())
        .ok_or("not a Kiln cleanup journal (its first line is not a journal header)")?;
    if header.journal != 1 {
        return Err(format!(
            "a journal of version {}, newer than this Kiln knows (1)",
            header.journal
        ));
    }
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(Err(header.pid)),
        Err(std::fs::TryLockError::Error(e)) => return Err(e.to_string()),
    }
    let mut open = std::collections::BTreeMap::new();
    for line in lines {
        let Ok(line) = line else { break };
        // A torn last line: its call never returned.
        let Ok(l) = serde_json::from_str::<Line>(&line) else {
            continue;
        };
        if l.done {
            open.remove(&l.id);
        } else if let Some(r) = l.resource {
            open.insert(l.id, r);
        }
    }
    Ok(Ok(Leftover {
        path: path.to_path_buf(),
        run: header.run,
        open: open.into_iter().collect(),
        file,
    }))
}

impl Leftover {
    fn mark_done(&mut self, id: u64) {
        if let Ok(mut text) = serde_json::to_string(&Line {
            id,
            build: String::new(),
            resource: None,
            done: true,
        }) {
            text.push('\n');
            let _ = self.file.write_all(text.as_bytes());
            let _ = self.file.sync_data();
        }
    }
}

/// Removes what runs that ended left behind, newest first within each run, and deletes each
/// journal that has nothing left. Idempotent: what is already gone counts as removed.
/// `progress` hears of each resource before it is removed.
pub async fn cleanup(
    dir: &Path,
    registry: &Registry,
    progress: &(dyn Fn(&Resource) + Sync),
) -> CleanupReport {
    let (found, mut report) = leftovers(dir);
    for mut l in found {
        let mut failed = false;
        for (id, r) in l.open.clone().into_iter().rev() {
            progress(&r);
            match remove(&r, registry).await {
                Ok(()) => {
                    l.mark_done(id);
                    report.removed.push(r);
                }
                Err(e) => {
                    failed = true;
                    report.failed.push((r, e));
                }
            }
        }
        if !failed {
            let _ = std::fs::remove_file(&l.path);
        }
    }
    report
}

/// Removes one resource.
///
/// # Errors
/// Why it could not be removed.
pub async fn remove(r: &Resource, registry: &Registry) -> Result<(), String> {
    match r {
        // Started before this boot, or a number no run of ours can have had: gone.
        Resource::Process { boot: Some(b), .. } if boot_id().is_some_and(|now| &now != b) => {
            Ok(())
        }
        Resource::Process { pid, .. } if *pid <= 1 => Ok(()),
        Resource::Process {
            pid,
            started,
            group: false,
            ..
        } => kill_if_same(*pid, *started),
        Resource::Process {
            pid,
            started,
            group: true,
            ..
        } => kill_group(*pid, *started),
        Resource::Path { path, .. } => {
            let res = match std::fs::symlink_metadata(path) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
                Ok(_) => std::fs::remove_file(path),
                Err(e) => Err(e),
            };
            match res {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(format!("removing {}: {e}", path.display())),
            }
        }
        Resource::Cloud(c) => match registry.cleaner_for(&c.provider) {
            Some(cl) => cl.remove(c).await,
            None => Err(format!(
                "this Kiln has no cleaner for {} resources (was it built without that cloud's feature?)",
                c.provider
            )),
        },
    }
}

/// A process's start time in clock ticks after boot (field 22 of `/proc/PID/stat`).
#[must_use]
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

/// The kernel's id of this boot.
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn kill_if_same(pid: u32, started: Option<u64>) -> Result<(), String> {
    let Ok(raw) = i32::try_from(pid) else {
        return Ok(());
    };
    match (process_start(pid), started) {
        // Gone, or a different process has the number now.
        (None, _) => return Ok(()),
        (Some(now), Some(then)) if now != then => return Ok(()),
        // A process with that number and no recorded start time: not ours to judge.
        (Some(_), None) => return Ok(()),
        _ => {}
    }
    match nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(raw),
        nix::sys::signal::Signal::SIGKILL,
    ) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(e) => return Err(format!("killing process {pid}: {e}")),
    }
    // It dies at once; wait a moment so that what it held (a disk image, a port) is free.
    for _ in 0..100 {
        if process_start(pid).is_none_or(|_| is_zombie(pid)) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Ok(())
}

/// Kills the process group `pgid` led by the recorded process: while the leader lives (the same
/// process: same start time), or after it ended while members are left (a PID is not given out
/// again while a group of that number exists, so they are the run's).
fn kill_group(pgid: u32, started: Option<u64>) -> Result<(), String> {
    let Ok(raw) = i32::try_from(pgid) else {
        return Ok(());
    };
    let ours = match (process_start(pgid), started) {
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => false,
        (None, _) => group_members(pgid) > 0,
    };
    if !ours {
        return Ok(());
    }
    match nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(raw),
        nix::sys::signal::Signal::SIGKILL,
    ) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(format!("killing process group {pgid}: {e}")),
    }
}

/// How many live processes are in group `pgid` (field 5 of `/proc/PID/stat`).
fn group_members(pgid: u32) -> usize {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|st| {
            st.rfind(')').is_some_and(|i| {
                let mut f = st[i + 2..].split(' ');
                let state = f.next();
                state != Some("Z") && f.nth(1).and_then(|g| g.parse::<u32>().ok()) == Some(pgid)
            })
        })
        .count()
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').map(|i| s[i + 2..].starts_with('Z')))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_cleans_up_leaves_no_journal() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::create(dir.path(), "run1").unwrap();
        let e = j
            .for_build("null.a")
            .record(Resource::path("/nonexistent/x", "temporary directory"))
            .unwrap();
        assert_eq!(j.open_resources().len(), 1);
        e.done();
        assert!(j.clone().finish().is_empty());
        drop(j);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// A run killed with work left: its journal stays, the running process's lock keeps a
    /// cleanup off it, and once it is gone the cleanup removes the rest newest first, once.
    #[tokio::test]
    async fn leftovers_are_removed_newest_first_and_only_after_the_run_ended() {
        let dir = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let (a, b) = (work.path().join("a"), work.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::write(&b, "partial").unwrap();
        let j = Journal::create(dir.path(), "run2").unwrap();
        let kept = j.record(Resource::path(&a, "temporary directory")).unwrap();
        let open = j.record(Resource::path(&b, "partial output")).unwrap();
        let registry = Registry::default();
        let (found, report) = leftovers(dir.path());
        assert!(found.is_empty());
        assert_eq!(report.running.len(), 1, "{report:?}");
        assert_eq!(report.running[0].1, std::process::id());
        // As if the process had died: its lock goes with the last handle of the file.
        drop((kept, open, j));
        let order = Mutex::new(Vec::new());
        let r = cleanup(dir.path(), &registry, &|r| {
            order.lock().unwrap().push(r.to_string());
        })
        .await;
        assert!(r.failed.is_empty(), "{r:?}");
        assert_eq!(
            order.into_inner().unwrap(),
            [
                format!("partial output {}", b.display()),
                format!("temporary directory {}", a.display())
            ]
        );
        assert!(!a.exists() && !b.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let again = cleanup(dir.path(), &registry, &|_| {}).await;
        assert!(again.removed.is_empty() && again.failed.is_empty());
    }

    #[tokio::test]
    async fn a_torn_last_line_is_ignored_and_a_missing_cleaner_keeps_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        {
            let j = Journal::create(dir.path(), "run3").unwrap();
            let _ = j
                .record(Resource::Cloud(CloudResource {
                    provider: "nowhere".into(),
                    region: "r1".into(),
                    kind: "instance".into(),
                    id: "i-1".into(),
                    endpoint: None,
                }))
                .unwrap();
        }
        let p = dir.path().join("run3.jsonl");
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"id\":2,\"build\":\"x\",\"reso").unwrap();
        drop(f);
        let r = cleanup(dir.path(), &Registry::default(), &|_| {}).await;
        assert_eq!(r.failed.len(), 1, "{r:?}");
        assert_eq!(
            r.failed[0].1,
            "this Kiln has no cleaner for nowhere resources (was it built without that cloud's feature?)"
        );
        assert!(p.exists(), "kept for a cleanup that can remove it");
    }

    #[test]
    fn a_reused_pid_is_never_killed() {
        let me = std::process::id();
        let started = process_start(me).unwrap();
        // Another start time: a different process with our number; left alone.
        assert_eq!(kill_if_same(me, Some(started + 1)), Ok(()));
        assert!(process_start(me).is_some());
    }

    #[test]
    fn a_process_is_killed_when_it_is_the_one_recorded() {
        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .unwrap();
        let r = Resource::process(child.id(), "test");
        let Resource::Process { pid, started, .. } = r else {
            unreachable!()
        };
        assert!(started.is_some());
        kill_if_same(pid, started).unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success());
    }
}
