//! The one place where the console's faults become statuses and pages. 5xx pages are generic;
//! the cause goes to the log only.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use thiserror::Error;

use crate::delivery::DeliveryError;
use crate::domain::error::DomainError;
use crate::domain::feed::FeedError;

#[derive(Debug, Error)]
pub enum ConsoleError {
    /// No live session: the browser is sent to the sign-in page.
    #[error("sign in first")]
    SignInRequired,
    /// A form without its session's CSRF token.
    #[error(
        "this form has expired or did not come from the console; reload the page and try again"
    )]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<actix_web::error::BlockingError> for ConsoleError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ConsoleError::Internal(e.to_string())
    }
}

impl From<askama::Error> for ConsoleError {
    fn from(e: askama::Error) -> Self {
        ConsoleError::Internal(format!("template: {e}"))
    }
}

impl ConsoleError {
    fn status(&self) -> StatusCode {
        use StatusCode as S;
        let domain = |e: &DomainError| match e {
            DomainError::NotFound { .. } => S::NOT_FOUND,
            DomainError::UserNameTaken(_) | DomainError::AlreadyExists(_) => S::CONFLICT,
            DomainError::VersionMismatch { .. } => S::CONFLICT,
            DomainError::UnknownMember(_) | DomainError::Invalid(_) => S::BAD_REQUEST,
            DomainError::Store(_) => S::INTERNAL_SERVER_ERROR,
        };
        match self {
            ConsoleError::SignInRequired => S::SEE_OTHER,
            ConsoleError::Csrf => S::FORBIDDEN,
            ConsoleError::BadRequest(_) => S::BAD_REQUEST,
            ConsoleError::NotFound(_) => S::NOT_FOUND,
            ConsoleError::Domain(e) | ConsoleError::Feed(FeedError::Domain(e)) => domain(e),
            ConsoleError::Feed(FeedError::BadCursor(_)) => S::BAD_REQUEST,
            ConsoleError::Feed(FeedError::Gone(_)) => S::GONE,
            ConsoleError::Delivery(e) => match e {
                DeliveryError::NotFound(_) => S::NOT_FOUND,
                DeliveryError::Target(_) | DeliveryError::Invalid(_) => S::BAD_REQUEST,
                DeliveryError::Feed(FeedError::BadCursor(_)) => S::BAD_REQUEST,
                DeliveryError::Feed(FeedError::Gone(_)) => S::GONE,
                DeliveryError::Feed(FeedError::Domain(e)) => domain(e),
                DeliveryError::Store(_) | DeliveryError::Seal(_) => S::INTERNAL_SERVER_ERROR,
            },
            ConsoleError::Internal(_) => S::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: String,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status();
        if status == StatusCode::SEE_OTHER {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, super::SIGN_IN_PATH))
                .finish();
        }
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "console request failed");
            "the server could not answer; see its log".to_string()
        } else {
            self.to_string()
        };
        let page = ErrorPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message,
        };
        super::error_page(status, &page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_map_to_statuses() {
        let cases = [
            (ConsoleError::SignInRequired, 303),
            (ConsoleError::Csrf, 403),
            (ConsoleError::BadRequest("no".into()), 400),
            (ConsoleError::NotFound("no".into()), 404),
            (
                ConsoleError::Domain(DomainError::AlreadyExists("a tenant named 'a'".into())),
                409,
            ),
            (ConsoleError::Domain(DomainError::Invalid("no".into())), 400),
            (ConsoleError::Internal("boom".into()), 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }
}
