//! `/Groups`: create, read, list, replace, patch, delete. Members are rows: a response that
//! leaves them out never reads them, and a PATCH answers 204 unless the client asks for
//! attributes (DESIGN.md, "Large groups").

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::auth::Authed;
use super::body::ScimBody;
use super::error::ApiError;
use super::request::{
    if_match, if_none_match, list_params, names_attributes, projection, search_params,
};
use super::response;
use crate::domain::clock;
use crate::domain::group::{self, DirectoryGroup, MemberChange};
use crate::domain::ids::GroupId;
use crate::domain::tenancy::Scope;
use crate::scim::group as scim_group;
use crate::scim::list::{ListParams, list_response, next_cursor};
use crate::scim::patch;
use crate::scim::resource::{MemberRef, Projection, canonicalize, project, strip_secrets};
use crate::scim::schema::ResourceKind::Group;

fn ids(members: &[MemberRef]) -> Vec<String> {
    members.iter().map(|m| m.value.clone()).collect()
}

/// Renders a group, reading its members only when the projection keeps them.
async fn render(
    state: &web::Data<AppState>,
    scope: &Scope,
    g: &DirectoryGroup,
    p: &Projection,
) -> Result<(Value, Value), ApiError> {
    let members = if p.includes_members(&state.registry) {
        let st = state.clone();
        let scope = scope.clone();
        let id = g.id.clone();
        Some(web::block(move || group::members(&st.store, &scope, &id)).await??)
    } else {
        None
    };
    let full = scim_group::render(g, members.as_deref(), &state.base_url);
    let projected = project(&state.registry, Group, &full, p);
    Ok((full, projected))
}

pub async fn create(
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let p = projection(&state, Group, &req)?;
    let now = clock::now();
    let raw = strip_secrets(&body.0);
    let canonical = canonicalize(&state.registry, Group, &body.0)?;
    let members = canonical.members.as_deref().map(ids).unwrap_or_default();
    let write = scim_group::group_write(&state.registry, canonical.doc, raw);
    let st = state.clone();
    let scope = auth.scope.clone();
    let created =
        web::block(move || group::create(&st.store, &scope, write, members, now)).await??;
    let (full, projected) = render(&state, &auth.scope, &created, &p).await?;
    Ok(response::resource(StatusCode::CREATED, &full, &projected))
}

pub async fn get(
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = projection(&state, Group, &req)?;
    let id = GroupId::from_raw(id.into_inner());
    let st = state.clone();
    let scope = auth.scope.clone();
    let found = web::block(move || group::get(&st.store, &scope, &id)).await??;
    if if_none_match(&req).is_some_and(|v| v == found.version.to_string() || v == "*") {
        return Err(ApiError::NotModified);
    }
    let (full, projected) = render(&state, &auth.scope, &found, &p).await?;
    Ok(response::resource(StatusCode::OK, &full, &projected))
}

pub(super) async fn render_page(
    state: &web::Data<AppState>,
    auth: &Authed,
    items: &[DirectoryGroup],
    p: &Projection,
) -> Result<Vec<Value>, ApiError> {
    let mut resources = Vec::with_capacity(items.len());
    for g in items {
        resources.push(render(state, &auth.scope, g, p).await?.1);
    }
    Ok(resources)
}

pub(super) async fn page(
    state: &web::Data<AppState>,
    auth: &Authed,
    query: crate::domain::query::ListQuery,
) -> Result<crate::domain::query::Page<DirectoryGroup>, ApiError> {
    let st = state.clone();
    let scope = auth.scope.clone();
    Ok(web::block(move || group::list(&st.store, &scope, &query)).await??)
}

async fn list_with(
    state: web::Data<AppState>,
    auth: Authed,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let now = chrono::Utc::now();
    let (query, paging) = params.query(&state.registry, Group, &state.cursor_key, now)?;
    let p = Projection::parse(
        &state.registry,
        Group,
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?;
    let (start_index, sorted) = (query.start_index, query.sort.is_some());
    let mut found = page(&state, &auth, query).await?;
    let next = next_cursor(
        &paging,
        sorted,
        &mut found.items,
        |r: &DirectoryGroup| (r.created_at, r.id.to_string()),
        &state.cursor_key,
        now,
    );
    let resources = render_page(&state, &auth, &found.items, &p).await?;
    Ok(response::scim(
        StatusCode::OK,
        &list_response(found.total, start_index, resources, &paging, next),
    ))
}

pub async fn list(
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = list_params(&req)?;
    list_with(state, auth, params).await
}

pub async fn search(
    state: web::Data<AppState>,
    auth: Authed,
    body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let params = search_params(&body.0)?;
    list_with(state, auth, params).await
}

pub async fn replace(
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
    body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let p = projection(&state, Group, &req)?;
    let now = clock::now();
    let id = GroupId::from_raw(id.into_inner());
    let expected = if_match(&req);
    let raw = strip_secrets(&body.0);
    let canonical = canonicalize(&state.registry, Group, &body.0)?;
    // PUT replaces membership too; a PUT without `members` leaves none.
    let members = canonical.members.as_deref().map(ids).unwrap_or_default();
    let write = scim_group::group_write(&state.registry, canonical.doc, raw);
    let st = state.clone();
    let scope = auth.scope.clone();
    let updated = web::block(move || {
        group::update::<ApiError>(&st.store, &scope, &id, expected.as_deref(), now, |_| {
            Ok((
                Some(write.clone()),
                vec![MemberChange::ReplaceAll(members.clone())],
            ))
        })
    })
    .await??;
    let (full, projected) = render(&state, &auth.scope, &updated, &p).await?;
    Ok(response::resource(StatusCode::OK, &full, &projected))
}

fn member_change(change: patch::MemberChange) -> MemberChange {
    match change {
        patch::MemberChange::Add(m) => MemberChange::Add(ids(&m)),
        patch::MemberChange::Remove(v) => MemberChange::Remove(v),
        patch::MemberChange::RemoveAll => MemberChange::RemoveAll,
        patch::MemberChange::ReplaceAll(m) => MemberChange::ReplaceAll(ids(&m)),
    }
}

pub async fn modify(
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
    body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let p = projection(&state, Group, &req)?;
    let now = clock::now();
    let id = GroupId::from_raw(id.into_inner());
    let expected = if_match(&req);
    let ops = patch::parse_request(&body.0)?;
    let st = state.clone();
    let scope = auth.scope.clone();
    let updated = web::block(move || {
        group::update::<ApiError>(
            &st.store,
            &scope,
            &id,
            expected.as_deref(),
            now,
            |current| {
                let mut doc = current.resource.as_object().cloned().unwrap_or_default();
                let changes = patch::apply(&st.registry, Group, &mut doc, &ops)?;
                let canonical = canonicalize(&st.registry, Group, &Value::Object(doc))?;
                let write = scim_group::group_write(&st.registry, canonical.doc, Value::Null);
                Ok((
                    Some(write),
                    changes.into_iter().map(member_change).collect(),
                ))
            },
        )
    })
    .await??;
    if !names_attributes(&req) {
        return Ok(HttpResponse::NoContent()
            .insert_header((
                actix_web::http::header::ETAG,
                crate::scim::meta::etag(updated.version),
            ))
            .finish());
    }
    let (full, projected) = render(&state, &auth.scope, &updated, &p).await?;
    Ok(response::resource(StatusCode::OK, &full, &projected))
}

pub async fn delete(
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = clock::now();
    let id = GroupId::from_raw(id.into_inner());
    let expected = if_match(&req);
    let st = state.clone();
    web::block(move || group::delete(&st.store, &auth.scope, &id, expected.as_deref(), now))
        .await??;
    Ok(HttpResponse::NoContent().finish())
}
