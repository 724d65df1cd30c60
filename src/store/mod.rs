//! Persistence: diesel over SQLite or PostgreSQL. Every query on directory data is scoped by
//! tenant and directory.

pub mod attribute_index;
pub mod conn;
pub mod error;
pub mod events;
pub mod filter;
pub mod groups;
pub mod request_log;
pub mod schema;
pub mod settings;
pub mod tenancy;
pub mod tokens;
pub mod users;

pub use conn::{DbConn, Store};
pub use error::StoreError;
