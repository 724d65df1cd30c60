//! The one place where faults become HTTP statuses and SCIM error documents (RFC 7644 §3.12).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use thiserror::Error;

use crate::domain::error::DomainError;
use crate::google::watch::NotificationError;
use crate::scim::error::ScimError;
use crate::scim::operations::OperationError;
use crate::scim::schema::ERROR_SCHEMA;
use crate::store::StoreError;

use super::response::SCIM_CONTENT_TYPE;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error(transparent)]
    Scim(#[from] ScimError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("a valid bearer token is required")]
    Unauthenticated,
    #[error(transparent)]
    PushNotification(#[from] NotificationError),
    #[error("{0}")]
    NotFound(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request's header fields are larger than {0} bytes")]
    HeadersTooLarge(usize),
    /// A bulk request over `bulk.maxOperations` (RFC 7644 §3.7.4).
    #[error("{0}")]
    TooManyOperations(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Over the directory's rate limit; the wait is answered in `Retry-After`.
    #[error("too many requests for this directory; retry after {} s", retry_after_seconds(*.0))]
    RateLimited(std::time::Duration),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<OperationError> for ApiError {
    fn from(e: OperationError) -> Self {
        match e {
            OperationError::Scim(e) => ApiError::Scim(e),
            OperationError::Domain(e) => ApiError::Domain(e),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ApiError {
    /// Status and `scimType`.
    fn classify(&self) -> (StatusCode, Option<&'static str>) {
        use StatusCode as S;
        match self {
            ApiError::Scim(e) => match e {
                ScimError::InvalidSyntax(_) => (S::BAD_REQUEST, Some("invalidSyntax")),
                ScimError::InvalidValue(_) => (S::BAD_REQUEST, Some("invalidValue")),
                ScimError::InvalidFilter(_) => (S::BAD_REQUEST, Some("invalidFilter")),
                ScimError::InvalidPath(_) => (S::BAD_REQUEST, Some("invalidPath")),
                ScimError::NoTarget(_) => (S::BAD_REQUEST, Some("noTarget")),
                ScimError::Mutability(_) => (S::BAD_REQUEST, Some("mutability")),
                ScimError::TooMany(_) => (S::BAD_REQUEST, Some("tooMany")),
                ScimError::InvalidCursor(_) => (S::BAD_REQUEST, Some("invalidCursor")),
                ScimError::ExpiredCursor(_) => (S::BAD_REQUEST, Some("expiredCursor")),
                ScimError::NotImplemented(_) => (S::NOT_IMPLEMENTED, None),
            },
            ApiError::Domain(e) => match e {
                DomainError::NotFound { .. } => (S::NOT_FOUND, None),
                DomainError::UserNameTaken(_) | DomainError::AlreadyExists(_) => {
                    (S::CONFLICT, Some("uniqueness"))
                }
                DomainError::VersionMismatch { .. } => (S::PRECONDITION_FAILED, None),
                DomainError::UnknownMember(_) | DomainError::Invalid(_) => {
                    (S::BAD_REQUEST, Some("invalidValue"))
                }
                // A read the client shaped (filter, sortBy) that ran past the statement
                // timeout: asking again will not help, a narrower query will (RFC 7644
                // §3.12: more than the server is willing to calculate).
                DomainError::Store(StoreError::ReadTimedOut(_)) => {
                    (S::BAD_REQUEST, Some("tooMany"))
                }
                // A write is bounded by what it changes: past the limit it was held up
                // (a lock, a busy server) and may pass later.
                DomainError::Store(StoreError::WriteTimedOut(_)) => (S::SERVICE_UNAVAILABLE, None),
                DomainError::Store(_) => (S::INTERNAL_SERVER_ERROR, None),
            },
            ApiError::Unauthenticated => (S::UNAUTHORIZED, None),
            ApiError::PushNotification(e) => match e {
                NotificationError::UnknownChannel => (S::UNAUTHORIZED, None),
                NotificationError::Google(_) => (S::INTERNAL_SERVER_ERROR, None),
            },
            ApiError::NotFound(_) => (S::NOT_FOUND, None),
            ApiError::PayloadTooLarge(_) => (S::PAYLOAD_TOO_LARGE, None),
            ApiError::HeadersTooLarge(_) => (S::REQUEST_HEADER_FIELDS_TOO_LARGE, None),
            ApiError::TooManyOperations(_) => (S::PAYLOAD_TOO_LARGE, Some("tooMany")),
            ApiError::MethodNotAllowed(_) => (S::METHOD_NOT_ALLOWED, None),
            ApiError::RateLimited(_) => (S::TOO_MANY_REQUESTS, None),
            ApiError::Internal(_) => (S::INTERNAL_SERVER_ERROR, None),
        }
    }
}

impl ApiError {
    /// The status and SCIM error document for this fault. Causes of server faults are logged,
    /// never sent: no database text reaches a client.
    pub fn document(&self) -> (StatusCode, serde_json::Value) {
        let (status, scim_type) = self.classify();
        let says_why = [StatusCode::NOT_IMPLEMENTED, StatusCode::SERVICE_UNAVAILABLE];
        let detail = if status.is_server_error() && !says_why.contains(&status) {
            tracing::error!(error = %self, "request failed");
            "internal server error".to_string()
        } else {
            self.to_string()
        };
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": status.as_u16().to_string(),
            "detail": detail,
        });
        if let (Some(t), Some(obj)) = (scim_type, body.as_object_mut()) {
            obj.insert("scimType".into(), json!(t));
        }
        (status, body)
    }
}

/// What a 503 asks the client to wait before trying again.
const RETRY_AFTER_SECONDS: u64 = 5;

/// `Retry-After` takes whole seconds: a wait is rounded up, so a client that honours it finds
/// the bucket refilled.
fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.classify().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, body) = self.document();
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE));
        // Google's notifications carry no bearer token; SCIM clients must send one.
        if matches!(self, ApiError::Unauthenticated) {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"roster\", error=\"invalid_token\"",
            ));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()));
        }
        if let ApiError::RateLimited(wait) = self {
            response.insert_header((header::RETRY_AFTER, retry_after_seconds(*wait).to_string()));
        }
        response.body(body.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn faults_map_to_status_and_scim_type() {
        let cases: Vec<(ApiError, u16, Option<&str>)> = vec![
            (
                ScimError::InvalidSyntax("x".into()).into(),
                400,
                Some("invalidSyntax"),
            ),
            (
                ScimError::InvalidValue("x".into()).into(),
                400,
                Some("invalidValue"),
            ),
            (
                ScimError::InvalidFilter("x".into()).into(),
                400,
                Some("invalidFilter"),
            ),
            (
                ScimError::InvalidPath("x".into()).into(),
                400,
                Some("invalidPath"),
            ),
            (
                ScimError::NoTarget("x".into()).into(),
                400,
                Some("noTarget"),
            ),
            (
                ScimError::Mutability("x".into()).into(),
                400,
                Some("mutability"),
            ),
            (
                DomainError::UserNameTaken("a".into()).into(),
                409,
                Some("uniqueness"),
            ),
            (
                DomainError::NotFound {
                    kind: "User",
                    id: "1".into(),
                }
                .into(),
                404,
                None,
            ),
            (
                DomainError::VersionMismatch {
                    expected: "1".into(),
                    current: "2".into(),
                }
                .into(),
                412,
                None,
            ),
            (ApiError::Unauthenticated, 401, None),
            (NotificationError::UnknownChannel.into(), 401, None),
            (
                NotificationError::Google(crate::google::GoogleError::Seal(
                    crate::domain::sealing::SealError::NoKey,
                ))
                .into(),
                500,
                None,
            ),
            (ApiError::PayloadTooLarge(10), 413, None),
            (ApiError::HeadersTooLarge(10), 431, None),
            (
                ApiError::TooManyOperations("x".into()),
                413,
                Some("tooMany"),
            ),
            (ApiError::MethodNotAllowed("x".into()), 405, None),
            (
                ApiError::RateLimited(Duration::from_millis(1500)),
                429,
                None,
            ),
            (
                DomainError::Store(StoreError::Connect("secret detail".into())).into(),
                500,
                None,
            ),
            (
                DomainError::Store(StoreError::ReadTimedOut(Duration::from_secs(10))).into(),
                400,
                Some("tooMany"),
            ),
            (
                DomainError::Store(StoreError::WriteTimedOut(Duration::from_secs(10))).into(),
                503,
                None,
            ),
        ];
        for (error, status, scim_type) in cases {
            let (s, t) = error.classify();
            assert_eq!((s.as_u16(), t), (status, scim_type), "{error:?}");
        }
    }

    #[test]
    fn a_write_past_the_limit_says_so_and_when_to_retry() {
        let error = ApiError::from(DomainError::Store(StoreError::WriteTimedOut(
            Duration::from_millis(2500),
        )));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).unwrap(),
            &RETRY_AFTER_SECONDS.to_string()
        );
        assert!(
            error.document().1["detail"]
                .as_str()
                .unwrap()
                .contains("2500 ms")
        );
    }
}
