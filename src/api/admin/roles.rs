//! `/api/v1/admin/tenants/{t}/roles`: as `roster role`. A tenant's admin key finds another
//! tenant's roles "not found", like a tenant that does not exist.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::body;
use crate::api::error::AppError;
use crate::api::schemas::ErrorBody;
use crate::domain::clock;
use crate::domain::ids::TenantId;
use crate::domain::role_admin::{self, NewRole, RoleChanges, RoleView, Roles};
use crate::domain::role_sync::Progress;
use crate::domain::roles::{MatchBy, Rule};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewRoleBody {
    slug: String,
    name: String,
    #[serde(default)]
    priority: i64,
    #[serde(default)]
    default: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RoleChangesBody {
    name: Option<String>,
    priority: Option<i64>,
    default: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewRuleBody {
    /// `group_id`, `idp_id` or `name`.
    #[serde(rename = "match")]
    match_by: String,
    value: String,
}

#[derive(Serialize, ToSchema)]
struct RuleList {
    data: Vec<Rule>,
}

/// What a role's deletion answers: the recompute that gives its users their other roles.
#[derive(Serialize, ToSchema)]
struct RoleDeleted {
    recompute: Option<Progress>,
}

async fn tenant(
    state: &web::Data<ApiState>,
    key: &AdminKey,
    id: &str,
) -> Result<TenantId, AppError> {
    Ok(auth::tenant(state, key.scope(), id).await?.id)
}

#[utoipa::path(
    get,
    path = "/tenants/{id}/roles",
    operation_id = "list_roles",
    params(("id" = String, Path, description = "A tenant id")),
    responses((status = 200, description = "The tenant's roles, highest priority first, with their rules and the recompute's progress", body = Roles), (status = 404, description = "No such tenant or role for this key", body = ErrorBody))
)]
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

#[utoipa::path(
    post,
    path = "/tenants/{id}/roles",
    operation_id = "create_role",
    params(("id" = String, Path, description = "A tenant id")),
    request_body = NewRoleBody,
    responses((status = 201, description = "The role", body = RoleView), (status = 400, description = "A body that does not parse, an unknown field or a bad value", body = ErrorBody), (status = 404, description = "No such tenant or role for this key", body = ErrorBody), (status = 409, description = "The slug is taken (`conflict`)", body = ErrorBody))
)]
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

#[utoipa::path(
    get,
    path = "/tenants/{id}/roles/{slug}",
    operation_id = "get_role",
    params(("id" = String, Path, description = "A tenant id"), ("slug" = String, Path, description = "A role's slug")),
    responses((status = 200, description = "The role and its rules", body = RoleView), (status = 404, description = "No such tenant or role for this key", body = ErrorBody))
)]
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

#[utoipa::path(
    patch,
    path = "/tenants/{id}/roles/{slug}",
    operation_id = "update_role",
    params(("id" = String, Path, description = "A tenant id"), ("slug" = String, Path, description = "A role's slug")),
    request_body = RoleChangesBody,
    responses((status = 200, description = "The role", body = RoleView), (status = 400, description = "A body that does not parse, an unknown field or a bad value", body = ErrorBody), (status = 404, description = "No such tenant or role for this key", body = ErrorBody))
)]
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
#[utoipa::path(
    delete,
    path = "/tenants/{id}/roles/{slug}",
    operation_id = "delete_role",
    params(("id" = String, Path, description = "A tenant id"), ("slug" = String, Path, description = "A role's slug")),
    responses((status = 202, description = "The role is gone; its users' roles are recomputed in the background", body = RoleDeleted), (status = 404, description = "No such tenant or role for this key", body = ErrorBody))
)]
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
    Ok(HttpResponse::Accepted().json(RoleDeleted {
        recompute: progress,
    }))
}

#[utoipa::path(
    get,
    path = "/tenants/{id}/roles/{slug}/rules",
    operation_id = "list_role_rules",
    params(("id" = String, Path, description = "A tenant id"), ("slug" = String, Path, description = "A role's slug")),
    responses((status = 200, description = "The role's rules", body = RuleList), (status = 404, description = "No such tenant or role for this key", body = ErrorBody))
)]
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

#[utoipa::path(
    post,
    path = "/tenants/{id}/roles/{slug}/rules",
    operation_id = "add_role_rule",
    params(("id" = String, Path, description = "A tenant id"), ("slug" = String, Path, description = "A role's slug")),
    request_body = NewRuleBody,
    responses((status = 201, description = "The rule; the users it touches are recomputed in the background", body = Rule), (status = 400, description = "A body that does not parse, an unknown field or a bad value", body = ErrorBody), (status = 404, description = "No such tenant or role for this key", body = ErrorBody))
)]
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

#[utoipa::path(
    delete,
    path = "/tenants/{id}/roles/{slug}/rules/{rule_id}",
    operation_id = "delete_role_rule",
    params(("id" = String, Path, description = "A tenant id"), ("slug" = String, Path, description = "A role's slug"), ("rule_id" = String, Path, description = "A rule id")),
    responses((status = 204, description = "The rule is gone; the users it touched are recomputed in the background"), (status = 404, description = "No such tenant or role for this key", body = ErrorBody))
)]
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
