//! The one place where the setup page's faults become statuses and pages. A link that does
//! not open says why (unknown, expired, revoked) and nothing about any directory; 5xx pages
//! are generic, the cause goes to the log only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use thiserror::Error;

use crate::domain::error::DomainError;
use crate::domain::setup_link::Refusal;
use crate::google::GoogleError;

#[derive(Debug, Error)]
pub enum SetupError {
    #[error(
        "This setup link is not valid. Check that you copied all of it, or ask whoever sent it for a new one."
    )]
    Unknown,
    #[error("This setup link has expired. Ask whoever sent it for a new one.")]
    Expired,
    #[error("This setup link was revoked. Ask whoever sent it for a new one.")]
    Revoked,
    /// A form without the link's CSRF token.
    #[error("This form did not come from this setup page; reload the page and try again.")]
    Csrf,
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Google(#[from] GoogleError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<Refusal> for SetupError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Unknown => SetupError::Unknown,
            Refusal::Expired => SetupError::Expired,
            Refusal::Revoked => SetupError::Revoked,
        }
    }
}

impl From<actix_web::error::BlockingError> for SetupError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        SetupError::Internal(e.to_string())
    }
}

impl From<askama::Error> for SetupError {
    fn from(e: askama::Error) -> Self {
        SetupError::Internal(format!("template: {e}"))
    }
}

impl SetupError {
    fn status(&self) -> StatusCode {
        use StatusCode as S;
        match self {
            SetupError::Unknown => S::NOT_FOUND,
            SetupError::Expired | SetupError::Revoked => S::GONE,
            SetupError::Csrf => S::FORBIDDEN,
            SetupError::Domain(DomainError::Invalid(_)) => S::BAD_REQUEST,
            SetupError::Domain(DomainError::NotFound { .. }) => S::NOT_FOUND,
            SetupError::Google(GoogleError::BadKeyFile(_) | GoogleError::Invalid(_)) => {
                S::BAD_REQUEST
            }
            SetupError::Google(GoogleError::Seal(_)) => S::CONFLICT,
            SetupError::Domain(_) | SetupError::Google(_) | SetupError::Internal(_) => {
                S::INTERNAL_SERVER_ERROR
            }
        }
    }
}

#[derive(Template)]
#[template(path = "setup_refused.html")]
struct RefusedPage<'a> {
    status: u16,
    reason: &'a str,
    message: String,
}

impl ResponseError for SetupError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status();
        let message = match self {
            SetupError::Google(GoogleError::Seal(_)) => {
                "The server cannot store the key yet: its operator must configure a server key (ROSTER_SECRET_KEY).".to_string()
            }
            _ if status.is_server_error() => {
                tracing::error!(error = %self, "setup page request failed");
                "The server could not answer. Try again later, or tell whoever sent the link."
                    .to_string()
            }
            _ => self.to_string(),
        };
        let page = RefusedPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message,
        };
        crate::console::error_page(status, &page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_map_to_statuses() {
        let cases = [
            (SetupError::Unknown, 404),
            (SetupError::Expired, 410),
            (SetupError::Revoked, 410),
            (SetupError::Csrf, 403),
            (SetupError::Domain(DomainError::Invalid("no".into())), 400),
            (
                SetupError::Google(GoogleError::BadKeyFile("no".into())),
                400,
            ),
            (SetupError::Internal("boom".into()), 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }
}
