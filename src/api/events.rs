//! `GET /api/v1/events`: a page of the feed after a cursor, optionally waiting for one.

use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};

use super::ApiState;
use super::auth::AppKey;
use super::error::AppError;
use super::params::Params;
use super::schemas::{ErrorBody, EventsPage};
use crate::domain::app_key::KeyScope;
use crate::domain::event::EventKind;
use crate::domain::feed::{self, Cursor, EventsRequest};

pub const MAX_WAIT_SECS: i64 = 30;

/// How often a waiting request looks again without being woken: a write committed by another
/// instance on the same PostgreSQL wakes nobody here, so this bounds how late it is seen.
/// On one instance the wait ends as soon as the commit wakes it.
fn poll_every(state: &ApiState) -> Duration {
    if state.store.reads_in_place() {
        Duration::from_secs(1)
    } else {
        Duration::from_millis(200)
    }
}

fn parse_types(text: &str) -> Result<Vec<EventKind>, AppError> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            EventKind::parse(t).ok_or_else(|| {
                let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                AppError::BadRequest(format!(
                    "unknown event type '{}' in 'types'; known types: {}",
                    t.chars().take(60).collect::<String>(),
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// The feed after a cursor, oldest first; with `wait`, waits for an event to commit.
#[utoipa::path(
    get,
    path = "/events",
    operation_id = "list_events",
    params(
        ("after" = Option<String>, Query, description = "The cursor to read after; absent: from the oldest retained event"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "Events per page, 100 by default"),
        ("types" = Option<String>, Query, description = "Comma-separated event types (`Event.type`)", example = "user.created,user.deactivated"),
        ("directory_id" = Option<String>, Query, description = "Only this directory's events"),
        ("tenant_id" = Option<String>, Query, description = "Only this tenant's events"),
        ("wait" = Option<i64>, Query, minimum = 0, maximum = 30, description = "Seconds to wait for an event when none matches yet"),
    ),
    responses(
        (status = 200, description = "A page of events", body = EventsPage),
        (status = 400, description = "A parameter unknown, repeated or out of range (`invalid_request`), or an `after` that is not a cursor (`invalid_cursor`)", body = ErrorBody),
        (status = 404, description = "A `directory_id` or `tenant_id` the key may not read", body = ErrorBody),
        (status = 410, description = "`after` is older than the oldest retained event (`cursor_expired`): start again from a snapshot", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<ApiState>,
    key: AppKey,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let params = Params::of(req.query_string())?;
    // A misspelt filter must not widen the answer to the whole feed.
    params.only(&[
        "after",
        "limit",
        "types",
        "directory_id",
        "tenant_id",
        "wait",
    ])?;
    let limit = params.int("limit", 1, feed::MAX_LIMIT, feed::DEFAULT_LIMIT)?;
    let wait = params.int("wait", 0, MAX_WAIT_SECS, 0)?;
    let after = params.text("after").map(Cursor::parse).transpose()?;
    let types = params.text("types").map(parse_types).transpose()?;
    let mut tenant_ids = match &key.scope {
        KeyScope::AllTenants => None,
        KeyScope::Tenant(t) => Some(vec![t.clone()]),
    };
    if let Some(t) = params.text("tenant_id") {
        tenant_ids = Some(vec![key.tenant(&state, t).await?]);
    }
    let mut directory_id = None;
    if let Some(d) = params.text("directory_id") {
        let (directory, tenant) = key.feed_directory(&state, d).await?;
        if tenant_ids.as_ref().is_some_and(|ts| !ts.contains(&tenant)) {
            return Err(AppError::NotFound(format!("directory {d} not found")));
        }
        directory_id = Some(directory);
    }
    let request = EventsRequest {
        after,
        limit,
        types,
        tenant_ids,
        directory_id,
    };
    let deadline = Instant::now() + Duration::from_secs(wait as u64);
    let mut commits = state.store.feed_changes();
    loop {
        // Marked seen before the read: a commit after this point wakes the wait below.
        commits.borrow_and_update();
        let (store, asked) = (state.store.clone(), request.clone());
        let page = web::block(move || feed::read(&store, &asked)).await??;
        let now = Instant::now();
        if !page.data.is_empty() || now >= deadline {
            return Ok(HttpResponse::Ok()
                .content_type("application/json")
                .body(page.to_json()));
        }
        let nap = poll_every(&state).min(deadline - now);
        let _ = tokio::time::timeout(nap, commits.changed()).await;
    }
}
