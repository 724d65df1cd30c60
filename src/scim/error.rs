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
    #[error("{0}")]
    InvalidCursor(String),
    #[error("{0}")]
    ExpiredCursor(String),
    /// A request the server understands but does not offer (e.g. an unsupported parameter).
    #[error("{0}")]
    NotImplemented(String),
}

impl ScimError {
    /// The same fault with its detail rewritten, e.g. to say where in a request it arose.
    pub fn map_detail(self, f: impl FnOnce(String) -> String) -> ScimError {
        use ScimError as E;
        match self {
            E::InvalidSyntax(m) => E::InvalidSyntax(f(m)),
            E::InvalidValue(m) => E::InvalidValue(f(m)),
            E::InvalidFilter(m) => E::InvalidFilter(f(m)),
            E::InvalidPath(m) => E::InvalidPath(f(m)),
            E::NoTarget(m) => E::NoTarget(f(m)),
            E::Mutability(m) => E::Mutability(f(m)),
            E::TooMany(m) => E::TooMany(f(m)),
            E::InvalidCursor(m) => E::InvalidCursor(f(m)),
            E::ExpiredCursor(m) => E::ExpiredCursor(f(m)),
            E::NotImplemented(m) => E::NotImplemented(f(m)),
        }
    }
}

pub type ScimResult<T> = Result<T, ScimError>;
