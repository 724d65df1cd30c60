//! The one place where the application API's faults become statuses and its error document,
//! `{"error": {"code": "...", "message": "..."}}`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use thiserror::Error;

use crate::delivery::DeliveryError;
use crate::domain::error::DomainError;
use crate::domain::feed::FeedError;

#[derive(Debug, Error)]
pub enum AppError {
    #[error("a valid application key is required (Authorization: Bearer roster_app_...)")]
    Unauthenticated,
    #[error("a valid admin key is required (Authorization: Bearer roster_admin_...)")]
    AdminUnauthenticated,
    /// A valid key used from an address its allow list does not hold.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("this endpoint does not take that method")]
    MethodNotAllowed,
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error(transparent)]
    Google(#[from] crate::google::GoogleError),
    /// A custom attribute's source path that does not parse or names nothing.
    #[error("{0}")]
    SourcePath(#[from] crate::scim::error::ScimError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl AppError {
    fn classify(&self) -> (StatusCode, &'static str) {
        use StatusCode as S;
        let domain = |e: &DomainError| match e {
            DomainError::NotFound { .. } => (S::NOT_FOUND, "not_found"),
            DomainError::UserNameTaken(_) | DomainError::AlreadyExists(_) => {
                (S::CONFLICT, "conflict")
            }
            DomainError::VersionMismatch { .. } => (S::PRECONDITION_FAILED, "precondition_failed"),
            DomainError::UnknownMember(_) | DomainError::Invalid(_) => {
                (S::BAD_REQUEST, "invalid_request")
            }
            DomainError::Store(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
        };
        match self {
            AppError::Unauthenticated | AppError::AdminUnauthenticated => {
                (S::UNAUTHORIZED, "unauthenticated")
            }
            AppError::Forbidden(_) => (S::FORBIDDEN, "forbidden"),
            AppError::BadRequest(_) => (S::BAD_REQUEST, "invalid_request"),
            AppError::NotFound(_) => (S::NOT_FOUND, "not_found"),
            AppError::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "method_not_allowed"),
            AppError::Feed(FeedError::BadCursor(_)) => (S::BAD_REQUEST, "invalid_cursor"),
            AppError::Feed(FeedError::Gone(_)) => (S::GONE, "cursor_expired"),
            AppError::Feed(FeedError::Domain(e)) | AppError::Domain(e) => domain(e),
            AppError::Delivery(e) => match e {
                DeliveryError::NotFound(_) => (S::NOT_FOUND, "not_found"),
                DeliveryError::Target(_) => (S::BAD_REQUEST, "invalid_url"),
                DeliveryError::Invalid(_) => (S::BAD_REQUEST, "invalid_request"),
                DeliveryError::Feed(FeedError::BadCursor(_)) => (S::BAD_REQUEST, "invalid_cursor"),
                DeliveryError::Feed(FeedError::Gone(_)) => (S::GONE, "cursor_expired"),
                DeliveryError::Feed(FeedError::Domain(e)) => domain(e),
                DeliveryError::Store(_) | DeliveryError::Seal(_) => {
                    (S::INTERNAL_SERVER_ERROR, "internal")
                }
            },
            AppError::SourcePath(_) => (S::BAD_REQUEST, "invalid_path"),
            AppError::Google(e) => {
                use crate::domain::sealing::SealError;
                use crate::google::GoogleError as G;
                match e {
                    G::Seal(SealError::NoKey | SealError::BadKey) => {
                        (S::CONFLICT, "server_key_missing")
                    }
                    G::BadKeyFile(_) | G::Invalid(_) => (S::BAD_REQUEST, "invalid_request"),
                    G::NotGoogle(_) => (S::NOT_FOUND, "not_found"),
                    G::Busy(_) => (S::CONFLICT, "conflict"),
                    G::AwaitingCredentials(_) => (S::CONFLICT, "awaiting_credentials"),
                    G::Domain(e) => domain(e),
                    G::InvalidCredentials(_)
                    | G::Api { .. }
                    | G::Transport(_)
                    | G::BadResponse(_)
                    | G::NotFound(_) => (S::BAD_GATEWAY, "google_error"),
                    G::Seal(_) | G::LeaseLost => (S::INTERNAL_SERVER_ERROR, "internal"),
                }
            }
            AppError::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.classify().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.classify();
        // The store's own words may name tables or SQL; the log keeps them, the client gets
        // a plain message.
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "application API request failed");
            "the server could not answer; see its log".to_string()
        } else {
            self.to_string()
        };
        let mut response = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"roster-api\""));
        }
        response.json(json!({"error": {"code": code, "message": message}}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_map_to_statuses_and_codes() {
        let not_found = DomainError::NotFound {
            kind: "token",
            id: "x".into(),
        };
        let cases = [
            (AppError::Unauthenticated, 401, "unauthenticated"),
            (AppError::AdminUnauthenticated, 401, "unauthenticated"),
            (AppError::Forbidden("no".into()), 403, "forbidden"),
            (AppError::BadRequest("no".into()), 400, "invalid_request"),
            (AppError::MethodNotAllowed, 405, "method_not_allowed"),
            (AppError::Domain(not_found), 404, "not_found"),
            (
                AppError::Domain(DomainError::AlreadyExists("a tenant named 'a'".into())),
                409,
                "conflict",
            ),
            (
                AppError::Domain(DomainError::Invalid("no".into())),
                400,
                "invalid_request",
            ),
            (
                AppError::SourcePath(crate::scim::error::ScimError::InvalidPath("no".into())),
                400,
                "invalid_path",
            ),
            (
                AppError::Google(crate::google::GoogleError::AwaitingCredentials("d".into())),
                409,
                "awaiting_credentials",
            ),
            (
                AppError::Google(crate::google::GoogleError::NotGoogle("d".into())),
                404,
                "not_found",
            ),
            (AppError::Internal("boom".into()), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let (s, c) = error.classify();
            assert_eq!((s.as_u16(), c), (status, code), "{error:?}");
        }
    }
}
