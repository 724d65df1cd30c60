//! The page's live status, polled by its script: whether the IdP has connected, and its first
//! requests since the link was made (the test connection among them) with what each answer
//! means for the IT admin. Only methods, paths, statuses and times: never bodies or headers.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::error::SetupError;
use super::open;
use crate::console::ConsoleState;
use crate::domain::clock::rfc3339;
use crate::domain::directory_state::{self, DirectoryState};
use crate::domain::request_log::{self, LogQuery};

/// The first requests shown; enough for a test connection and a first push.
const SHOWN: i64 = 10;

#[derive(Serialize)]
struct Seen {
    at: String,
    method: String,
    path: String,
    status: u16,
    meaning: &'static str,
}

#[derive(Serialize)]
struct Status {
    /// The directory's state (`linked` after its first accepted SCIM request or sync).
    state: DirectoryState,
    /// When the IdP's first request since the link was made arrived.
    first_request_at: Option<String>,
    requests: Vec<Seen>,
    /// A Google directory's sync status.
    google_status: Option<String>,
    google_error: Option<String>,
}

/// What an answer means to someone setting up their IdP.
pub fn meaning(method: &str, status: u16) -> &'static str {
    match status {
        200..=299 => "accepted",
        401 => "refused: the token is wrong; paste it again exactly as shown",
        404 if method == "GET" => {
            "not found: normal for a test connection, which looks up a user that does not exist"
        }
        409 => "conflict: a user or group with that name exists already",
        400..=499 => "refused: Roster could not accept this request; tell whoever sent the link",
        _ => "Roster failed to answer; tell whoever sent the link",
    }
}

pub async fn status(
    state: web::Data<ConsoleState>,
    secret: web::Path<String>,
) -> Result<HttpResponse, SetupError> {
    let link = open(&state, &secret).await?;
    let store = state.store.clone();
    let (summary, entries, google) = web::block(move || -> Result<_, SetupError> {
        let dir = &link.directory;
        let summary = directory_state::summary(&store, dir)?;
        let query = LogQuery {
            since: Some(link.info.created_at),
            limit: Some(SHOWN),
            ..LogQuery::default()
        };
        let entries = request_log::list(&store, &dir.id, &query)?;
        let google = match dir.kind {
            crate::domain::tenancy::DirectoryKind::Google => {
                Some(crate::google::settings(&store, dir)?)
            }
            _ => None,
        };
        Ok((summary, entries, google))
    })
    .await??;
    let requests: Vec<Seen> = entries
        .iter()
        .map(|e| {
            let x = &e.exchange;
            let path = if x.query.is_empty() {
                x.path.clone()
            } else {
                format!("{}?{}", x.path, x.query)
            };
            Seen {
                at: rfc3339(x.received_at),
                method: x.method.clone(),
                path,
                status: x.status,
                meaning: meaning(&x.method, x.status),
            }
        })
        .collect();
    let first_request_at = requests.first().map(|r| r.at.clone()).or_else(|| {
        // With the request log off, the directory's activation still says the IdP connected.
        summary
            .activated_at
            .clone()
            .filter(|_| summary.state == DirectoryState::Linked)
    });
    Ok(HttpResponse::Ok().json(Status {
        state: summary.state,
        first_request_at,
        requests,
        google_status: google.as_ref().map(|g| g.status.clone()),
        google_error: google.and_then(|g| g.last_error),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_explained() {
        let cases = [
            ("GET", 200, "accepted"),
            ("POST", 201, "accepted"),
            ("GET", 401, "token is wrong"),
            ("GET", 404, "normal for a test connection"),
            ("DELETE", 404, "could not accept"),
            ("POST", 409, "exists already"),
            ("POST", 500, "failed"),
        ];
        for (method, status, words) in cases {
            assert!(meaning(method, status).contains(words), "{method} {status}");
        }
    }
}
