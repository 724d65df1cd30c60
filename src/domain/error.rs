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

/// Inside a read-modify-write transaction: the domain's own failure, or the caller's `change`
/// closure's, kept apart so callers need not know the store's error types.
pub(crate) enum TxError<E> {
    Domain(DomainError),
    Change(E),
}

impl<E> From<DomainError> for TxError<E> {
    fn from(e: DomainError) -> Self {
        TxError::Domain(e)
    }
}

impl<E> From<StoreError> for TxError<E> {
    fn from(e: StoreError) -> Self {
        TxError::Domain(DomainError::Store(e))
    }
}

impl<E> From<diesel::result::Error> for TxError<E> {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Domain(DomainError::from(e))
    }
}

impl<E: From<DomainError>> TxError<E> {
    pub(crate) fn into_caller(self) -> E {
        match self {
            TxError::Domain(e) => E::from(e),
            TxError::Change(e) => e,
        }
    }
}
