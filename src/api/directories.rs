//! `GET /api/v1/directories[/{id}]`, and a directory's users and groups.

use actix_web::{HttpRequest, HttpResponse, web};

use super::ApiState;
use super::auth::AppKey;
use super::error::AppError;
use super::page;
use super::params::Params;
use super::schemas::{DirectoryPage, ErrorBody, GroupPage, PageQuery, UserPage, UserQuery};
use super::users::{custom_filter, user_filter};
use crate::domain::directory_state::{self, DirectorySummary};
use crate::domain::ids::{GroupId, UserId};
use crate::domain::read;

#[utoipa::path(
    get,
    path = "/directories",
    operation_id = "list_directories",
    params(
        ("tenant_id" = Option<String>, Query, description = "One of the key's tenants"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of directories", body = DirectoryPage),
        (status = 400, description = "A parameter unknown, repeated or out of range (`invalid_request`), or an `after` that is not a cursor (`invalid_cursor`)", body = ErrorBody),
        (status = 404, description = "A `tenant_id` the key may not read", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<ApiState>,
    key: AppKey,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let params = Params::of(req.query_string())?;
    params.only(&["tenant_id", "after", "limit"])?;
    let page = params.page()?;
    let tenant = match params.text("tenant_id") {
        Some(t) => Some(key.tenant(&state, t).await?),
        None => None,
    };
    let store = state.store.clone();
    let (data, next_after) =
        web::block(move || directory_state::summaries(&store, &key.scope, tenant.as_ref(), &page))
            .await??;
    Ok(page::respond(&data, next_after.as_deref()))
}

#[utoipa::path(
    get,
    path = "/directories/{id}",
    operation_id = "get_directory",
    params(("id" = String, Path, description = "A directory id")),
    responses(
        (status = 200, description = "The directory, with its state and counts", body = DirectorySummary),
        (status = 404, description = "No such directory, or not one of the key's tenants", body = ErrorBody),
    )
)]
pub async fn get(
    state: web::Data<ApiState>,
    key: AppKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let directory = key.directory(&state, &id).await?;
    let store = state.store.clone();
    let summary = web::block(move || directory_state::summary(&store, &directory)).await??;
    Ok(HttpResponse::Ok().json(summary))
}

/// The directory's users; with `group=`, the users directly in that group of the directory.
#[utoipa::path(
    get,
    path = "/directories/{id}/users",
    operation_id = "list_directory_users",
    params(
        ("id" = String, Path, description = "A directory id"),
        ("group" = Option<String>, Query, description = "A group id of this directory: its direct user members"),
        UserQuery,
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 400, description = "A parameter unknown, repeated or out of range (`invalid_request`), or an `after` that is not a cursor (`invalid_cursor`)", body = ErrorBody),
        (status = 404, description = "No such directory or `group` for this key", body = ErrorBody),
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
        "group",
        "state",
        "email",
        "username",
        "updated_after",
        "custom_attributes[NAME]",
        "after",
        "limit",
    ])?;
    let (mut filter, page) = (user_filter(&params)?, params.page()?);
    filter.custom = custom_filter(&params);
    let group = params.id("group")?.map(GroupId::from_raw);
    let scope = key.directory(&state, &id).await?.scope();
    let store = state.store.clone();
    let found = web::block(move || -> Result<_, AppError> {
        let Some(group) = group else {
            return Ok(read::users(&store, &scope, &filter, &page)?);
        };
        let in_directory =
            read::group_scope(&store, &key.scope, &group)?.is_some_and(|s| s == scope);
        if !in_directory {
            return Err(AppError::NotFound(format!("group {group} not found")));
        }
        Ok(read::users_of_group(
            &store, &scope, &group, &filter, &page,
        )?)
    })
    .await??;
    Ok(page::records(&found))
}

/// The directory's groups; with `user=`, the groups of the directory that hold that user.
#[utoipa::path(
    get,
    path = "/directories/{id}/groups",
    operation_id = "list_directory_groups",
    params(
        ("id" = String, Path, description = "A directory id"),
        ("user" = Option<String>, Query, description = "A user id of this directory: the groups that hold it directly"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of groups", body = GroupPage),
        (status = 400, description = "A parameter unknown, repeated or out of range (`invalid_request`), or an `after` that is not a cursor (`invalid_cursor`)", body = ErrorBody),
        (status = 404, description = "No such directory or `user` for this key", body = ErrorBody),
    )
)]
pub async fn groups(
    state: web::Data<ApiState>,
    key: AppKey,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let params = Params::of(req.query_string())?;
    params.only(&["user", "after", "limit"])?;
    let page = params.page()?;
    let user = params.id("user")?.map(UserId::from_raw);
    let scope = key.directory(&state, &id).await?.scope();
    let store = state.store.clone();
    let found = web::block(move || -> Result<_, AppError> {
        let Some(user) = user else {
            return Ok(read::groups(&store, &scope, &page)?);
        };
        let in_directory = read::user_scope(&store, &key.scope, &user)?.is_some_and(|s| s == scope);
        if !in_directory {
            return Err(AppError::NotFound(format!("user {user} not found")));
        }
        Ok(read::groups_of_user(&store, &scope, &user, &page)?)
    })
    .await??;
    Ok(page::records(&found))
}
