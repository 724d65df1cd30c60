//! `/Users`: create, read, list, replace, patch, delete.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::auth::Authed;
use super::body::ScimBody;
use super::error::ApiError;
use super::request::{if_match, if_none_match, list_params, projection, search_params};
use super::response;
use crate::domain::clock;
use crate::domain::ids::UserId;
use crate::domain::{group, user};
use crate::scim::list::{ListParams, list_response, next_cursor};
use crate::scim::resource::{Projection, canonicalize, project, strip_secrets};
use crate::scim::schema::ResourceKind::User;
use crate::scim::{patch, user as scim_user};

fn respond(
    state: &AppState,
    status: StatusCode,
    u: &user::DirectoryUser,
    groups: &[(String, String)],
    p: &Projection,
) -> HttpResponse {
    let full = scim_user::render(u, Some(groups), &state.base_url);
    let projected = project(&state.registry, User, &full, p);
    response::resource(status, &full, &projected)
}

async fn groups_of(
    state: &web::Data<AppState>,
    auth: &Authed,
    ids: Vec<String>,
) -> Result<std::collections::HashMap<String, Vec<(String, String)>>, ApiError> {
    let state = state.clone();
    let scope = auth.scope.clone();
    Ok(web::block(move || group::groups_of_users(&state.store, &scope, &ids)).await??)
}

pub async fn create(
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let p = projection(&state, User, &req)?;
    let now = clock::now();
    let raw = strip_secrets(&body.0);
    let canonical = canonicalize(&state.registry, User, &body.0)?;
    let write = scim_user::user_write(&state.registry, canonical.doc, raw);
    let st = state.clone();
    let scope = auth.scope.clone();
    let created = web::block(move || user::create(&st.store, &scope, write, now)).await??;
    Ok(respond(&state, StatusCode::CREATED, &created, &[], &p))
}

pub async fn get(
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = projection(&state, User, &req)?;
    let id = UserId::from_raw(id.into_inner());
    let st = state.clone();
    let scope = auth.scope.clone();
    let found = web::block(move || user::get(&st.store, &scope, &id)).await??;
    if if_none_match(&req).is_some_and(|v| v == found.version.to_string() || v == "*") {
        return Err(ApiError::NotModified);
    }
    let groups = groups_of(&state, &auth, vec![found.id.to_string()]).await?;
    let mine = groups.get(found.id.as_str()).map_or(&[][..], Vec::as_slice);
    Ok(respond(&state, StatusCode::OK, &found, mine, &p))
}

/// Renders one page of users, reading all their groups in one query.
pub(super) async fn render_page(
    state: &web::Data<AppState>,
    auth: &Authed,
    items: &[user::DirectoryUser],
    p: &Projection,
) -> Result<Vec<Value>, ApiError> {
    let ids = items.iter().map(|u| u.id.to_string()).collect();
    let groups = groups_of(state, auth, ids).await?;
    Ok(items
        .iter()
        .map(|u| {
            let mine = groups.get(u.id.as_str()).map_or(&[][..], Vec::as_slice);
            project(
                &state.registry,
                User,
                &scim_user::render(u, Some(mine), &state.base_url),
                p,
            )
        })
        .collect())
}

pub(super) async fn page(
    state: &web::Data<AppState>,
    auth: &Authed,
    query: crate::domain::query::ListQuery,
) -> Result<crate::domain::query::Page<user::DirectoryUser>, ApiError> {
    let st = state.clone();
    let scope = auth.scope.clone();
    Ok(web::block(move || user::list(&st.store, &scope, &query)).await??)
}

async fn list_with(
    state: web::Data<AppState>,
    auth: Authed,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let now = chrono::Utc::now();
    let (query, paging) = params.query(&state.registry, User, &state.cursor_key, now)?;
    let p = Projection::parse(
        &state.registry,
        User,
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?;
    let (start_index, sorted) = (query.start_index, query.sort.is_some());
    let mut found = page(&state, &auth, query).await?;
    let next = next_cursor(
        &paging,
        sorted,
        &mut found.items,
        |r: &user::DirectoryUser| (r.created_at, r.id.to_string()),
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
    let p = projection(&state, User, &req)?;
    let now = clock::now();
    let id = UserId::from_raw(id.into_inner());
    let expected = if_match(&req);
    let raw = strip_secrets(&body.0);
    let canonical = canonicalize(&state.registry, User, &body.0)?;
    let write = scim_user::user_write(&state.registry, canonical.doc, raw);
    let st = state.clone();
    let scope = auth.scope.clone();
    let updated = web::block(move || {
        user::update::<ApiError>(&st.store, &scope, &id, expected.as_deref(), now, |_| {
            Ok(write.clone())
        })
    })
    .await??;
    let groups = groups_of(&state, &auth, vec![updated.id.to_string()]).await?;
    let mine = groups
        .get(updated.id.as_str())
        .map_or(&[][..], Vec::as_slice);
    Ok(respond(&state, StatusCode::OK, &updated, mine, &p))
}

pub async fn modify(
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
    body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let p = projection(&state, User, &req)?;
    let now = clock::now();
    let id = UserId::from_raw(id.into_inner());
    let expected = if_match(&req);
    let ops = patch::parse_request(&body.0)?;
    let st = state.clone();
    let scope = auth.scope.clone();
    let updated = web::block(move || {
        user::update::<ApiError>(
            &st.store,
            &scope,
            &id,
            expected.as_deref(),
            now,
            |current| {
                let mut doc = current.resource.as_object().cloned().unwrap_or_default();
                patch::apply(&st.registry, User, &mut doc, &ops)?;
                let canonical = canonicalize(&st.registry, User, &Value::Object(doc))?;
                let mut write = scim_user::user_write(&st.registry, canonical.doc, Value::Null);
                write.raw = Value::Null;
                Ok(write)
            },
        )
    })
    .await??;
    let groups = groups_of(&state, &auth, vec![updated.id.to_string()]).await?;
    let mine = groups
        .get(updated.id.as_str())
        .map_or(&[][..], Vec::as_slice);
    Ok(respond(&state, StatusCode::OK, &updated, mine, &p))
}

pub async fn delete(
    state: web::Data<AppState>,
    auth: Authed,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = clock::now();
    let id = UserId::from_raw(id.into_inner());
    let expected = if_match(&req);
    let st = state.clone();
    web::block(move || user::delete(&st.store, &auth.scope, &id, expected.as_deref(), now))
        .await??;
    Ok(HttpResponse::NoContent().finish())
}
