//! The connection pool's manager: opens SQLite connections with Roster's settings and
//! PostgreSQL connections with their statement bound, and refuses a broken one back.

use std::time::Duration;

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};

use super::conn::DbConn;
use super::database_url::DatabaseUrl;
use super::limits;

/// Opens connections for the pool and reports the real connect error, which diesel's derived
/// `establish` hides behind "invalid connection url".
#[derive(Debug)]
pub struct Manager {
    pub(super) url: DatabaseUrl,
    /// How long one statement may run (`limits`).
    pub(super) statement_timeout: Duration,
}

// WAL lets readers run beside the single writer; `synchronous = FULL` syncs the WAL at every
// commit, so an acknowledged write survives a power cut or an OS crash, not only a crash of
// the process (with NORMAL a commit reached the disk only at the next checkpoint); group
// commit spreads that sync over every write of a group. case_sensitive_like makes LIKE behave as on
// PostgreSQL so filters give the same answers on both backends. The rest is for speed, found
// by profiling writes: statement journals in memory instead of temp files (they were 8% of a
// PATCH), a 16 MiB page cache per connection instead of 2 MiB, and no checkpoint inside a
// request: the writer that crossed SQLite's 1,000-page mark used to copy the WAL back and
// fsync while holding the write lock (a 20 ms stall every few hundred writes). `Checkpointer`
// does that in the background. No `mmap_size`: while anything writes (the request log always
// does), the file grows and each connection unmaps and remaps it, and the TLB shootdowns and
// page faults cost reads a quarter of their throughput (GET by id 5,200 -> 6,900 req/s
// without it).
const SQLITE_SETUP: &str = "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
    PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA case_sensitive_like = ON; \
    PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384; \
    PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;";

impl Manager {
    pub(super) fn connect_sqlite(path: &std::path::Path) -> Result<DbConn, r2d2::Error> {
        limits::install_sqlite_handler();
        let mut conn = SqliteConnection::establish(&path.to_string_lossy())
            .map_err(r2d2::Error::ConnectionError)?;
        conn.set_instrumentation(limits::Watch::new(None));
        conn.batch_execute(SQLITE_SETUP)
            .map_err(r2d2::Error::QueryError)?;
        Ok(DbConn::Sqlite(conn))
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => Manager::connect_sqlite(path),
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                limits::bound_postgres(&mut conn, self.statement_timeout)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Postgres(conn))
            }
        }
    }

    /// A PostgreSQL connection that answered within `TRUSTED_FOR` is handed out untested: a
    /// `SELECT 1` on every checkout was a round trip of its own, two or more per request. One
    /// idle for longer is tested, so a database restart while the pool sat idle is caught
    /// before a request meets it; one lost under load is dropped by `has_broken`.
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        if let DbConn::Postgres(c) = conn
            && watch(c).is_some_and(|w| !w.lost() && w.answered_within(TRUSTED_FOR))
        {
            return Ok(());
        }
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// A connection still inside a transaction (a write that panicked left it there) or
    /// whose transaction manager is in error is not handed out again: the next write on it
    /// would be a savepoint of a transaction that never commits, acknowledged and then lost.
    /// Nor is one the server closed.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        let lost = match conn {
            DbConn::Postgres(c) => watch(c).is_some_and(|w| w.lost()),
            DbConn::Sqlite(_) => false,
        };
        lost || <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// How long after its last answer a PostgreSQL connection is trusted without a test query.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

fn watch(conn: &mut PgConnection) -> Option<&mut limits::Watch> {
    conn.instrumentation().downcast_mut::<limits::Watch>()
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;
