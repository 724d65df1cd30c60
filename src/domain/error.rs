use thiserror::Error;

use crate::store::StoreError;

/// What can go wrong in a domain command, free of HTTP and SQL.
#[derive(Debug, Error)]
pub enum DomainError {
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("userName '{0}' is already taken in this directory")]
    UserNameTaken(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("the resource changed: version {current} does not match the expected {expected}")]
    VersionMismatch { expected: String, current: String },
    #[error("member {0} is not a user or group of this directory")]
    UnknownMember(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for DomainError {
    fn from(e: diesel::result::Error) -> Self {
        DomainError::Store(StoreError::Query(e))
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
