//! Protocol faults the SCIM layer detects in a request. Status codes are decided in `http`.

use thiserror::Error;

/// RFC 7644 §3.12 `scimType` values, plus the faults that carry none.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ScimError {
    #[error("{0}")]
    InvalidSyntax(String),
    #[error("{0}")]
    InvalidValue(String),
    #[error("{0}")]
    InvalidFilter(String),
    #[error("{0}")]
    InvalidPath(String),
    #[error("{0}")]
    NoTarget(String),
    #[error("{0}")]
    Mutability(String),
    #[error("{0}")]
    TooMany(String),
    /// A request the server understands but does not offer (e.g. an unsupported parameter).
    #[error("{0}")]
    NotImplemented(String),
}

pub type ScimResult<T> = Result<T, ScimError>;
