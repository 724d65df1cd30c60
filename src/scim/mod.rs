//! SCIM 2.0 wire protocol (RFC 7643/7644): schemas, resource documents, filters, PATCH, lists.

pub mod bulk;
pub mod cursor;
pub mod discovery;
pub mod error;
pub mod filter;
mod filter_eval;
pub mod group;
pub mod index;
pub mod list;
pub mod meta;
pub mod operations;
pub mod patch;
pub mod resource;
pub mod schema;
pub mod secret;
pub mod source_path;
pub mod user;
pub mod verbatim;
