//! `/api/v1/admin/tenants/{t}/roles`: as `roster role`. A tenant's admin key finds another
//! tenant's roles "not found", like a tenant that does not exist.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::body;
use crate::api::error::AppError;
use crate::domain::clock;
use crate::domain::ids::TenantId;
use crate::domain::role_admin::{self, NewRole, RoleChanges};
use crate::domain::roles::MatchBy;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRoleBody {
    slug: String,
    name: String,
    #[serde(default)]
    priority: i64,
    #[serde(default)]
    default: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChangesBody {
    name: Option<String>,
    priority: Option<i64>,
    default: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRuleBody {
    #[serde(rename = "match")]
    match_by: String,
    value: String,
}

async fn tenant(
    state: &web::Data<ApiState>,
    key: &AdminKey,
    id: &str,
) -> Result<TenantId, AppError> {
    Ok(auth::tenant(state, key.scope(), id).await?.id)
}

pub async fn list(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let t = tenant(&state, &key, &path).await?;
    let store = state.store.clone();
    let roles = web::block(move || role_admin::list(&store, &t)).await??;
    Ok(HttpResponse::Ok().json(roles))
}

pub async fn create(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let t = tenant(&state, &key, &path).await?;
    let b: NewRoleBody = body::json(&bytes)?;
    let new = NewRole {
        slug: b.slug,
        name: b.name,
        priority: b.priority,
        default: b.default,
    };
    let store = state.store.clone();
    let role = web::block(move || role_admin::create(&store, &t, new, clock::now())).await??;
    Ok(HttpResponse::Created().json(role))
}

pub async fn get(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (t, slug) = path.into_inner();
    let t = tenant(&state, &key, &t).await?;
    let store = state.store.clone();
    let role = web::block(move || role_admin::get(&store, &t, &slug)).await??;
    Ok(HttpResponse::Ok().json(role))
}

pub async fn update(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let (t, slug) = path.into_inner();
    let t = tenant(&state, &key, &t).await?;
    let b: RoleChangesBody = body::json(&bytes)?;
    let changes = RoleChanges {
        name: b.name,
        priority: b.priority,
        default: b.default,
    };
    let store = state.store.clone();
    let role =
        web::block(move || role_admin::update(&store, &t, &slug, changes, clock::now())).await??;
    Ok(HttpResponse::Ok().json(role))
}

/// 202: the role is gone at once; its users are given their other roles or the default by
/// the recompute, whose progress the listing shows.
pub async fn delete(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (t, slug) = path.into_inner();
    let t = tenant(&state, &key, &t).await?;
    let store = state.store.clone();
    let progress = web::block(move || {
        role_admin::delete(&store, &t, &slug, clock::now())?;
        crate::domain::role_sync::progress(&store, &t)
    })
    .await??;
    Ok(HttpResponse::Accepted().json(json!({"recompute": progress})))
}

pub async fn rules(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (t, slug) = path.into_inner();
    let t = tenant(&state, &key, &t).await?;
    let store = state.store.clone();
    let rules = web::block(move || role_admin::rules(&store, &t, &slug)).await??;
    Ok(listed(rules))
}

pub async fn add_rule(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let (t, slug) = path.into_inner();
    let t = tenant(&state, &key, &t).await?;
    let b: NewRuleBody = body::json(&bytes)?;
    let match_by: MatchBy = b.match_by.parse()?;
    let store = state.store.clone();
    let rule = web::block(move || {
        role_admin::add_rule(&store, &t, &slug, match_by, &b.value, clock::now())
    })
    .await??;
    Ok(HttpResponse::Created().json(rule))
}

pub async fn delete_rule(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (t, slug, rule) = path.into_inner();
    let t = tenant(&state, &key, &t).await?;
    let store = state.store.clone();
    web::block(move || role_admin::delete_rule(&store, &t, &slug, &rule, clock::now())).await??;
    Ok(HttpResponse::NoContent().finish())
}
