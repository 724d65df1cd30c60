//! The admin console under `/admin` (docs/console.md): server-rendered HTML pages over the
//! same domain commands and queries as the admin API, behind a session bought with an admin
//! key. A tenant's admin key sees its tenant only, here as there.

mod directories;
mod error;
mod events;
mod people;
mod requests;
mod session;
mod setup;
mod setup_links;
mod sign_in;
mod tenants;
mod tokens;
mod webhooks;

use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, middleware, web};
use askama::Template;

use crate::domain::app_key::KeyScope;
use crate::domain::tenancy::{self, Directory, Tenant};
use crate::store::Store;
use error::ConsoleError;
use session::SignedIn;

pub const PREFIX: &str = "/admin";
/// Where setup links point; outside `/admin`, since their readers have no account.
pub const SETUP_PREFIX: &str = "/setup";

pub use setup::{redacted_path, routes as setup_routes};

/// A setup link's URL: the public URL (the SCIM base URL without its path) and the secret.
pub fn setup_url(scim_base_url: &str, secret: &str) -> String {
    let public = scim_base_url
        .strip_suffix(crate::http::SCIM_PREFIX)
        .unwrap_or(scim_base_url);
    format!("{public}{SETUP_PREFIX}/{secret}")
}
const SIGN_IN_PATH: &str = "/admin/sign-in";

pub struct ConsoleState {
    pub store: Arc<Store>,
    /// The SCIM base URL identity providers are given.
    pub scim_base_url: String,
    /// The public URL is https: cookies are marked `Secure` whatever the request says.
    pub https: bool,
    pub webhook_policy: crate::delivery::target::TargetPolicy,
    pub webhook_secrets: crate::delivery::secrets::Secrets,
    /// For webhook retries sent while the page waits.
    pub webhook_client: reqwest::Client,
    /// What the setup page's Google credentials check needs: the server key to seal the
    /// service-account key, Google's endpoints, the schemas a puller maps with.
    pub secret_key: Option<String>,
    pub google: crate::config::GoogleConfig,
    pub registry: crate::scim::schema::SchemaRegistry,
}

/// What every signed-in page shows around its content.
pub struct Chrome {
    pub csrf: String,
    /// The admin key's hint and what it may see.
    pub who: String,
    /// Which part of the navigation is current.
    pub section: &'static str,
}

impl Chrome {
    fn of(signed: &SignedIn, section: &'static str) -> Chrome {
        let key = &signed.session.key;
        let reach = match &key.tenant_id {
            None => "every tenant".to_string(),
            Some(t) => format!("tenant {t}"),
        };
        Chrome {
            csrf: signed.csrf().to_string(),
            who: format!("{}… ({reach})", key.hint),
            section,
        }
    }
}

/// An HTML page, never cached: it may show secrets (a new token) or another tenant's data to
/// whoever uses the browser next.
fn page(t: &impl Template) -> Result<HttpResponse, ConsoleError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(t.render()?))
}

/// An error page with its status; one that cannot be rendered is the bare status, since an
/// error page must not fail in turn.
fn error_page(status: StatusCode, t: &impl Template) -> HttpResponse {
    match t.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(_) => HttpResponse::build(status).finish(),
    }
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The directory `id` if the session's key may see it; another tenant's directory is "not
/// found" exactly like one that does not exist.
async fn directory(
    state: &web::Data<ConsoleState>,
    scope: &KeyScope,
    id: &str,
) -> Result<Directory, ConsoleError> {
    let (store, wanted) = (state.store.clone(), id.to_string());
    let found = web::block(move || tenancy::directory_by_id(&store, &wanted)).await??;
    found
        .filter(|d| scope.allows(&d.tenant_id))
        .ok_or_else(|| ConsoleError::NotFound(format!("directory {id} not found")))
}

/// The tenants the session's key may see.
async fn tenants(
    state: &web::Data<ConsoleState>,
    scope: &KeyScope,
) -> Result<Vec<Tenant>, ConsoleError> {
    let store = state.store.clone();
    let all = web::block(move || tenancy::list_tenants(&store)).await??;
    Ok(all.into_iter().filter(|t| scope.allows(&t.id)).collect())
}

async fn home(_signed: SignedIn) -> HttpResponse {
    see_other("/admin/tenants")
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("assets/console.css"))
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("assets/events.js"))
}

async fn not_found(_signed: SignedIn) -> Result<HttpResponse, ConsoleError> {
    Err(ConsoleError::NotFound("no such page".into()))
}

/// The console's routes, inside `/admin`. Pages are GETs; every change is a POSTed form.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(home))
        .route("/static/console.css", web::get().to(stylesheet))
        .route("/static/events.js", web::get().to(script))
        .route("/sign-in", web::get().to(sign_in::form))
        .route("/sign-in", web::post().to(sign_in::submit))
        .route("/sign-out", web::post().to(sign_in::sign_out))
        .route("/tenants", web::get().to(tenants::list))
        .route("/tenants", web::post().to(tenants::create))
        .route("/directories", web::get().to(directories::list))
        .route("/directories", web::post().to(directories::create))
        .route("/directories/{id}", web::get().to(directories::show))
        .route("/directories/{id}/tokens", web::post().to(tokens::issue))
        .route("/directories/{id}/users", web::get().to(people::users))
        .route("/directories/{id}/groups", web::get().to(people::groups))
        .route(
            "/directories/{id}/groups/{group}",
            web::get().to(people::group),
        )
        .route("/directories/{id}/requests", web::get().to(requests::list))
        .route(
            "/directories/{id}/requests/export",
            web::get().to(requests::export),
        )
        .route(
            "/directories/{id}/setup-links",
            web::post().to(setup_links::create),
        )
        .route(
            "/directories/{id}/setup-links/{link}/revoke",
            web::post().to(setup_links::revoke),
        )
        .route("/tokens/{id}/rotate", web::post().to(tokens::rotate))
        .route("/tokens/{id}/revoke", web::post().to(tokens::revoke))
        .route("/events", web::get().to(events::stream))
        .route("/events/poll", web::get().to(events::poll))
        .route("/webhooks", web::get().to(webhooks::list))
        .route("/webhooks/{id}", web::get().to(webhooks::show))
        .route("/webhooks/{id}/retry", web::post().to(webhooks::retry))
        .default_service(web::to(not_found));
}

/// Headers every console answer carries: no caching of pages that may show secrets, no
/// framing (clickjacking), scripts and styles from the console itself only.
pub fn headers() -> middleware::DefaultHeaders {
    middleware::DefaultHeaders::new()
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ))
}
