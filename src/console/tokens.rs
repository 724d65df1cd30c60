//! A directory's SCIM tokens: issue, rotate (with an overlap) and revoke, each from the
//! directory's page. A new token is shown once, on the page the form answers with.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::error::ConsoleError;
use super::session::{NoFields, Posted};
use super::{Chrome, ConsoleState, page, see_other};
use crate::domain::clock::{self, rfc3339};
use crate::domain::ids::TokenId;
use crate::domain::tenancy::Directory;
use crate::domain::token::{self, TokenInfo, TokenState};

/// A token as the directory page lists it: its prefix, never more.
pub struct TokenRow {
    pub id: String,
    pub hint: String,
    pub state: &'static str,
    pub live: bool,
    pub created_at: String,
    pub last_used: String,
    pub expires: String,
}

impl TokenRow {
    pub fn of(t: &TokenInfo, now: NaiveDateTime) -> TokenRow {
        let state = t.state(now);
        TokenRow {
            id: t.id.to_string(),
            hint: t.hint.clone(),
            state: state.as_str(),
            live: state == TokenState::Live,
            created_at: rfc3339(t.created_at),
            last_used: t.last_used_at.map_or_else(|| "never".into(), rfc3339),
            expires: t.expires_at.map_or_else(|| "—".into(), rfc3339),
        }
    }
}

/// The one page that shows a token in clear.
#[derive(Template)]
#[template(path = "token.html")]
pub struct TokenShown {
    pub chrome: Chrome,
    pub heading: String,
    pub directory_id: String,
    pub directory_name: String,
    pub scim_base_url: String,
    pub secret: String,
    pub hint: String,
    pub note: Option<String>,
}

pub async fn issue(
    state: web::Data<ConsoleState>,
    id: web::Path<String>,
    posted: Posted<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let signed = posted.signed;
    let d = super::directory(&state, &signed.scope(), &id).await?;
    let (store, dir) = (state.store.clone(), d.clone());
    let issued = web::block(move || token::issue(&store, &dir, clock::now())).await??;
    page(&TokenShown {
        chrome: Chrome::of(&signed, "directories"),
        heading: format!("New token for {}", d.name),
        directory_id: d.id.to_string(),
        directory_name: d.name,
        scim_base_url: state.scim_base_url.clone(),
        secret: issued.secret.expose().to_string(),
        hint: issued.hint,
        note: None,
    })
}

/// The token `id` and its directory, if the session's key may see the directory.
async fn visible_token(
    state: &web::Data<ConsoleState>,
    scope: &crate::domain::app_key::KeyScope,
    id: &str,
) -> Result<(TokenInfo, Directory), ConsoleError> {
    let (store, wanted) = (state.store.clone(), TokenId::from_raw(id));
    let found = web::block(move || token::get(&store, &wanted)).await??;
    let d = super::directory(state, scope, found.directory_id.as_str())
        .await
        .map_err(|_| ConsoleError::NotFound(format!("token {id} not found")))?;
    Ok((found, d))
}

#[derive(Deserialize)]
pub struct Rotation {
    /// How long the old token keeps working: `0`, or a duration such as `1h` or `24h`.
    overlap: String,
}

pub async fn rotate(
    state: web::Data<ConsoleState>,
    id: web::Path<String>,
    posted: Posted<Rotation>,
) -> Result<HttpResponse, ConsoleError> {
    let Posted { signed, form } = posted;
    let (old, d) = visible_token(&state, &signed.scope(), &id).await?;
    let overlap = crate::domain::request_log::parse_duration(&form.overlap)?;
    let overlap = chrono::Duration::from_std(overlap)
        .map_err(|_| ConsoleError::BadRequest("the overlap is too long".into()))?;
    let store = state.store.clone();
    let rotated =
        web::block(move || token::rotate(&store, &old.id, overlap, clock::now())).await??;
    let until = rotated.old.expires_at.map_or_else(String::new, rfc3339);
    page(&TokenShown {
        chrome: Chrome::of(&signed, "directories"),
        heading: format!("Token {} rotated", rotated.old.hint),
        directory_id: d.id.to_string(),
        directory_name: d.name,
        scim_base_url: state.scim_base_url.clone(),
        secret: rotated.issued.secret.expose().to_string(),
        hint: rotated.issued.hint,
        note: Some(format!(
            "The old token {} works until {until}.",
            rotated.old.hint
        )),
    })
}

pub async fn revoke(
    state: web::Data<ConsoleState>,
    id: web::Path<String>,
    posted: Posted<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let (old, d) = visible_token(&state, &posted.signed.scope(), &id).await?;
    let store = state.store.clone();
    web::block(move || token::revoke(&store, &old.id, clock::now())).await??;
    Ok(see_other(&format!("/admin/directories/{}", d.id)))
}
