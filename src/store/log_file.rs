//! On SQLite, the request log lives in a file of its own beside the database (`roster.db` keeps
//! its log in `roster.db-requests`), written and read through one connection of its own.
//!
//! Why: SQLite keeps one page cache per connection and throws it away whenever the file changed
//! since the connection's last read. In one file, the log's steady writes (one row per request,
//! reads included) emptied every reader's cache between two GETs, and every log batch queued
//! behind, and held up, the single writer of directory data. Apart, a read-only load leaves the
//! directory file unchanged, and log writes never wait for SCIM writes nor they for it.
//!
//! The log file has no background checkpointer: its one writer checkpoints as it commits
//! (SQLite's default, every 1,000 pages), off the request path. It carries no foreign key to
//! `directories` (SQLite has none across files): deleting a directory removes its rows here
//! itself (`domain::directory_removal`).

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::conn::DbConn;
use super::error::StoreError;
use super::pool::Manager;

/// Where the log of the database at `main` lives.
pub fn path_for(main: &Path) -> PathBuf {
    let mut name = main.as_os_str().to_owned();
    name.push("-requests");
    PathBuf::from(name)
}

/// The table as `migrations/sqlite/*_request_log` defined it in the main file, less the foreign
/// key; the indexes serve `roster log` (a directory's entries by id) and the retention purge.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS request_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    base_url TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body TEXT,
    request_truncated BOOLEAN NOT NULL,
    status INTEGER NOT NULL,
    response_headers TEXT NOT NULL,
    response_body TEXT,
    response_truncated BOOLEAN NOT NULL,
    duration_us BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_log_directory ON request_log (directory_id, id);
CREATE INDEX IF NOT EXISTS request_log_received_at ON request_log (received_at);
PRAGMA wal_autocheckpoint = 1000;";

const COLUMNS: &str = "id, tenant_id, directory_id, received_at, method, path, query, base_url, \
    request_headers, request_body, request_truncated, status, response_headers, response_body, \
    response_truncated, duration_us";

/// Opens the log file of the database at `main`, creating it and its table when missing.
pub fn open(main: &Path) -> Result<DbConn, StoreError> {
    let mut conn = Manager::connect_sqlite(&path_for(main))
        .map_err(|e| StoreError::Connect(format!("request log file: {e}")))?;
    conn.batch_execute(SCHEMA)?;
    Ok(conn)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Moves the entries a database recorded before its log had a file of its own into that file,
/// and drops the old table. Does nothing once done; a move cut short is finished next time
/// (rows already copied are skipped).
pub fn move_out_of(conn: &mut DbConn, main: &Path) -> Result<(), StoreError> {
    let old: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM main.sqlite_master WHERE type = 'table' AND name = 'request_log'",
    )
    .get_result(conn)?;
    if old.n == 0 {
        return Ok(());
    }
    diesel::sql_query("ATTACH DATABASE ? AS requests")
        .bind::<Text, _>(path_for(main).to_string_lossy().into_owned())
        .execute(conn)?;
    let moved = conn.transaction(|c| {
        c.batch_execute(&format!(
            "INSERT OR IGNORE INTO requests.request_log ({COLUMNS}) \
             SELECT {COLUMNS} FROM main.request_log; DROP TABLE main.request_log;"
        ))
    });
    conn.batch_execute("DETACH DATABASE requests")?;
    Ok(moved?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_sits_beside_its_database() {
        assert_eq!(
            path_for(Path::new("/var/lib/roster.db")),
            PathBuf::from("/var/lib/roster.db-requests")
        );
        assert_eq!(
            path_for(Path::new("roster")),
            PathBuf::from("roster-requests")
        );
    }
}
