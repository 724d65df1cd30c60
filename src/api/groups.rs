//! `GET /api/v1/groups/{id}` and a group's users, a page at a time.

use actix_web::{HttpRequest, HttpResponse, web};

use super::ApiState;
use super::auth::AppKey;
use super::error::AppError;
use super::page;
use super::params::Params;
use super::schemas::{ErrorBody, GroupRecord, PageQuery, UserPage, UserQuery};
use super::users::user_filter;
use crate::domain::ids::GroupId;
use crate::domain::read;

fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!("group {id} not found"))
}

#[utoipa::path(
    get,
    path = "/groups/{id}",
    operation_id = "get_group",
    params(("id" = String, Path, description = "A group id")),
    responses(
        (status = 200, description = "The group", body = GroupRecord),
        (status = 404, description = "No such group (or soft-deleted), or not one of the key's tenants", body = ErrorBody),
    )
)]
pub async fn get(
    state: web::Data<ApiState>,
    key: AppKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let store = state.store.clone();
    let wanted = GroupId::from_raw(id.as_str());
    let found = web::block(move || read::group(&store, &key.scope, &wanted)).await??;
    let record = found.ok_or_else(|| not_found(&id))?;
    Ok(HttpResponse::Ok().json(record))
}

/// The users directly in the group (nested groups are not expanded), in id order.
#[utoipa::path(
    get,
    path = "/groups/{id}/users",
    operation_id = "list_group_users",
    params(("id" = String, Path, description = "A group id"), UserQuery, PageQuery),
    responses(
        (status = 200, description = "A page of the users directly in the group", body = UserPage),
        (status = 400, description = "A parameter unknown, repeated or out of range (`invalid_request`), or an `after` that is not a cursor (`invalid_cursor`)", body = ErrorBody),
        (status = 404, description = "No such group for this key", body = ErrorBody),
    )
)]
pub async fn users(
    state: web::Data<ApiState>,
    key: AppKey,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let params = Params::of(req.query_string())?;
    params.only(&[
        "state",
        "email",
        "username",
        "updated_after",
        "after",
        "limit",
    ])?;
    let (filter, page) = (user_filter(&params)?, params.page()?);
    let store = state.store.clone();
    let group = GroupId::from_raw(id.as_str());
    let found = web::block(move || -> Result<_, AppError> {
        let scope = read::group_scope(&store, &key.scope, &group)?
            .ok_or_else(|| not_found(group.as_str()))?;
        Ok(read::users_of_group(
            &store, &scope, &group, &filter, &page,
        )?)
    })
    .await??;
    Ok(page::records(&found))
}
