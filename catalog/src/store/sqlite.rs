//! The embedded backend: one SQLite file in WAL mode with a busy timeout. Statements run on the
//! calling task; they take microseconds, and a writer waits at most the busy timeout for another
//! process's write lock.

use super::{Backend, Dialect, Row, StoreError, Tx, Val};
use async_trait::async_trait;
use rusqlite::{types::ValueRef, Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

pub(crate) struct Sqlite {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

fn open_error(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Open {
        target: path.display().to_string(),
        message: e.to_string(),
    }
}

impl Sqlite {
    /// Opens (creating it and its directory when missing) the catalog file at `path`.
    pub(crate) fn open(path: &Path, busy_timeout: Duration) -> Result<Sqlite, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_error(path, e))?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_error(path, e))?;
        conn.busy_timeout(busy_timeout)
            .map_err(|e| open_error(path, e))?;
        // Read before anything is written: a file that is not a database fails here, unchanged.
        if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            return Err(StoreError::Unusable(format!(
                "{} is not a Kiln catalog ({e}); it was not changed. Move it away, or point --catalog / KILN_CATALOG elsewhere",
                path.display()
            )));
        }
        use_wal(&conn, busy_timeout).map_err(|e| open_error(path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| open_error(path, e))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| open_error(path, e))?;
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_path_buf(),
        })
    }
}

/// Puts the file in WAL mode unless it already is. Switching needs an exclusive lock, and SQLite
/// answers "database is locked" at once, without waiting on the busy handler, when another
/// connection holds a lock it is about to upgrade (so that the two cannot deadlock): several
/// processes opening a new catalog together hit that. This waits out such a race for up to the
/// busy timeout.
fn use_wal(conn: &Connection, busy_timeout: Duration) -> Result<(), rusqlite::Error> {
    let deadline = std::time::Instant::now() + busy_timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        let attempt = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
            .and_then(|mode| {
                if mode.eq_ignore_ascii_case("wal") {
                    Ok(())
                } else {
                    conn.pragma_update(None, "journal_mode", "WAL")
                }
            });
        match attempt {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// `$1` placeholders as SQLite's numbered `?1`.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

fn query_error(e: rusqlite::Error) -> StoreError {
    StoreError::Query(e.to_string())
}

fn params(p: &[Val]) -> Vec<rusqlite::types::Value> {
    p.iter()
        .map(|v| match v {
            Val::Null => rusqlite::types::Value::Null,
            Val::Int(n) => rusqlite::types::Value::Integer(*n),
            Val::Text(t) => rusqlite::types::Value::Text(t.clone()),
        })
        .collect()
}

struct SqliteTx {
    conn: Option<OwnedMutexGuard<Connection>>,
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            let _ = c.execute_batch("ROLLBACK");
        }
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn query(&mut self, sql: &str, p: &[Val]) -> Result<Vec<Row>, StoreError> {
        let c = self.conn.as_ref().expect("open transaction");
        let mut stmt = c.prepare_cached(&numbered(sql)).map_err(query_error)?;
        let n = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params(p)))
            .map_err(query_error)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(query_error)? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(match r.get_ref(i).map_err(query_error)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(n) => Val::Int(n),
                    ValueRef::Real(f) => Val::Int(f as i64),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Val::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    async fn execute(&mut self, sql: &str, p: &[Val]) -> Result<u64, StoreError> {
        let c = self.conn.as_ref().expect("open transaction");
        let mut stmt = c.prepare_cached(&numbered(sql)).map_err(query_error)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params(p)))
            .map_err(query_error)?;
        Ok(n as u64)
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        let c = self.conn.take().expect("open transaction");
        if let Err(e) = c.execute_batch("COMMIT") {
            let _ = c.execute_batch("ROLLBACK");
            return Err(query_error(e));
        }
        Ok(())
    }
}

#[async_trait]
impl Backend for Sqlite {
    async fn begin(&self, write: bool) -> Result<Box<dyn Tx>, StoreError> {
        let c = self.conn.clone().lock_owned().await;
        c.execute_batch(if write {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN DEFERRED"
        })
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
                StoreError::Query(format!(
                    "the catalog {} stayed locked by another process past the busy timeout",
                    self.path.display()
                ))
            }
            e => query_error(e),
        })?;
        Ok(Box::new(SqliteTx { conn: Some(c) }))
    }
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}
