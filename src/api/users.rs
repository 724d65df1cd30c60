//! `GET /api/v1/users/{id}`, a user's groups, and the lookup of users by email across the
//! directories of the key's tenants.

use actix_web::{HttpRequest, HttpResponse, web};

use super::ApiState;
use super::auth::AppKey;
use super::error::AppError;
use super::page;
use super::params::Params;
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
