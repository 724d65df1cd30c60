//! Persistence: diesel over SQLite or PostgreSQL. Every query on directory data is scoped by
//! tenant and directory.
//!
//! Lookups by a unique key end in `get_result`, never `first`: `first` adds `LIMIT ?` with the
//! 1 bound as a parameter, and SQLite re-prepares a statement whose LIMIT is a bound parameter
//! every time it is rebound, so a cached statement was parsed and planned again on every call
//! (a quarter of a GET by id's CPU time).

pub mod admin_keys;
pub mod app_keys;
pub mod attribute_index;
mod checkpoint;
pub mod conn;
pub mod console_sessions;
pub mod custom_attributes;
pub mod database_url;
pub mod error;
pub mod events;
pub mod filter;
pub mod google;
pub mod google_external;
pub mod google_seen;
pub mod group_commit;
pub mod groups;
mod handle;
pub mod limits;
pub mod log_file;
pub mod paging;
pub mod pool;
pub mod readiness;
pub mod removal;
pub mod request_log;
pub mod roles;
pub mod schema;
pub mod settings;
pub mod setup_links;
pub mod stats;
pub mod tenancy;
mod thread_conn;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub use conn::DbConn;
pub use error::StoreError;
pub use handle::Store;

/// Whether writers on this database run side by side and so must take row locks in one
/// order: PostgreSQL's do; SQLite's writer is alone.
pub fn locks_rows(conn: &DbConn) -> bool {
    matches!(conn, DbConn::Postgres(_))
}
