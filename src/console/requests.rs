//! A directory's request log: the newest SCIM exchanges, narrowed by status, older pages by
//! id; and the same selection exported as a replay sequence (`roster replay`), as
//! `roster log export` writes it.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::error::ConsoleError;
use super::session::SignedIn;
use super::{Chrome, ConsoleState, page};
use crate::domain::clock::{self, rfc3339};
use crate::domain::request_log::{self, Entry, LogQuery, StatusFilter};
use crate::replay::export;

/// Entries per page.
const PAGE: i64 = 100;
/// The most entries one export holds; narrow by status or page for more.
const EXPORT_MAX: i64 = 10_000;

struct EntryRow {
    id: i64,
    received_at: String,
    method: String,
    path: String,
    status: u16,
    failed: bool,
    duration_ms: String,
}

impl EntryRow {
    fn of(e: &Entry) -> EntryRow {
        let x = &e.exchange;
        let path = if x.query.is_empty() {
            x.path.clone()
        } else {
            format!("{}?{}", x.path, x.query)
        };
        EntryRow {
            id: e.id,
            received_at: rfc3339(x.received_at),
            method: x.method.clone(),
            path,
            status: x.status,
            failed: x.status >= 400,
            duration_ms: format!("{:.1}", x.duration_us as f64 / 1000.0),
        }
    }
}

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsPage {
    chrome: Chrome,
    directory_id: String,
    directory_name: String,
    status: String,
    statuses: [&'static str; 5],
    entries: Vec<EntryRow>,
    older: Option<String>,
}

#[derive(Deserialize)]
pub struct RequestsQuery {
    /// `4xx`, `404`, ...; empty for every status.
    status: Option<String>,
    /// Entries up to this id (the older page).
    before: Option<i64>,
}

fn status_filter(text: &str) -> Result<Option<StatusFilter>, ConsoleError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(text.parse()?))
}

pub async fn list(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
    id: web::Path<String>,
    query: web::Query<RequestsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let d = super::directory(&state, &signed.scope(), &id).await?;
    let status = query.status.clone().unwrap_or_default();
    let wanted = LogQuery {
        status: status_filter(&status)?,
        to_id: query.before.map(|b| b - 1),
        limit: Some(PAGE),
        latest: true,
        ..LogQuery::default()
    };
    let (store, directory) = (state.store.clone(), d.id.clone());
    let mut entries = web::block(move || request_log::list(&store, &directory, &wanted)).await??;
    // Newest first on the page; the query answers oldest first.
    entries.reverse();
    let older = (entries.len() as i64 == PAGE)
        .then(|| {
            entries
                .last()
                .map(|e| format!("status={status}&before={}", e.id))
        })
        .flatten();
    page(&RequestsPage {
        chrome: Chrome::of(&signed, "directories"),
        directory_id: d.id.to_string(),
        directory_name: d.name.clone(),
        statuses: ["2xx", "3xx", "4xx", "5xx", "429"],
        entries: entries.iter().map(EntryRow::of).collect(),
        status,
        older,
    })
}

#[derive(Deserialize)]
pub struct ExportQuery {
    status: Option<String>,
}

pub async fn export(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
    id: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let d = super::directory(&state, &signed.scope(), &id).await?;
    let wanted = LogQuery {
        status: status_filter(query.status.as_deref().unwrap_or_default())?,
        limit: Some(EXPORT_MAX),
        latest: true,
        ..LogQuery::default()
    };
    let (store, dir) = (state.store.clone(), d.clone());
    let entries = web::block(move || request_log::list(&store, &dir.id, &wanted)).await??;
    let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
        return Err(ConsoleError::NotFound(format!(
            "no recorded requests of directory {} match",
            d.name
        )));
    };
    let name = format!("{}-{}-{}", d.name, first.id, last.id);
    let description = format!(
        "Exported from the request log of directory {} ({}) in the console: entries {} to {}, \
         {} to {}",
        d.name,
        d.id,
        first.id,
        last.id,
        clock::rfc3339(first.exchange.received_at),
        clock::rfc3339(last.exchange.received_at)
    );
    let exported = export::sequence(&name, d.kind.as_str(), &description, &entries);
    let body = serde_json::to_string_pretty(&exported.sequence)
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.json\""),
        ))
        .body(body + "\n"))
}
