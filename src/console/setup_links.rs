//! A directory's setup links on its console page: make one (its URL shown once, on the page
//! the form answers with), and revoke one.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::error::ConsoleError;
use super::session::{NoFields, Posted};
use super::{Chrome, ConsoleState, page, see_other};
use crate::domain::clock::{self, rfc3339};
use crate::domain::lifecycle;
use crate::domain::setup_link::{self, LinkState, SetupLinkInfo};

/// A link as the directory page lists it: its prefix, never more.
pub struct LinkRow {
    pub id: String,
    pub hint: String,
    pub state: &'static str,
    pub live: bool,
    pub created_at: String,
    pub expires_at: String,
    pub revealed: String,
}

impl LinkRow {
    pub fn of(l: &SetupLinkInfo) -> LinkRow {
        LinkRow {
            id: l.id.clone(),
            hint: l.hint.clone(),
            state: l.state.as_str(),
            live: l.state == LinkState::Live,
            created_at: rfc3339(l.created_at),
            expires_at: rfc3339(l.expires_at),
            revealed: l.token_revealed_at.map_or_else(|| "no".into(), rfc3339),
        }
    }
}

/// The one page that shows a setup link's URL.
#[derive(Template)]
#[template(path = "setup_link.html")]
struct LinkShown {
    chrome: Chrome,
    directory_id: String,
    directory_name: String,
    url: String,
    hint: String,
    expires_at: String,
}

#[derive(Deserialize)]
pub struct NewLink {
    expires: String,
}

pub async fn create(
    state: web::Data<ConsoleState>,
    id: web::Path<String>,
    posted: Posted<NewLink>,
) -> Result<HttpResponse, ConsoleError> {
    let Posted { signed, form } = posted;
    let d = super::directory(&state, &signed.scope(), &id).await?;
    let lifetime = lifecycle::parse_duration(&form.expires)?;
    let (store, dir) = (state.store.clone(), d.clone());
    let made =
        web::block(move || setup_link::create(&store, &dir, lifetime, clock::now())).await??;
    page(&LinkShown {
        chrome: Chrome::of(&signed, "directories"),
        directory_id: d.id.to_string(),
        directory_name: d.name,
        url: super::setup_url(&state.scim_base_url, made.secret.expose()),
        hint: made.info.hint,
        expires_at: rfc3339(made.info.expires_at),
    })
}

pub async fn revoke(
    state: web::Data<ConsoleState>,
    path: web::Path<(String, String)>,
    posted: Posted<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, link) = path.into_inner();
    let d = super::directory(&state, &posted.signed.scope(), &id).await?;
    let (store, dir) = (state.store.clone(), d.clone());
    web::block(move || setup_link::revoke(&store, &dir, &link, clock::now())).await??;
    Ok(see_other(&format!("/admin/directories/{}", d.id)))
}
