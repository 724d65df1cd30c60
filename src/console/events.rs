//! The events stream, live: the page shows the newest events and a small script long-polls
//! `/admin/events/poll` (session-authenticated, as every console route) for the ones after.

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ConsoleError;
use super::session::SignedIn;
use super::{Chrome, ConsoleState, page};
use crate::domain::app_key::KeyScope;
use crate::domain::feed::{self, Cursor, EventsRequest, FeedError, FeedEvent};

/// Events the page opens with.
const RECENT: i64 = 100;
/// How long one poll waits for an event; below the usual proxy idle timeouts.
const WAIT: Duration = Duration::from_secs(25);

/// An event as the page lists it.
#[derive(Serialize)]
struct EventRow {
    cursor: String,
    event_type: String,
    created_at: String,
    directory_id: String,
    /// Whom or what it is about: a user's userName, a group's name, ...
    subject: String,
}

impl EventRow {
    fn of(e: &FeedEvent) -> EventRow {
        let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
        let subject = ["username", "name", "id"]
            .iter()
            .find_map(|k| data[*k].as_str())
            .unwrap_or_default()
            .to_string();
        EventRow {
            cursor: e.cursor.clone(),
            event_type: e.event_type.clone(),
            created_at: e.created_at.clone(),
            directory_id: e.directory_id.clone(),
            subject,
        }
    }
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    directory: String,
    events: Vec<EventRow>,
    after: String,
}

#[derive(Deserialize)]
pub struct EventsQuery {
    directory: Option<String>,
    after: Option<String>,
}

async fn request(
    state: &web::Data<ConsoleState>,
    signed: &SignedIn,
    query: &EventsQuery,
    after: Option<Cursor>,
    limit: i64,
) -> Result<EventsRequest, ConsoleError> {
    let directory_id = match query.directory.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => Some(super::directory(state, &signed.scope(), d).await?.id),
        None => None,
    };
    Ok(EventsRequest {
        after,
        limit,
        types: None,
        tenant_ids: match signed.scope() {
            KeyScope::AllTenants => None,
            KeyScope::Tenant(t) => Some(vec![t]),
        },
        directory_id,
    })
}

pub async fn stream(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let store = state.store.clone();
    let newest = web::block(move || feed::newest(&store)).await??;
    let start = Cursor::at((newest.position() - RECENT).max(0));
    let asked = request(&state, &signed, &query, Some(start), RECENT).await?;
    let store = state.store.clone();
    let found = web::block(move || match feed::read(&store, &asked) {
        // Older events were pruned: the oldest retained ones are as recent as there are.
        Err(FeedError::Gone(_)) => feed::read(
            &store,
            &EventsRequest {
                after: None,
                ..asked
            },
        ),
        other => other,
    })
    .await??;
    let mut events: Vec<EventRow> = found.data.iter().map(EventRow::of).collect();
    events.reverse();
    page(&EventsPage {
        chrome: Chrome::of(&signed, "events"),
        directory: query.directory.clone().unwrap_or_default(),
        events,
        after: found.next_after,
    })
}

#[derive(Serialize)]
struct Polled {
    events: Vec<EventRow>,
    after: String,
}

pub async fn poll(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let after = query
        .after
        .as_deref()
        .map(Cursor::parse)
        .transpose()?
        .ok_or_else(|| ConsoleError::BadRequest("'after' is required".into()))?;
    let asked = request(&state, &signed, &query, Some(after), RECENT).await?;
    let deadline = Instant::now() + WAIT;
    let mut commits = state.store.feed_changes();
    loop {
        // Marked seen before the read: a commit after this point wakes the wait below.
        commits.borrow_and_update();
        let (store, asked) = (state.store.clone(), asked.clone());
        let found = web::block(move || feed::read(&store, &asked)).await??;
        let now = Instant::now();
        if !found.data.is_empty() || now >= deadline {
            return Ok(HttpResponse::Ok().json(Polled {
                events: found.data.iter().map(EventRow::of).collect(),
                after: found.next_after,
            }));
        }
        // Another instance's commits wake nobody here: look again every second at least.
        let nap = Duration::from_secs(1).min(deadline - now);
        let _ = tokio::time::timeout(nap, commits.changed()).await;
    }
}
