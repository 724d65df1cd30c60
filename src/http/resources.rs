//! `/Users` and `/Groups`: the same handlers for both resource types. The directory's IdP
//! adapter normalizes request bodies first and decides how a PATCH is answered.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::auth::Authed;
use super::body::ScimBody;
use super::error::ApiError;
use super::request::{
    Precondition, if_match, if_none_match, list_params, names_attributes, projection, search_params,
};
use super::response;
use crate::domain::clock;
use crate::idp::{self, PatchReply};
use crate::scim::list::{ListParams, list_text, next_cursor};
use crate::scim::meta::etag;
use crate::scim::operations::{Rendered, Resource};
use crate::scim::resource::Projection;
use crate::scim::schema::ResourceKind;

/// Runs blocking work (database, rendering) off the async workers.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(work).await?
}

/// Bodies a create may have and still be checked on the async worker: a user is a few hundred
/// bytes, where the body limit allows a megabyte, which would hold up every other connection
/// of the worker for milliseconds.
const SMALL_BODY: u64 = 64 * 1024;

fn small_body(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|n| n <= SMALL_BODY)
}

/// Resources a list may hold and still be read on the async worker (`small_read`).
const SMALL_LIST: u64 = 100;

/// Runs `work`, a read of a bounded number of rows, right on the async worker when the store
/// can (`Store::reading_here`, SQLite): that costs less than the two thread switches of the
/// blocking pool. Otherwise, and for any read that is not `small`, on the pool: a large read
/// would hold up every other connection of the worker.
pub(super) async fn small_read<T: Send + 'static>(
    state: &AppState,
    small: bool,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    if small && state.store.reads_in_place() {
        return state.store.reading_here(work);
    }
    blocking(work).await
}

/// Whether reading `kind` under projection `p` stays bounded: a group's members do not.
fn bounded(state: &AppState, kind: ResourceKind, p: &Projection) -> bool {
    kind == ResourceKind::User || !p.includes_members(&state.registry)
}

fn rendered_one(
    state: &AppState,
    auth: &Authed,
    resource: Resource,
    p: &Projection,
) -> Result<Rendered, ApiError> {
    state
        .resources()
        .render(&auth.scope, vec![resource], p)?
        .pop()
        .ok_or_else(|| ApiError::Internal("rendering lost the resource".into()))
}

pub async fn create(
    kind: ResourceKind,
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    mut body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    idp::for_kind(auth.kind).normalize_resource(&state.registry, kind, &mut body.0);
    let p = projection(&state, kind, &req)?;
    let now = clock::now();
    if kind == ResourceKind::User && small_body(&req) {
        // On the async worker: checking a small user costs less than handing it to a blocking
        // thread, the store writes it without this thread (`Store::write_queued`), and a new
        // user renders without a read.
        let created = state
            .resources()
            .create_user_queued(&auth.scope, &body.0, now)
            .await?;
        let rendered = state.resources().render_created_user(&created, &p)?;
        return Ok(response::resource(StatusCode::CREATED, rendered));
    }
    let rendered = blocking(move || {
        let created = state.resources().create(&auth.scope, kind, &body.0, now)?;
        rendered_one(&state, &auth, created, &p)
    })
    .await?;
    Ok(response::resource(StatusCode::CREATED, rendered))
}

pub async fn get(
    kind: ResourceKind,
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = projection(&state, kind, &req)?;
    let unless = if_none_match(&req);
    let small = bounded(&state, kind, &p);
    let reader = state.clone();
    let read = small_read(&reader, small, move || {
        let found = state.resources().get(&auth.scope, kind, &id)?;
        if unless.as_ref().is_some_and(|p| p.matches(found.version())) {
            return Ok(Err(found.version()));
        }
        rendered_one(&state, &auth, found, &p).map(Ok)
    })
    .await?;
    Ok(match read {
        Ok(rendered) => response::resource(StatusCode::OK, rendered),
        // Not an error: the client's copy is current (RFC 7232 §4.1 keeps the ETag).
        Err(version) => HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(version)))
            .finish(),
    })
}

async fn list_with(
    kind: ResourceKind,
    state: web::Data<AppState>,
    auth: Authed,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let now = chrono::Utc::now();
    let (query, paging) = params.query(&state.registry, kind, &state.cursor_key, now)?;
    let p = Projection::parse(
        &state.registry,
        kind,
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?;
    let small = query.count <= SMALL_LIST && bounded(&state, kind, &p);
    let reader = state.clone();
    let body = small_read(&reader, small, move || {
        let start_index = query.start_index;
        let mut found = state.resources().list(&auth.scope, kind, &query)?;
        let next = next_cursor(
            &paging,
            &mut found.items,
            Resource::position,
            &state.cursor_key,
            now,
        );
        let resources: Vec<String> = state
            .resources()
            .render(&auth.scope, found.items, &p)?
            .into_iter()
            .map(|rendered| rendered.body)
            .collect();
        Ok(list_text(
            found.total,
            start_index,
            &resources,
            &paging,
            next,
        ))
    })
    .await?;
    Ok(response::scim_text(StatusCode::OK, body))
}

pub async fn list(
    kind: ResourceKind,
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut params = list_params(&req)?;
    idp::for_kind(auth.kind).normalize_list(&mut params);
    list_with(kind, state, auth, params).await
}

pub async fn search(
    kind: ResourceKind,
    state: web::Data<AppState>,
    auth: Authed,
    body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let mut params = search_params(&body.0)?;
    idp::for_kind(auth.kind).normalize_list(&mut params);
    list_with(kind, state, auth, params).await
}

/// The one version a write's `If-Match` requires, which the write then checks atomically.
/// For a list of tags that is the version the resource is at now when listed, else any listed
/// one, so the write fails with 412. A write between this read and the write's own check
/// turns a match into a 412, never a mismatch into a write.
fn required_version(
    state: &AppState,
    auth: &Authed,
    kind: ResourceKind,
    id: &str,
    condition: Option<Precondition>,
) -> Result<Option<String>, ApiError> {
    Ok(match condition {
        None | Some(Precondition::Any) => None,
        Some(Precondition::Versions(mut tags)) if tags.len() == 1 => tags.pop(),
        Some(Precondition::Versions(tags)) => {
            let current = state.resources().get(&auth.scope, kind, id)?.version();
            let listed = current.to_string();
            if tags.contains(&listed) {
                Some(listed)
            } else {
                tags.into_iter().next()
            }
        }
    })
}

pub async fn replace(
    kind: ResourceKind,
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
    mut body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let adapter = idp::for_kind(auth.kind);
    adapter.normalize_resource(&state.registry, kind, &mut body.0);
    let kept = adapter.kept_on_replace(kind);
    let p = projection(&state, kind, &req)?;
    let now = clock::now();
    let expected = if_match(&req);
    let rendered = blocking(move || {
        let expected = required_version(&state, &auth, kind, &id, expected)?;
        let replaced = state.resources().replace(
            &auth.scope,
            kind,
            &id,
            &body.0,
            kept,
            expected.as_deref(),
            now,
        )?;
        rendered_one(&state, &auth, replaced, &p)
    })
    .await?;
    Ok(response::resource(StatusCode::OK, rendered))
}

pub async fn modify(
    kind: ResourceKind,
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
    mut body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let adapter = idp::for_kind(auth.kind);
    adapter.normalize_patch(&state.registry, kind, &mut body.0);
    let p = projection(&state, kind, &req)?;
    let now = clock::now();
    let expected = if_match(&req);
    let echo = adapter.patch_reply(kind) == PatchReply::Resource || names_attributes(&req);
    let outcome = blocking(move || {
        let expected = required_version(&state, &auth, kind, &id, expected)?;
        let patched =
            state
                .resources()
                .modify(&auth.scope, kind, &id, &body.0, expected.as_deref(), now)?;
        if echo {
            rendered_one(&state, &auth, patched, &p).map(Ok)
        } else {
            Ok(Err(patched.version()))
        }
    })
    .await?;
    Ok(match outcome {
        Ok(rendered) => response::resource(StatusCode::OK, rendered),
        Err(version) => HttpResponse::NoContent()
            .insert_header((header::ETAG, etag(version)))
            .finish(),
    })
}

pub async fn delete(
    kind: ResourceKind,
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = clock::now();
    let expected = if_match(&req);
    blocking(move || {
        let expected = required_version(&state, &auth, kind, &id, expected)?;
        Ok(state
            .resources()
            .delete(&auth.scope, kind, &id, expected.as_deref(), now)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
