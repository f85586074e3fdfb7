//! The team backend: PostgreSQL through tokio-postgres. Every write transaction first takes one
//! transaction-scoped advisory lock, so writers on different machines queue instead of racing.

use super::{Backend, Dialect, Row, StoreError, Tx, Val};
use async_trait::async_trait;
use bytes::BytesMut;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::{Client, NoTls};

/// The advisory lock key of catalog writes ("kiln" in ASCII).
const WRITE_LOCK: i64 = 0x6b69_6c6e;

pub(crate) struct Postgres {
    client: Arc<Mutex<Client>>,
    shown: String,
}

/// The URL without its password.
fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &url[s + 3..at];
            let user = user.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..s + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl Postgres {
    pub(crate) async fn connect(url: &str) -> Result<Postgres, StoreError> {
        let shown = shown(url);
        let (client, conn) =
            tokio_postgres::connect(url, NoTls)
                .await
                .map_err(|e| StoreError::Open {
                    target: shown.clone(),
                    message: pg_message(&e),
                })?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Postgres {
            client: Arc::new(Mutex::new(client)),
            shown,
        })
    }
}

fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => d.message().to_string(),
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(x) = src {
                s = format!("{s}: {x}");
                src = x.source();
            }
            s
        }
    }
}

fn query_error(e: &tokio_postgres::Error) -> StoreError {
    StoreError::Query(pg_message(e))
}

/// A parameter that takes the column's type: integers as INT8/INT4, text as TEXT.
#[derive(Debug)]
struct P<'a>(&'a Val);

impl ToSql for P<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(n) if *ty == Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
            Val::Int(n) if *ty == Type::INT8 => n.to_sql(ty, out),
            Val::Int(n) => n.to_string().to_sql(ty, out),
            Val::Text(t) if *ty == Type::INT8 => t.parse::<i64>()?.to_sql(ty, out),
            Val::Text(t) => t.as_str().to_sql(ty, out),
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

struct PgTx {
    client: Option<OwnedMutexGuard<Client>>,
}

impl Drop for PgTx {
    fn drop(&mut self) {
        // Roll back before the connection is used again: the lock is held until then.
        if let Some(c) = self.client.take() {
            if let Ok(h) = tokio::runtime::Handle::try_current() {
                h.spawn(async move {
                    let _ = c.batch_execute("ROLLBACK").await;
                });
            }
        }
    }
}

#[async_trait]
impl Tx for PgTx {
    async fn query(&mut self, sql: &str, p: &[Val]) -> Result<Vec<Row>, StoreError> {
        let c = self.client.as_ref().expect("open transaction");
        let ps: Vec<P<'_>> = p.iter().map(P).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = ps.iter().map(|x| x as &(dyn ToSql + Sync)).collect();
        let rows = c.query(sql, &refs).await.map_err(|e| query_error(&e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut vals = Vec::with_capacity(r.len());
            for (i, col) in r.columns().iter().enumerate() {
                let t = col.type_();
                let v = if *t == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i).map(|v| v.map(Val::Int))
                } else if *t == Type::INT4 {
                    r.try_get::<_, Option<i32>>(i)
                        .map(|v| v.map(|n| Val::Int(i64::from(n))))
                } else if *t == Type::BOOL {
                    r.try_get::<_, Option<bool>>(i)
                        .map(|v| v.map(|b| Val::Int(i64::from(b))))
                } else {
                    r.try_get::<_, Option<String>>(i).map(|v| v.map(Val::Text))
                };
                vals.push(v.map_err(|e| query_error(&e))?.unwrap_or(Val::Null));
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    async fn execute(&mut self, sql: &str, p: &[Val]) -> Result<u64, StoreError> {
        let c = self.client.as_ref().expect("open transaction");
        let ps: Vec<P<'_>> = p.iter().map(P).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = ps.iter().map(|x| x as &(dyn ToSql + Sync)).collect();
        if p.is_empty() {
            c.batch_execute(sql).await.map_err(|e| query_error(&e))?;
            return Ok(0);
        }
        c.execute(sql, &refs).await.map_err(|e| query_error(&e))
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        let c = self.client.take().expect("open transaction");
        if let Err(e) = c.batch_execute("COMMIT").await {
            let _ = c.batch_execute("ROLLBACK").await;
            return Err(query_error(&e));
        }
        Ok(())
    }
}

#[async_trait]
impl Backend for Postgres {
    async fn begin(&self, write: bool) -> Result<Box<dyn Tx>, StoreError> {
        let c = self.client.clone().lock_owned().await;
        c.batch_execute("BEGIN")
            .await
            .map_err(|e| query_error(&e))?;
        let tx = PgTx { client: Some(c) };
        if write {
            let c = tx.client.as_ref().expect("open transaction");
            c.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
                .await
                .map_err(|e| query_error(&e))?;
        }
        Ok(Box::new(tx))
    }
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn describe(&self) -> String {
        self.shown.clone()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            super::shown("postgres://kiln:hunter2@db.example:5432/kiln"),
            "postgres://kiln@db.example:5432/kiln"
        );
        assert_eq!(
            super::shown("postgres://db.example/kiln"),
            "postgres://db.example/kiln"
        );
    }
}
