//! One storage interface, two backends: embedded SQLite ([`sqlite`]) and PostgreSQL
//! ([`postgres`]). The catalog's logic is written once against [`Tx`]: SQL with `$1`-style
//! parameters over two column types (integers and text), run inside a transaction. Write
//! transactions are serialised across processes and machines (SQLite `BEGIN IMMEDIATE`,
//! PostgreSQL `pg_advisory_xact_lock`), so a version number, a channel move and the audit
//! chain's next link are always computed from the latest committed state.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;

/// A parameter or column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Text(String),
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Text(s)
    }
}
impl From<&String> for Val {
    fn from(s: &String) -> Val {
        Val::Text(s.clone())
    }
}
impl From<i64> for Val {
    fn from(n: i64) -> Val {
        Val::Int(n)
    }
}
impl From<Option<String>> for Val {
    fn from(s: Option<String>) -> Val {
        s.map_or(Val::Null, Val::Text)
    }
}
impl From<Option<&str>> for Val {
    fn from(s: Option<&str>) -> Val {
        s.map_or(Val::Null, |s| Val::Text(s.to_string()))
    }
}
impl From<Option<i64>> for Val {
    fn from(n: Option<i64>) -> Val {
        n.map_or(Val::Null, Val::Int)
    }
}

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub Vec<Val>);

impl Row {
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Val::Int(n)) => Some(*n),
            Some(Val::Text(t)) => t.parse().ok(),
            _ => None,
        }
    }
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Val::Text(t)) => Some(t.clone()),
            Some(Val::Int(n)) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The catalog could not be opened or reached.
    #[error("cannot open the catalog {target}: {message}")]
    Open {
        /// The path or URL (without its password).
        target: String,
        /// Why.
        message: String,
    },
    /// The file or database is not a Kiln catalog Kiln can read.
    #[error("{0}")]
    Unusable(String),
    /// A query failed.
    #[error("catalog query failed: {0}")]
    Query(String),
}

/// A transaction. Dropping it without [`Tx::commit`] rolls it back.
#[async_trait]
pub(crate) trait Tx: Send {
    async fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError>;
    async fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// A storage backend.
#[async_trait]
pub(crate) trait Backend: Send + Sync {
    /// Starts a transaction; `write` ones hold the catalog's write lock until they end.
    async fn begin(&self, write: bool) -> Result<Box<dyn Tx>, StoreError>;
    /// `sqlite` or `postgres`: which migration script applies.
    fn dialect(&self) -> Dialect;
    /// Where it is, for messages (a path, or a URL without its password).
    fn describe(&self) -> String;
}

/// The SQL dialect of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The schema versions this build knows; index `i` upgrades from version `i` to `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        include_str!("schema/1.sqlite.sql"),
        include_str!("schema/1.postgres.sql"),
    ),
    // Channel publications (SSM parameters a channel is written to); the same SQL for both.
    (include_str!("schema/2.sql"), include_str!("schema/2.sql")),
    // Documents kept with a version (SBOMs) and its vulnerability scans.
    (include_str!("schema/3.sql"), include_str!("schema/3.sql")),
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema up to date, refusing (and changing nothing) when the catalog was made by a
/// newer Kiln.
pub(crate) async fn migrate(b: &dyn Backend) -> Result<(), StoreError> {
    let current = {
        let mut tx = b.begin(false).await?;
        let v = schema_version(tx.as_mut(), b.dialect()).await?;
        tx.commit().await?;
        v
    };
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    check_not_newer(current, b)?;
    let mut tx = b.begin(true).await?;
    // Another process may have migrated while we waited for the lock.
    let current = schema_version(tx.as_mut(), b.dialect()).await?;
    check_not_newer(current, b)?;
    for (i, (lite, pg)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let script = if b.dialect() == Dialect::Sqlite {
            lite
        } else {
            pg
        };
        for stmt in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            tx.execute(stmt, &[]).await?;
        }
        tx.execute(
            "UPDATE kiln_meta SET value = $1 WHERE key = 'schema_version'",
            &[Val::Text((i + 1).to_string())],
        )
        .await?;
    }
    tx.commit().await
}

fn check_not_newer(current: i64, b: &dyn Backend) -> Result<(), StoreError> {
    if current > SCHEMA_VERSION {
        return Err(StoreError::Unusable(format!(
            "the catalog {} has schema version {current}, newer than this kiln knows ({SCHEMA_VERSION}); it was written by a newer Kiln: upgrade kiln to use it (the catalog was not changed)",
            b.describe()
        )));
    }
    Ok(())
}

async fn schema_version(tx: &mut dyn Tx, d: Dialect) -> Result<i64, StoreError> {
    let exists = match d {
        Dialect::Sqlite => {
            tx.query(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'kiln_meta'",
                &[],
            )
            .await?
        }
        Dialect::Postgres => {
            tx.query(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'kiln_meta'",
                &[],
            )
            .await?
        }
    };
    if exists.first().map_or(0, |r| r.int(0)) == 0 {
        return Ok(0);
    }
    let rows = tx
        .query(
            "SELECT value FROM kiln_meta WHERE key = 'schema_version'",
            &[],
        )
        .await?;
    let v = rows.first().map(|r| r.text(0)).unwrap_or_default();
    v.parse().map_err(|_| {
        StoreError::Unusable(format!(
            "the catalog's schema version {v:?} is not a number; the catalog is damaged (it was not changed)"
        ))
    })
}
