//! `POST /.search` at the root (RFC 7644 §3.4.3): one list over users, then groups.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::AppState;
use super::auth::Authed;
use super::body::ScimBody;
use super::error::ApiError;
use super::request::search_params;
use super::resources::blocking;
use super::response;
use crate::scim::error::ScimError;
use crate::scim::list::{Paging, list_text};
use crate::scim::resource::Projection;
use crate::scim::schema::ResourceKind::{Group, User};

pub async fn search_all(
    state: web::Data<AppState>,
    auth: Authed,
    body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let mut params = search_params(&body.0)?;
    crate::idp::for_kind(auth.kind).normalize_list(&mut params);
    if params.cursor.is_some() {
        return Err(ScimError::InvalidValue(
            "cursor pagination is offered per resource type: search /Users/.search or /Groups/.search".into(),
        )
        .into());
    }
    let now = chrono::Utc::now();
    // A filter naming attributes only one type has selects only that type; a filter neither
    // type understands is the client's error.
    let key = &state.cursor_key;
    let (user_query, group_query) = match (
        params.query(&state.registry, User, key, now),
        params.query(&state.registry, Group, key, now),
    ) {
        (Err(e), Err(_)) => return Err(e.into()),
        (u, g) => (u.ok().map(|q| q.0), g.ok().map(|q| q.0)),
    };
    let (start_index, count) = user_query
        .as_ref()
        .or(group_query.as_ref())
        .map_or((1, 0), |q| (q.start_index, q.count));
    let user_projection = Projection::parse(
        &state.registry,
        User,
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?;
    let group_projection = Projection::parse(
        &state.registry,
        Group,
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?;
    let (resources, user_total, group_total) = blocking(move || {
        let mut resources = Vec::new();
        let mut user_total = 0;
        if let Some(q) = user_query {
            let found = state.resources().list(&auth.scope, User, &q)?;
            user_total = found.total;
            resources.extend(
                state
                    .resources()
                    .render(&auth.scope, found.items, &user_projection)?
                    .into_iter()
                    .map(|rendered| rendered.body),
            );
        }
        let mut group_total = 0;
        if let Some(mut q) = group_query {
            // Groups follow all users in the combined order.
            q.start_index = (start_index - 1).saturating_sub(user_total) + 1;
            q.count = count.saturating_sub(resources.len() as u64);
            let found = state.resources().list(&auth.scope, Group, &q)?;
            group_total = found.total;
            resources.extend(
                state
                    .resources()
                    .render(&auth.scope, found.items, &group_projection)?
                    .into_iter()
                    .map(|rendered| rendered.body),
            );
        }
        Ok((resources, user_total, group_total))
    })
    .await?;
    Ok(response::scim_text(
        StatusCode::OK,
        list_text(
            user_total + group_total,
            start_index,
            &resources,
            &Paging::Index,
            None,
        ),
    ))
}
