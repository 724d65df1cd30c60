//! `/api/v1/admin/directories/{id}/requests`: a directory's request log, with the filters of
//! `roster log list` (`since`, `until`, `status`, `limit`), and one entry in full as
//! `roster log show` prints it.

use actix_web::{HttpRequest, HttpResponse, web};

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::error::AppError;
use crate::api::params::Params;
use crate::domain::clock;
use crate::domain::request_log::{self, Entry, LogQuery};

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
