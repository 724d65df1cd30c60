//! SCIM 2.0 wire protocol (RFC 7643/7644): schemas, resource documents, filters, PATCH, lists.

pub mod error;
pub mod schema;
pub mod filter;
pub mod index;
