//! `/api/v1/admin/directories/{id}/requests`: a directory's request log, with the filters of
//! `roster log list` (`since`, `until`, `status`, `limit`), and one entry in full as
//! `roster log show` prints it.

use actix_web::{HttpRequest, HttpResponse, web};

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::error::AppError;
use crate::api::params::Params;
use crate::api::schemas::{ErrorBody, RequestSummaryList};
use crate::domain::clock;
use crate::domain::request_log::{self, Entry, LogQuery};

#[utoipa::path(
    get,
    path = "/directories/{id}/requests",
    operation_id = "list_requests",
    params(
        ("id" = String, Path, description = "A directory id"),
        ("since" = Option<String>, Query, description = "An RFC 3339 time, or how long ago: `30m`, `7d`"),
        ("until" = Option<String>, Query, description = "An RFC 3339 time, or how long ago"),
        ("status" = Option<String>, Query, description = "A status (`404`) or a class (`4xx`)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "The latest entries that match, oldest first; 50 by default"),
    ),
    responses(
        (status = 200, description = "The directory's request log", body = RequestSummaryList),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 404, description = "No such directory for this key", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    let params = Params::of(req.query_string())?;
    let now = clock::now();
    let when = |name: &str| {
        params
            .text(name)
            .map(|t| request_log::parse_when(t, now))
            .transpose()
            .map_err(|e| AppError::BadRequest(format!("{name}: {e}")))
    };
    let query = LogQuery {
        since: when("since")?,
        until: when("until")?,
        status: params
            .text("status")
            .map(str::parse)
            .transpose()
            .map_err(|e| AppError::BadRequest(format!("status: {e}")))?,
        limit: Some(params.int("limit", 1, 1000, 50)?),
        latest: true,
        ..LogQuery::default()
    };
    let store = state.store.clone();
    let entries = web::block(move || request_log::list(&store, &d.id, &query)).await??;
    Ok(listed(
        entries.iter().map(Entry::summary).collect::<Vec<_>>(),
    ))
}

#[utoipa::path(
    get,
    path = "/directories/{id}/requests/{entry_id}",
    operation_id = "get_request",
    params(("id" = String, Path, description = "A directory id"), ("entry_id" = i64, Path, description = "A request log entry id")),
    responses(
        (status = 200, description = "The entry with its redacted headers and bodies", body = Entry),
        (status = 404, description = "No such directory or entry for this key", body = ErrorBody),
    )
)]
pub async fn get(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (directory, entry) = path.into_inner();
    let d = auth::directory(&state, key.scope(), &directory).await?;
    let not_found = || AppError::NotFound(format!("request log entry {entry} not found"));
    let wanted: i64 = entry.parse().map_err(|_| not_found())?;
    let store = state.store.clone();
    let found = web::block(move || request_log::get(&store, wanted)).await??;
    if found.exchange.directory_id != d.id {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(found))
}
