//! HTTP: routes, authentication, request limits, and the mapping of faults to SCIM errors.

pub mod auth;
pub mod body;
pub mod bulk;
pub mod discovery;
pub mod error;
pub mod google_watch;
pub mod head;
pub mod health;
pub mod metrics;
pub mod rate_limit;
pub mod redact;
pub mod request;
pub mod request_id;
pub mod request_log;
pub mod resources;
pub mod response;
pub mod search;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, dev::Server, middleware, web};

use crate::scim::operations::Resources;
use crate::scim::schema::{ResourceKind, SchemaRegistry};
use crate::store::Store;
use error::ApiError;

pub struct AppState {
    pub store: Arc<Store>,
    pub registry: SchemaRegistry,
    /// The SCIM base URL clients use, e.g. `https://roster.example.com/scim/v2`.
    pub base_url: String,
    pub max_body_bytes: usize,
    pub cursor_key: crate::scim::cursor::CursorKey,
    /// Where SCIM exchanges are recorded; `None` when the request log is disabled.
    pub request_log: Option<request_log::Recorder>,
    pub recent_tokens: crate::domain::token::RecentTokens,
    /// Directories this process has seen activated (`tenancy::activate`), so only a
    /// directory's first request asks the database.
    pub activated: std::sync::Mutex<std::collections::HashSet<crate::domain::ids::DirectoryId>>,
    /// Where webhooks may go (`allow_http_webhooks`, `allow_private_webhook_targets`).
    pub webhook_policy: crate::delivery::target::TargetPolicy,
    pub webhook_secrets: crate::delivery::secrets::Secrets,
    pub google: crate::config::GoogleConfig,
    pub secret_key: Option<String>,
    pub metrics: Arc<metrics::Metrics>,
    /// Per-directory SCIM rate limits; `None` when off.
    pub rate_limit: Option<rate_limit::RateLimiter>,
}

impl AppState {
    pub fn resources(&self) -> Resources<'_> {
        Resources {
            store: &self.store,
            registry: &self.registry,
            base_url: &self.base_url,
        }
    }
}

pub const SCIM_PREFIX: &str = "/scim/v2";

/// On SIGTERM (or SIGINT) the server stops accepting and gives requests in flight this long;
/// with the webhooks' grace after it, a stop fits in an orchestrator's usual 30 s.
pub const SHUTDOWN_GRACE_SECS: u64 = 20;

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such endpoint".into()))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed(
        "this endpoint does not take that method".into(),
    ))
}

fn resource_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/.search", web::post().to(search::search_all))
        .route("/Bulk", web::post().to(bulk::bulk));
    // Endpoints also answer in lower case (`/users`): Microsoft's validator and sample server
    // use it, and no other resource could be meant.
    let spellings = [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .flat_map(|kind| {
            [
                (kind, kind.endpoint().to_string()),
                (kind, kind.endpoint().to_lowercase()),
            ]
        });
    // One resource per path, holding every method: the router then tries each pattern once
    // (a method mismatch inside a resource answers 405 instead of trying the next one).
    for (kind, endpoint) in spellings {
        let collection = format!("/{endpoint}");
        cfg.service(
            web::resource(collection.as_str())
                .route(web::get().to(move |s, a, r| resources::list(kind, s, a, r)))
                .route(web::post().to(move |s, a, r, b| resources::create(kind, s, a, r, b)))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource(format!("{collection}/.search"))
                .route(web::post().to(move |s, a, b| resources::search(kind, s, a, b)))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource(format!("{collection}/{{id}}"))
                .route(web::get().to(move |s, a, r, i| resources::get(kind, s, a, r, i)))
                .route(web::put().to(move |s, a, r, i, b| resources::replace(kind, s, a, r, i, b)))
                .route(web::patch().to(move |s, a, r, i, b| resources::modify(kind, s, a, r, i, b)))
                .route(web::delete().to(move |s, a, r, i| resources::delete(kind, s, a, r, i)))
                .default_service(web::to(method_not_allowed)),
        );
    }
}

fn discovery_routes(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/ServiceProviderConfig", None),
        // Microsoft's SCIM validator collection asks for the configuration here.
        ("/serviceConfiguration", None),
        ("/ResourceTypes", Some(0)),
        ("/ResourceTypes/{id}", Some(1)),
        ("/Schemas", Some(2)),
        ("/Schemas/{id}", Some(3)),
    ] {
        let get = match handler {
            None => web::get().to(discovery::service_provider_config),
            Some(0) => web::get().to(discovery::resource_types),
            Some(1) => web::get().to(discovery::resource_type),
            Some(2) => web::get().to(discovery::schemas),
            _ => web::get().to(discovery::schema),
        };
        cfg.service(
            web::resource(path)
                .route(get)
                .default_service(web::to(discovery::read_only)),
        );
    }
}

/// Starts serving on `listener`; the returned server runs until stopped.
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let api_state = web::Data::new(crate::api::ApiState {
        store: state.store.clone(),
        scim_base_url: state.base_url.clone(),
        webhook_policy: state.webhook_policy,
        webhook_secrets: state.webhook_secrets.clone(),
        webhook_client: crate::delivery::target::client(state.webhook_policy),
        registry: state.registry.clone(),
        google: state.google.clone(),
        secret_key: state.secret_key.clone(),
    });
    let console_state = web::Data::new(crate::console::ConsoleState {
        store: state.store.clone(),
        scim_base_url: state.base_url.clone(),
        https: state.base_url.starts_with("https://"),
        webhook_policy: state.webhook_policy,
        webhook_secrets: state.webhook_secrets.clone(),
        webhook_client: crate::delivery::target::client(state.webhook_policy),
        secret_key: state.secret_key.clone(),
        google: state.google.clone(),
        registry: state.registry.clone(),
    });
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            // `/Users/` and `/Users` are the same collection to every IdP.
            .wrap(middleware::NormalizePath::trim())
            .app_data(state.clone())
            .app_data(api_state.clone())
            .route("/healthz", web::get().to(health::healthz))
            .route("/readyz", web::get().to(health::readyz))
            .route("/metrics", web::get().to(metrics::scrape))
            .service(web::scope(crate::api::API_PREFIX).configure(crate::api::routes))
            .service(
                web::scope(crate::console::PREFIX)
                    .app_data(console_state.clone())
                    .wrap(crate::console::headers())
                    .configure(crate::console::routes),
            )
            .service(
                web::scope(crate::console::SETUP_PREFIX)
                    .app_data(console_state.clone())
                    .configure(crate::console::setup_routes),
            )
            .route(
                crate::google::watch::ROUTE,
                web::post().to(google_watch::notification),
            )
            .service(
                web::scope(SCIM_PREFIX)
                    // Inside the request log, so the log shows the label that was sent.
                    .wrap(middleware::from_fn(response::media_type_for_adapter))
                    .wrap(request_log::RecordRequests)
                    // Resources first: they take nearly every request.
                    .configure(resource_routes)
                    .configure(discovery_routes),
            )
            .default_service(web::to(not_found))
            // An oversized head is refused before anything but the request id reads it.
            .wrap(middleware::from_fn(head::limit_headers))
            .wrap(middleware::from_fn(metrics::count))
            // Outermost, so every answer carries its id, a refused head's too.
            .wrap(middleware::from_fn(request_id::tag))
    })
    .shutdown_timeout(SHUTDOWN_GRACE_SECS)
    .listen(listener)?
    .run();
    Ok(server)
}
