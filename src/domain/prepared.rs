//! A change's own work (a PATCH's operations and the re-validation of their result) done
//! before its write begins, on a read of the row. SQLite runs every tenant's writes through
//! one writer, and on PostgreSQL every write waits, before it is acknowledged, for the
//! transactions that began before its own to end (the feed's commit order, docs/events.md):
//! on either, a 1,000-operation PATCH computed inside its transaction would stall every
//! tenant's writes. The write uses the prepared result only when the row's version is still
//! the one it was prepared from; when a concurrent writer came between, it runs the change
//! again on the row it locked, so the answer is the same as if nothing had been prepared.

use super::group::DirectoryGroup;
use super::user::DirectoryUser;
use crate::store::{DbConn, Store, StoreError};

/// A row that carries the version every write of it increments.
pub(crate) trait Versioned {
    fn version(&self) -> i64;
}

impl Versioned for DirectoryUser {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Versioned for DirectoryGroup {
    fn version(&self) -> i64 {
        self.version
    }
}

/// A change's result and the version of the row it was computed from.
pub(crate) struct Prepared<T>(Option<(i64, T)>);

impl<T> Prepared<T> {
    /// The prepared result, when the row is still at the version it was prepared from.
    pub(crate) fn take_for(&mut self, version: i64) -> Option<T> {
        match self.0.take() {
            Some((from, result)) if from == version => Some(result),
            _ => None,
        }
    }
}

/// Runs `change` on the row as `read` finds it, outside any write. A row not found, a read
/// that fails or a change that fails prepare nothing: the write then meets the same case on
/// the row it locks and answers it as it always has.
pub(crate) fn prepare<R: Versioned, T, E>(
    store: &Store,
    read: impl FnOnce(&mut DbConn) -> Result<Option<R>, StoreError>,
    change: &mut impl FnMut(&R) -> Result<T, E>,
) -> Prepared<T> {
    let prepared = match store.read(read) {
        Ok(Some(row)) => change(&row).ok().map(|result| (row.version(), result)),
        _ => None,
    };
    Prepared(prepared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prepared_result_is_used_only_at_its_version() {
        for (prepared_at, locked_at, used) in [(3, 3, true), (3, 4, false), (4, 3, false)] {
            let mut p = Prepared(Some((prepared_at, "result")));
            assert_eq!(p.take_for(locked_at).is_some(), used);
            assert_eq!(p.take_for(prepared_at), None, "taken once at most");
        }
    }
}
