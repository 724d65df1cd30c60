use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("bad database URL: {0}")]
    BadUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("no database connection available: {0}")]
    Pool(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    #[error("the write could not be committed: {0}")]
    Commit(String),
    /// A read stopped at the statement timeout (`store::limits`).
    #[error(
        "the query ran past the server's limit of {} ms; narrow the filter or sort by an \
         attribute with fewer values", .0.as_millis()
    )]
    ReadTimedOut(Duration),
    /// A write stopped at the statement timeout (on PostgreSQL, e.g. waiting for a lock).
    #[error("the write ran past the server's limit of {} ms; try again", .0.as_millis())]
    WriteTimedOut(Duration),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl StoreError {
    /// The unique constraint a write violated, if that is what failed.
    pub fn unique_violation(&self) -> Option<&str> {
        match self {
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                info,
            )) => Some(info.constraint_name().unwrap_or(info.message())),
            _ => None,
        }
    }
}
