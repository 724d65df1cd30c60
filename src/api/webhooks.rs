//! `/api/v1/webhooks` (application keys) and `/api/v1/admin/webhooks` (admin keys): the same
//! endpoint management as `roster webhook`, for the key's tenants. A tenant's key sees, makes
//! and changes only its tenant's endpoints; another tenant's endpoint, or a global one, is
//! "not found". An admin key manages every endpoint, as a key for every tenant does.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::ApiState;
use super::auth::{self, Caller};
use super::body::json as json_body;
use super::error::AppError;
use super::params::Params;
use super::schemas::{DeliveryList, EndpointList, EndpointWithSecret, ErrorBody};
use crate::delivery::{self, Changes, Endpoint, Outcome as DeliveryOutcome, Replayed};
use crate::domain::ids::TenantId;
use crate::domain::{clock, lifecycle};

/// `types` as a list or a comma-separated string.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = EventTypes)]
enum Types {
    List(Vec<String>),
    Text(String),
}

impl Types {
    fn parse(self) -> Result<Option<Vec<String>>, AppError> {
        let names = match self {
            Types::List(l) => l,
            Types::Text(t) => t.split(',').map(str::to_string).collect(),
        };
        Ok(delivery::parse_types(&names)?)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewEndpoint {
    url: String,
    /// The tenant whose events it receives; none: the key's tenant, or every tenant for a
    /// key of every tenant.
    tenant_id: Option<String>,
    /// None: every type.
    types: Option<Types>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EndpointChanges {
    url: Option<String>,
    /// An empty list (or string) means every type again.
    types: Option<Types>,
    enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SecretRotation)]
struct Rotation {
    /// How long the old secret still signs too: `0`, `90s`, `30m`, `24h` (the default), `7d`.
    overlap: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReplayRange {
    /// Send the events after this cursor...
    from: String,
    /// ...up to and including this one.
    to: Option<String>,
}

fn own_tenant(key: &impl Caller) -> Option<&TenantId> {
    key.scope().only()
}

/// The endpoint `id`, if the key may manage it.
async fn visible(
    state: &web::Data<ApiState>,
    key: &impl Caller,
    id: &str,
) -> Result<Endpoint, AppError> {
    let (store, wanted) = (state.store.clone(), id.to_string());
    let found = web::block(move || delivery::get(&store, &wanted)).await?;
    match found {
        Ok(e) if e.visible_to(own_tenant(key)) => Ok(e),
        Ok(_) | Err(delivery::DeliveryError::NotFound(_)) => Err(AppError::NotFound(format!(
            "webhook endpoint {id} not found"
        ))),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(
    get,
    path = "/webhooks",
    operation_id = "list_webhooks",
    responses((status = 200, description = "The key's endpoints", body = EndpointList))
)]
pub async fn list<K: Caller>(state: web::Data<ApiState>, key: K) -> Result<HttpResponse, AppError> {
    let (store, tenant) = (state.store.clone(), own_tenant(&key).cloned());
    let all = web::block(move || delivery::list(&store, tenant.as_ref())).await??;
    Ok(HttpResponse::Ok().json(json!({"data": all})))
}

#[utoipa::path(
    post,
    path = "/webhooks",
    operation_id = "create_webhook",
    request_body = NewEndpoint,
    responses(
        (status = 201, description = "The endpoint, with its signing secret shown this once", body = EndpointWithSecret),
        (status = 400, description = "A bad body (`invalid_request`) or a URL the policy refuses (`invalid_url`)", body = ErrorBody),
        (status = 404, description = "A `tenant_id` the key may not manage", body = ErrorBody),
    )
)]
pub async fn create<K: Caller>(
    state: web::Data<ApiState>,
    key: K,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let new: NewEndpoint = json_body(&bytes)?;
    let tenant = match (&new.tenant_id, own_tenant(&key)) {
        (Some(t), _) => Some(auth::tenant(&state, key.scope(), t).await?.id),
        (None, Some(own)) => Some(own.clone()),
        (None, None) => None,
    };
    let types = new.types.map(Types::parse).transpose()?.flatten();
    let (store, policy) = (state.store.clone(), state.webhook_policy);
    let secrets = state.webhook_secrets.clone();
    let created = web::block(move || {
        delivery::create(
            &store,
            policy,
            &secrets,
            tenant.as_ref(),
            &new.url,
            types,
            clock::now(),
        )
    })
    .await??;
    let mut out = json!(created.endpoint);
    out["secret"] = json!(created.secret);
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(
    get,
    path = "/webhooks/{id}",
    operation_id = "get_webhook",
    params(("id" = String, Path, description = "A webhook endpoint id")),
    responses((status = 200, description = "The endpoint", body = Endpoint), (status = 404, description = "No such endpoint, or not the key's", body = ErrorBody))
)]
pub async fn get<K: Caller>(
    state: web::Data<ApiState>,
    key: K,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(visible(&state, &key, &id).await?))
}

#[utoipa::path(
    patch,
    path = "/webhooks/{id}",
    operation_id = "update_webhook",
    params(("id" = String, Path, description = "A webhook endpoint id")),
    request_body = EndpointChanges,
    responses(
        (status = 200, description = "The endpoint", body = Endpoint),
        (status = 400, description = "A bad body (`invalid_request`) or a URL the policy refuses (`invalid_url`)", body = ErrorBody),
        (status = 404, description = "No such endpoint, or not the key's", body = ErrorBody),
    )
)]
pub async fn update<K: Caller>(
    state: web::Data<ApiState>,
    key: K,
    id: web::Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    visible(&state, &key, &id).await?;
    let asked: EndpointChanges = json_body(&bytes)?;
    let changes = Changes {
        url: asked.url,
        types: asked.types.map(Types::parse).transpose()?,
        enabled: asked.enabled,
    };
    let (store, policy, id) = (state.store.clone(), state.webhook_policy, id.into_inner());
    let e =
        web::block(move || delivery::update(&store, policy, &id, changes, clock::now())).await??;
    Ok(HttpResponse::Ok().json(e))
}

#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    operation_id = "delete_webhook",
    params(("id" = String, Path, description = "A webhook endpoint id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such endpoint, or not the key's", body = ErrorBody))
)]
pub async fn delete<K: Caller>(
    state: web::Data<ApiState>,
    key: K,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    visible(&state, &key, &id).await?;
    let (store, id) = (state.store.clone(), id.into_inner());
    web::block(move || delivery::delete(&store, &id)).await??;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/webhooks/{id}/rotate-secret",
    operation_id = "rotate_webhook_secret",
    params(("id" = String, Path, description = "A webhook endpoint id")),
    request_body(content = Option<Rotation>, description = "Optional; an empty body rotates with a 24h overlap"),
    responses(
        (status = 200, description = "The endpoint, with its new secret shown this once", body = EndpointWithSecret),
        (status = 400, description = "A bad body or overlap", body = ErrorBody),
        (status = 404, description = "No such endpoint, or not the key's", body = ErrorBody),
    )
)]
pub async fn rotate_secret<K: Caller>(
    state: web::Data<ApiState>,
    key: K,
    id: web::Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    visible(&state, &key, &id).await?;
    let asked: Rotation = json_body(&bytes)?;
    let overlap = match asked.overlap {
        Some(text) => lifecycle::parse_duration(&text)?
            .to_std()
            .map_err(|_| AppError::BadRequest("overlap must not be negative".into()))?,
        None => Duration::from_secs(24 * 3600),
    };
    let (store, id) = (state.store.clone(), id.into_inner());
    let secrets = state.webhook_secrets.clone();
    let (e, secret) =
        web::block(move || delivery::rotate_secret(&store, &secrets, &id, overlap, clock::now()))
            .await??;
    let mut out = json!(e);
    out["secret"] = json!(secret);
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    post,
    path = "/webhooks/{id}/test",
    operation_id = "test_webhook",
    params(("id" = String, Path, description = "A webhook endpoint id")),
    responses((status = 200, description = "What the receiver answered to a signed `webhook.test` event", body = DeliveryOutcome), (status = 404, description = "No such endpoint, or not the key's", body = ErrorBody))
)]
pub async fn test<K: Caller>(
    state: web::Data<ApiState>,
    key: K,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    visible(&state, &key, &id).await?;
    let outcome = delivery::test(
        state.store.clone(),
        &state.webhook_client,
        state.webhook_policy,
        &state.webhook_secrets,
        &id,
    )
    .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

#[utoipa::path(
    get,
    path = "/webhooks/{id}/deliveries",
    operation_id = "list_webhook_deliveries",
    params(
        ("id" = String, Path, description = "A webhook endpoint id"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "Attempts, newest first; 100 by default"),
        ("failed" = Option<bool>, Query, description = "Only the failed attempts"),
    ),
    responses(
        (status = 200, description = "The delivery log", body = DeliveryList),
        (status = 400, description = "A parameter out of range", body = ErrorBody),
        (status = 404, description = "No such endpoint, or not the key's", body = ErrorBody),
    )
)]
pub async fn deliveries<K: Caller>(
    state: web::Data<ApiState>,
    key: K,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    visible(&state, &key, &id).await?;
    let params = Params::of(req.query_string())?;
    let limit = params.int("limit", 1, 1000, 100)?;
    let failed = match params.text("failed") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "'failed' is true or false, not '{other}'"
            )));
        }
    };
    let (store, id) = (state.store.clone(), id.into_inner());
    let all = web::block(move || delivery::deliveries(&store, &id, failed, limit)).await??;
    Ok(HttpResponse::Ok().json(json!({"data": all})))
}

#[utoipa::path(
    post,
    path = "/webhooks/{id}/replay",
    operation_id = "replay_webhook",
    params(("id" = String, Path, description = "A webhook endpoint id")),
    request_body = ReplayRange,
    responses(
        (status = 200, description = "The events sent again, now, in cursor order", body = Replayed),
        (status = 400, description = "A bad body (`invalid_request`) or cursor (`invalid_cursor`)", body = ErrorBody),
        (status = 404, description = "No such endpoint, or not the key's", body = ErrorBody),
        (status = 410, description = "`from` is older than the oldest retained event (`cursor_expired`)", body = ErrorBody),
    )
)]
pub async fn replay<K: Caller>(
    state: web::Data<ApiState>,
    key: K,
    id: web::Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    visible(&state, &key, &id).await?;
    let range: ReplayRange = json_body(&bytes)?;
    let done = delivery::replay(
        state.store.clone(),
        &state.webhook_client,
        state.webhook_policy,
        &state.webhook_secrets,
        &id,
        &range.from,
        range.to.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!(done)))
}
