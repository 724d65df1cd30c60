//! A thread's own SQLite connection, for reads that must share one snapshot
//! (`Store::reading_here`), and the snapshot held open on it.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;

use diesel::connection::TransactionManager;
use diesel::prelude::*;

use super::conn::DbConn;
use super::error::StoreError;
use super::pool::Manager;

thread_local! {
    /// The connection `Store::reading_here` reads on for this thread, with its file.
    static OWN_CONNECTION: RefCell<Option<(PathBuf, DbConn)>> = const { RefCell::new(None) };
    /// Set inside `Store::reading_here`.
    pub(super) static READING_HERE: Cell<bool> = const { Cell::new(false) };
}

pub(super) fn own_connection<T, E>(
    path: &std::path::Path,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    OWN_CONNECTION.with(|own| {
        // Taken out while in use, so a nested call opens its own instead of aliasing.
        let mut conn = match own.take() {
            Some((opened_on, conn)) if opened_on == path => conn,
            _ => Manager::connect_sqlite(path).map_err(|e| StoreError::Pool(e.to_string()))?,
        };
        let result = f(&mut conn);
        own.replace(Some((path.to_path_buf(), conn)));
        result
    })
}

/// A transaction held open on the calling thread's own connection (`own_connection`) while it
/// lives; it only ever reads, so ending it commits nothing.
pub(super) struct Snapshot<'p> {
    path: &'p std::path::Path,
}

impl<'p> Snapshot<'p> {
    /// `None` when the transaction cannot be begun; the reads then run on their own and
    /// report whatever is wrong with the connection.
    pub(super) fn begin(path: &'p std::path::Path) -> Option<Snapshot<'p>> {
        own_connection(path, |conn| {
            <DbConn as Connection>::TransactionManager::begin_transaction(conn)
                .map_err(StoreError::from)
        })
        .ok()
        .map(|()| Snapshot { path })
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        OWN_CONNECTION.with(|own| {
            let Some((opened_on, mut conn)) = own.take() else {
                return;
            };
            if opened_on != self.path {
                own.replace(Some((opened_on, conn)));
                return;
            }
            type Tm = <DbConn as Connection>::TransactionManager;
            let ended = Tm::commit_transaction(&mut conn).is_ok()
                || Tm::rollback_transaction(&mut conn).is_ok();
            // A connection whose transaction could not be ended is not used again.
            if ended {
                own.replace(Some((opened_on, conn)));
            }
        });
    }
}
