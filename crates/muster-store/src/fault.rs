//! How a [`Store`](crate::Store) is opened, and a switch that makes the database misbehave
//! on purpose so tests (and drills) can see what people see when it is in trouble.
//!
//! The switch works through SQLite itself, not by faking errors in Rust: `read-only` sets
//! `PRAGMA query_only` (writes fail with `SQLITE_READONLY`, also when running as root, where
//! file permissions do not stop writes), `full` caps `PRAGMA max_page_count` at the current
//! size (writes that need a new page fail with `SQLITE_FULL`, as on a full disk). It is
//! applied each time a connection is taken from the pool, so flipping it takes effect on
//! the next statement, and flipping it back lets writes through again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// How long a writer waits for another writer before reporting the database as locked.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The trouble a [`FaultSwitch`] simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    ReadOnly,
    Full,
}

impl std::str::FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Fault, String> {
        match s.trim() {
            "" | "none" => Ok(Fault::None),
            "read-only" | "readonly" => Ok(Fault::ReadOnly),
            "full" => Ok(Fault::Full),
            other => Err(format!(
                "unknown database fault {other:?} (none, read-only, full)"
            )),
        }
    }
}

/// A testing aid: shared by a test and a store, flipped at any time.
#[derive(Debug, Clone, Default)]
pub struct FaultSwitch(Arc<AtomicU8>);

impl FaultSwitch {
    pub fn new(initial: Fault) -> FaultSwitch {
        let s = FaultSwitch::default();
        s.set(initial);
        s
    }

    pub fn set(&self, f: Fault) {
        let v = match f {
            Fault::None => 0,
            Fault::ReadOnly => 1,
            Fault::Full => 2,
        };
        self.0.store(v, Ordering::SeqCst);
    }

    pub fn get(&self) -> Fault {
        match self.0.load(Ordering::SeqCst) {
            1 => Fault::ReadOnly,
            2 => Fault::Full,
            _ => Fault::None,
        }
    }
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a writer waits for another writer before the database counts as locked.
    pub busy_timeout: Duration,
    /// Testing aid: simulate a read-only or full database (see the module docs).
    pub fault: Option<FaultSwitch>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            fault: None,
        }
    }
}

impl StoreOptions {
    pub fn busy_timeout(mut self, d: Duration) -> Self {
        self.busy_timeout = d;
        self
    }

    pub fn fault(mut self, s: FaultSwitch) -> Self {
        self.fault = Some(s);
        self
    }
}

/// SQLite's largest page count: what `max_page_count` is when nothing caps it.
const NO_CAP: i64 = 4_294_967_294;

/// Bring one connection in line with the switch.
pub(crate) async fn apply(
    conn: &mut sqlx::SqliteConnection,
    fault: Fault,
) -> Result<(), sqlx::Error> {
    let query_only = if fault == Fault::ReadOnly { 1 } else { 0 };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA query_only = {query_only}"
    )))
    .execute(&mut *conn)
    .await?;
    let cap = if fault == Fault::Full {
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&mut *conn)
            .await?;
        pages
    } else {
        NO_CAP
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA max_page_count = {cap}"
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
