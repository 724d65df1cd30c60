//! Whether this process's store can take requests (`/readyz`): the database answers, every
//! migration this binary carries is applied, and on SQLite the writer thread runs.

use std::time::Duration;

use thiserror::Error;

/// How long a readiness check waits for a connection: a load balancer's probe has a short
/// timeout of its own, and a database that cannot hand one out this fast is not ready.
pub const CONNECT_WAIT: Duration = Duration::from_secs(2);

/// Why the store is not ready; the text is what `/readyz` answers, so it names no secret
/// (the database URL may carry a password) and says what to do.
#[derive(Debug, Error)]
pub enum NotReady {
    #[error("the database does not answer")]
    Unreachable,
    #[error("{0} database migration(s) pending: run `roster migrate`")]
    MigrationsPending(usize),
    #[error("the SQLite writer thread has stopped: restart the process")]
    WriterGone,
}
