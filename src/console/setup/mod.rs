//! The customer's setup page (docs/setup-page.md) at `/setup/{secret}`: reached by a one-time
//! link, without an account. The IT admin picks the IdP, sees the SCIM base URL, reveals a
//! token once, follows the IdP's guide, and watches the IdP's first requests arrive; for a
//! Google Workspace directory, uploads the service-account key and checks it.

mod error;
mod google;
mod guides;
mod reveal;
mod status;

use std::borrow::Cow;

use actix_web::http::header;
use actix_web::{HttpResponse, middleware, web};
use askama::Template;
use serde::Deserialize;

use super::ConsoleState;
use crate::domain::clock::{self, rfc3339};
use crate::domain::setup_link::{self, OpenLink};
use crate::domain::tenancy::DirectoryKind;
use error::SetupError;

/// The link whose secret is `secret`, if it is live.
async fn open(state: &web::Data<ConsoleState>, secret: &str) -> Result<OpenLink, SetupError> {
    let (store, presented) = (state.store.clone(), secret.to_string());
    let opened = web::block(move || setup_link::open(&store, &presented, clock::now())).await??;
    Ok(opened?)
}

/// The access log's path for `path`: a setup link's secret replaced, so logs hold no live
/// link.
pub fn redacted_path(path: &str) -> Cow<'_, str> {
    let prefix = "/setup/";
    match path.strip_prefix(prefix) {
        Some(rest) if rest.starts_with(setup_link::LINK_PREFIX) => {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            Cow::Owned(format!("{prefix}{}…{tail}", setup_link::LINK_PREFIX))
        }
        _ => Cow::Borrowed(path),
    }
}

struct IdpChoice {
    slug: &'static str,
    name: &'static str,
    selected: bool,
}

/// One check of the Google credentials, as the page lists it.
pub struct CheckRow {
    what: String,
    ok: bool,
    detail: String,
}

/// The Google part of the page: the stored settings (never the key) and the last check.
pub struct GooglePart {
    admin: String,
    customer: String,
    domain: String,
    status: String,
    has_key: bool,
    checks: Vec<CheckRow>,
    /// What the IT admin should do about a refused upload or failed check.
    problem: Option<String>,
    checked: bool,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    directory_name: String,
    action: String,
    csrf: String,
    expires_at: String,
    scim_base_url: String,
    idps: Vec<IdpChoice>,
    idp: String,
    guide: String,
    /// A token just revealed: shown this once.
    token: Option<String>,
    /// When this link revealed its token, if it did before this answer.
    revealed_at: Option<String>,
    /// A refusal to say above the token step (a second reveal).
    notice: Option<String>,
    google: Option<GooglePart>,
}

/// What an answer adds to the page.
#[derive(Default)]
struct Extras {
    token: Option<String>,
    notice: Option<String>,
    google_checks: Vec<CheckRow>,
    google_problem: Option<String>,
    google_checked: bool,
}

fn chosen_idp(link: &OpenLink, asked: Option<&str>) -> &'static str {
    let kind = link.directory.kind.as_str();
    asked
        .and_then(|a| guides::IDPS.iter().find(|(s, _, _)| *s == a))
        .or_else(|| guides::IDPS.iter().find(|(s, _, _)| *s == kind))
        .map_or("generic", |(s, _, _)| s)
}

async fn render(
    state: &web::Data<ConsoleState>,
    link: &OpenLink,
    secret: &str,
    asked_idp: Option<&str>,
    extras: Extras,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, SetupError> {
    let idp = chosen_idp(link, asked_idp);
    let google = if link.directory.kind == DirectoryKind::Google {
        let (store, dir) = (state.store.clone(), link.directory.clone());
        let row = web::block(move || crate::google::settings(&store, &dir)).await??;
        Some(GooglePart {
            admin: row.admin_email.clone(),
            customer: row.customer.clone().unwrap_or_default(),
            domain: row.domain.clone().unwrap_or_default(),
            status: row.status.clone(),
            has_key: !row.sealed_key.is_empty(),
            checks: extras.google_checks,
            problem: extras.google_problem,
            checked: extras.google_checked,
        })
    } else {
        None
    };
    let guide = match &google {
        Some(_) => guides::render_google(),
        None => guides::render(guides::guide(idp).unwrap_or_default(), &state.scim_base_url),
    };
    let page = SetupPage {
        directory_name: link.directory.name.clone(),
        action: format!("{}/{secret}", super::SETUP_PREFIX),
        csrf: link.csrf.clone(),
        expires_at: rfc3339(link.info.expires_at),
        scim_base_url: state.scim_base_url.clone(),
        idps: guides::IDPS
            .iter()
            .map(|(slug, name, _)| IdpChoice {
                slug,
                name,
                selected: *slug == idp,
            })
            .collect(),
        idp: idp.to_string(),
        guide,
        revealed_at: match extras.token {
            Some(_) => None,
            None => link.info.token_revealed_at.map(rfc3339),
        },
        token: extras.token,
        notice: extras.notice,
        google,
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

#[derive(Deserialize)]
pub struct PageQuery {
    idp: Option<String>,
}

async fn show(
    state: web::Data<ConsoleState>,
    secret: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, SetupError> {
    let link = open(&state, &secret).await?;
    render(
        &state,
        &link,
        &secret,
        query.idp.as_deref(),
        Extras::default(),
        actix_web::http::StatusCode::OK,
    )
    .await
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../assets/setup.js"))
}

async fn unknown() -> Result<HttpResponse, SetupError> {
    Err(SetupError::Unknown)
}

/// Headers of every setup answer: never cached or framed, the secret in the URL never sent
/// on as a referrer, scripts, styles and fetches from Roster itself only.
fn headers() -> middleware::DefaultHeaders {
    middleware::DefaultHeaders::new()
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
             img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
}

/// The setup page's routes, inside `/setup`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(headers())
            .route("/static/setup.js", web::get().to(script))
            .route("/{secret}", web::get().to(show))
            .route("/{secret}/token", web::post().to(reveal::reveal))
            .route("/{secret}/status", web::get().to(status::status))
            .route("/{secret}/google", web::post().to(google::submit))
            .default_service(web::to(unknown)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_paths_hold_no_link() {
        let cases = [
            ("/setup/roster_setup_abc123", "/setup/roster_setup_…"),
            (
                "/setup/roster_setup_abc123/status",
                "/setup/roster_setup_…/status",
            ),
            ("/setup/static/setup.js", "/setup/static/setup.js"),
            ("/scim/v2/Users", "/scim/v2/Users"),
        ];
        for (path, logged) in cases {
            assert_eq!(redacted_path(path), logged);
        }
    }
}
