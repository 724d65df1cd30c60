//! `GET /api/v1/users/{id}`, a user's groups, and the lookup of users by email across the
//! directories of the key's tenants.

use actix_web::{HttpRequest, HttpResponse, web};

use super::ApiState;
use super::auth::AppKey;
use super::error::AppError;
use super::page;
use super::params::Params;
use super::schemas::{ErrorBody, GroupPage, PageQuery, UserPage, UserRecord};
use crate::domain::app_key::KeyScope;
use crate::domain::ids::UserId;
use crate::domain::read::{self, UserFilter};
use crate::domain::user::UserState;

/// `state=`, `email=`, `username=` and `updated_after=`.
pub fn user_filter(params: &Params) -> Result<UserFilter, AppError> {
    let state = match params.text("state") {
        None => None,
        Some("active") => Some(UserState::Active),
        Some("inactive") => Some(UserState::Inactive),
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "'state' must be 'active' or 'inactive', not '{}'",
                other.chars().take(40).collect::<String>()
            )));
        }
    };
    Ok(UserFilter {
        state,
        email: params.nonempty("email")?.map(str::to_string),
        username: params.nonempty("username")?.map(str::to_string),
        updated_after: params.time("updated_after")?,
        custom: Vec::new(),
    })
}

/// `custom_attributes[NAME]=VALUE`: the directory's users whose custom attribute `NAME` is
/// `VALUE` (as text, exactly).
pub fn custom_filter(params: &Params) -> Vec<(String, String)> {
    params
        .bracketed("custom_attributes")
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!("user {id} not found"))
}

/// `GET /users?email=`: one seek on the email index, whichever directory holds the user.
#[utoipa::path(
    get,
    path = "/users",
    operation_id = "find_users_by_email",
    params(
        ("email" = String, Query, description = "A primary email, compared case-insensitively"),
        ("tenant_id" = Option<String>, Query, description = "One of the key's tenants"),
        ("state" = Option<String>, Query, pattern = "^(active|inactive)$"),
        ("username" = Option<String>, Query, description = "A `userName`, compared case-insensitively"),
        ("updated_after" = Option<String>, Query, format = DateTime, description = "RFC 3339: users whose `updated_at` is strictly later"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of the users with that email, across the directories of the key's tenants", body = UserPage),
        (status = 400, description = "A parameter unknown, repeated or out of range (`invalid_request`), or an `after` that is not a cursor (`invalid_cursor`)", body = ErrorBody),
        (status = 404, description = "A `tenant_id` the key may not read", body = ErrorBody),
    )
)]
pub async fn lookup(
    state: web::Data<ApiState>,
    key: AppKey,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let params = Params::of(req.query_string())?;
    params.only(&[
        "email",
        "tenant_id",
        "state",
        "username",
        "updated_after",
        "after",
        "limit",
    ])?;
    let (filter, page) = (user_filter(&params)?, params.page()?);
    let tenants = match (params.text("tenant_id"), &key.scope) {
        (Some(t), _) => Some(vec![key.tenant(&state, t).await?]),
        (None, KeyScope::Tenant(t)) => Some(vec![t.clone()]),
        (None, KeyScope::AllTenants) => None,
    };
    let store = state.store.clone();
    let found =
        web::block(move || read::users_by_email(&store, tenants.as_deref(), &filter, &page))
            .await??;
    Ok(page::records(&found))
}

#[utoipa::path(
    get,
    path = "/users/{id}",
    operation_id = "get_user",
    params(("id" = String, Path, description = "A user id")),
    responses(
        (status = 200, description = "The user", body = UserRecord),
        (status = 404, description = "No such user (or soft-deleted), or not one of the key's tenants", body = ErrorBody),
    )
)]
pub async fn get(
    state: web::Data<ApiState>,
    key: AppKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let store = state.store.clone();
    let wanted = UserId::from_raw(id.as_str());
    let found = web::block(move || read::user(&store, &key.scope, &wanted)).await??;
    let record = found.ok_or_else(|| not_found(&id))?;
    Ok(HttpResponse::Ok().json(record))
}

/// The groups that hold the user directly.
#[utoipa::path(
    get,
    path = "/users/{id}/groups",
    operation_id = "list_user_groups",
    params(("id" = String, Path, description = "A user id"), PageQuery),
    responses(
        (status = 200, description = "A page of the groups that hold the user directly", body = GroupPage),
        (status = 400, description = "A parameter unknown, repeated or out of range (`invalid_request`), or an `after` that is not a cursor (`invalid_cursor`)", body = ErrorBody),
        (status = 404, description = "No such user for this key", body = ErrorBody),
    )
)]
pub async fn groups(
    state: web::Data<ApiState>,
    key: AppKey,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let params = Params::of(req.query_string())?;
    params.only(&["after", "limit"])?;
    let page = params.page()?;
    let store = state.store.clone();
    let user = UserId::from_raw(id.as_str());
    let found = web::block(move || -> Result<_, AppError> {
        let scope =
            read::user_scope(&store, &key.scope, &user)?.ok_or_else(|| not_found(user.as_str()))?;
        Ok(read::groups_of_user(&store, &scope, &user, &page)?)
    })
    .await??;
    Ok(page::records(&found))
}
