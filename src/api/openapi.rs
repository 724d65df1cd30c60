//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of every `/api/v1` route, built from
//! the handlers' `#[utoipa::path]` annotations, which sit on the functions they describe. The
//! document is assembled here from the lists next to each `routes()` (`AppApi`,
//! `WebhooksApi`, `admin::AdminApi`); `tests/it/openapi.rs` fails when a registered route is
//! missing from it.

use actix_web::HttpResponse;
use utoipa::OpenApi;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{Components, Info, OpenApi as Document, Paths, Ref, RefOr};

use super::admin::AdminApi;
use super::{API_PREFIX, AppApi, WebhooksApi};

const APP_KEY: &str = "app_key";
const ADMIN_KEY: &str = "admin_key";

/// The document: the application routes and the webhook routes under `/api/v1`, the admin
/// routes and the same webhook routes again under `/api/v1/admin`.
pub fn document() -> Document {
    let admin = format!("{API_PREFIX}/admin");
    let mut admin_webhooks = WebhooksApi::openapi();
    for (_, item) in admin_webhooks.paths.paths.iter_mut() {
        for op in operations(item) {
            // One handler serves both prefixes; operation ids must still be unique.
            op.operation_id = op.operation_id.take().map(|id| format!("admin_{id}"));
        }
    }
    let info = Info::new("Roster API", env!("CARGO_PKG_VERSION"));
    let mut doc = Document::new(info, Paths::new())
        .nest(API_PREFIX, AppApi::openapi())
        .nest(API_PREFIX, WebhooksApi::openapi())
        .nest(&admin, AdminApi::openapi())
        .nest(&admin, admin_webhooks);
    // Relative: a client resolves it against the address it fetched the document from, so
    // the document stays right behind a proxy.
    doc.servers = Some(vec![Server::new("/")]);
    doc.info.description = Some(
        "The application API (application keys) and the admin API under /api/v1/admin \
         (admin keys) of Roster, a self-hosted SCIM 2.0 directory-sync server. \
         See docs/api.md, docs/events.md, docs/webhooks.md and docs/admin-api.md."
            .into(),
    );
    let components = doc.components.get_or_insert_with(Components::new);
    components.security_schemes.insert(
        APP_KEY.into(),
        bearer(
            "roster_app_...",
            "An application key (`roster app-key issue`, `POST /api/v1/admin/app-keys`): \
             reads its tenant, or every tenant.",
        ),
    );
    components.security_schemes.insert(
        ADMIN_KEY.into(),
        bearer(
            "roster_admin_...",
            "An admin key (`roster admin-key issue`, CLI only), from an address its allow list \
             admits: manages its tenant, or every tenant.",
        ),
    );
    components.responses.insert(
        "Unauthenticated".into(),
        error_response("No key, an unknown or revoked key, or a key of the other kind"),
    );
    components.responses.insert(
        "Forbidden".into(),
        error_response("The admin key is used from an address its allow list does not hold"),
    );
    secure(&mut doc, &admin);
    doc
}

/// Which key each route takes follows from its prefix, as in `auth.rs`: the admin routes
/// take admin keys, the others application keys, and the document itself none.
fn secure(doc: &mut Document, admin: &str) {
    for (path, item) in doc.paths.paths.iter_mut() {
        if path.strip_prefix(API_PREFIX) == Some("/openapi.json") {
            continue;
        }
        let is_admin = path.starts_with(admin);
        let (scheme, tag) = if is_admin {
            (ADMIN_KEY, "admin")
        } else {
            (APP_KEY, "application")
        };
        for op in operations(item) {
            op.security = Some(vec![SecurityRequirement::new(scheme, Vec::<String>::new())]);
            op.tags = Some(vec![tag.into()]);
            let responses = &mut op.responses.responses;
            responses.insert(
                "401".into(),
                RefOr::Ref(Ref::from_response_name("Unauthenticated")),
            );
            if is_admin {
                responses.insert(
                    "403".into(),
                    RefOr::Ref(Ref::from_response_name("Forbidden")),
                );
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

fn bearer(format: &str, description: &str) -> SecurityScheme {
    let mut http = Http::new(HttpAuthScheme::Bearer);
    http.bearer_format = Some(format.into());
    http.description = Some(description.into());
    SecurityScheme::Http(http)
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build(),
    )
}

/// Open: the document describes the API and holds no data.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json"))
)]
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}
