//! The community git plugin's data sources, with its names, arguments and outputs, read with
//! gitoxide (`gix`, no network):
//!
//! - `git-repository`: `head` (HEAD's short name, `HEAD` when detached), `branches`, `tags`
//!   (short names) and `is_clean` (no staged, modified or untracked file);
//! - `git-commit`: the commit `commit_ish` names (default `HEAD`): `hash`, `branches` (those
//!   whose tip it is), `author` and `committer` (`Name <email>`), `timestamp` (the committer's,
//!   RFC 3339 in UTC), `pgp_signature`, `message`, `tree_hash`, `parent_hashes`;
//! - `git-tree`: that commit's `hash` and `files`, every file of its tree, recursively, in git's
//!   order (as `git ls-tree -r`).
//!
//! `path` (default `.`, the directory Kiln runs in) may be any directory inside the work tree:
//! the repository is found by walking up from it.

use super::check_args;
use hcl::{Map, Value};
use std::path::{Path, PathBuf};

fn open(args: &Map<String, Value>, cwd: &Path) -> Result<gix::Repository, String> {
    let path = match args.get("path") {
        None | Some(Value::Null) => PathBuf::from("."),
        Some(Value::String(p)) => PathBuf::from(p),
        Some(other) => return Err(format!("path must be a string, not {other}")),
    };
    let dir = if path.is_absolute() {
        path
    } else {
        cwd.join(path)
    };
    gix::discover(&dir).map_err(|e| {
        format!(
            "no git repository at {} or any of its parents: {e}",
            dir.display()
        )
    })
}

fn commit_ish(args: &Map<String, Value>) -> Result<String, String> {
    match args.get("commit_ish") {
        None | Some(Value::Null) => Ok("HEAD".into()),
        Some(Value::String(s)) if s.is_empty() => Ok("HEAD".into()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("commit_ish must be a string, not {other}")),
    }
}

fn resolve<'r>(repo: &'r gix::Repository, rev: &str) -> Result<gix::Commit<'r>, String> {
    let id = repo
        .rev_parse_single(rev)
        .map_err(|e| format!("cannot resolve {rev:?}: {e}"))?;
    id.object()
        .map_err(|e| e.to_string())?
        .peel_to_commit()
        .map_err(|_| format!("{rev:?} does not name a commit"))
}

fn strings<I: IntoIterator<Item = String>>(it: I) -> Value {
    Value::Array(it.into_iter().map(Value::from).collect())
}

/// Short names of the references under `prefix` (`refs/heads/`, `refs/tags/`), with the commit
/// each points at (tags peeled), sorted by name.
fn refs(repo: &gix::Repository, prefix: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let platform = repo.references().map_err(|e| e.to_string())?;
    let iter = platform.prefixed(prefix).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for r in iter {
        let mut r = r.map_err(|e| e.to_string())?;
        let name = r.name().shorten().to_string();
        let target = r.peel_to_id().ok().map(|id| id.to_string());
        out.push((name, target));
    }
    out.sort();
    Ok(out)
}

/// `data "git-repository"`.
pub(crate) fn repository(args: &Map<String, Value>, cwd: &Path) -> Result<Value, String> {
    check_args(args, &["path"])?;
    let repo = open(args, cwd)?;
    let head = match repo.head_name().map_err(|e| e.to_string())? {
        Some(name) => name.shorten().to_string(),
        None => "HEAD".to_string(),
    };
    let is_clean = is_clean(&repo)?;
    let mut m = Map::new();
    m.insert("head".into(), Value::from(head));
    m.insert(
        "branches".into(),
        strings(refs(&repo, "refs/heads/")?.into_iter().map(|(n, _)| n)),
    );
    m.insert(
        "tags".into(),
        strings(refs(&repo, "refs/tags/")?.into_iter().map(|(n, _)| n)),
    );
    m.insert("is_clean".into(), Value::Bool(is_clean));
    Ok(Value::Object(m))
}

/// No change staged or in the work tree, and no untracked file (ignored files do not count).
fn is_clean(repo: &gix::Repository) -> Result<bool, String> {
    if repo.workdir().is_none() {
        return Err("the repository has no work tree".into());
    }
    let mut iter = repo
        .status(gix::progress::Discard)
        .map_err(|e| e.to_string())?
        .untracked_files(gix::status::UntrackedFiles::Files)
        .into_iter(Vec::new())
        .map_err(|e| format!("reading the work tree's status: {e}"))?;
    match iter.next() {
        None => Ok(true),
        Some(Ok(_)) => Ok(false),
        Some(Err(e)) => Err(format!("reading the work tree's status: {e}")),
    }
}

fn signature(s: gix::actor::SignatureRef<'_>) -> String {
    format!("{} <{}>", s.name, s.email)
}

/// `data "git-commit"`.
pub(crate) fn commit(args: &Map<String, Value>, cwd: &Path) -> Result<Value, String> {
    check_args(args, &["path", "commit_ish"])?;
    let repo = open(args, cwd)?;
    let rev = commit_ish(args)?;
    let commit = resolve(&repo, &rev)?;
    let hash = commit.id.to_string();
    let c = commit.decode().map_err(|e| e.to_string())?;
    let author = c.author().map_err(|e| e.to_string())?;
    let committer = c.committer().map_err(|e| e.to_string())?;
    let when = committer
        .time()
        .map_err(|e| format!("the committer's time: {e}"))?;
    let timestamp = time::OffsetDateTime::from_unix_timestamp(when.seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let pgp_signature = c
        .extra_headers()
        .pgp_signature()
        .map(|s| {
            // As go-git: the header's lines, each ending in a newline.
            let mut s = s.to_string();
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s
        })
        .unwrap_or_default();
    let branches = refs(&repo, "refs/heads/")?
        .into_iter()
        .filter(|(_, t)| t.as_deref() == Some(hash.as_str()))
        .map(|(n, _)| n);
    let mut m = Map::new();
    m.insert("hash".into(), Value::from(hash.clone()));
    m.insert("branches".into(), strings(branches));
    m.insert("author".into(), Value::from(signature(author)));
    m.insert("committer".into(), Value::from(signature(committer)));
    m.insert("timestamp".into(), Value::from(timestamp));
    m.insert("pgp_signature".into(), Value::from(pgp_signature));
    m.insert("message".into(), Value::from(c.message.to_string()));
    m.insert("tree_hash".into(), Value::from(c.tree().to_string()));
    m.insert(
        "parent_hashes".into(),
        strings(c.parents().map(|p| p.to_string())),
    );
    Ok(Value::Object(m))
}

/// `data "git-tree"`.
pub(crate) fn tree(args: &Map<String, Value>, cwd: &Path) -> Result<Value, String> {
    check_args(args, &["path", "commit_ish"])?;
    let repo = open(args, cwd)?;
    let rev = commit_ish(args)?;
    let commit = resolve(&repo, &rev)?;
    let tree = commit
        .tree()
        .map_err(|_| "couldn't find tree".to_string())?;
    let mut rec = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .depthfirst(&mut rec)
        .map_err(|e| format!("reading the tree: {e}"))?;
    let files = rec
        .records
        .into_iter()
        .filter(|e| !e.mode.is_tree() && !e.mode.is_commit())
        .map(|e| e.filepath.to_string());
    let mut m = Map::new();
    m.insert("hash".into(), Value::from(commit.id.to_string()));
    m.insert("files".into(), strings(files));
    Ok(Value::Object(m))
}
