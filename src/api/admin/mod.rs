//! The admin API under `/api/v1/admin`, for admin keys only (docs/admin-api.md): what the
//! CLI administers, through the same domain commands.

mod app_keys;
mod attributes;
mod directories;
mod requests;
mod roles;
mod setup_links;
mod tenants;
mod tokens;

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::auth::AdminKey;
use super::webhooks;

/// `{"data": [...]}`, the shape of every list the API answers.
fn listed(items: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok().json(json!({"data": items}))
}

/// The admin routes' part of the OpenAPI document (paths relative to `/api/v1/admin`; the
/// webhook routes are `super::WebhooksApi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    tenants::list,
    tenants::create,
    tenants::get,
    directories::list,
    directories::create,
    directories::get,
    directories::update,
    directories::delete,
    directories::disable,
    directories::enable,
    directories::google_settings,
    directories::update_google_settings,
    directories::google_test,
    tokens::list,
    tokens::issue,
    tokens::get_in_directory,
    tokens::revoke_in_directory,
    requests::list,
    requests::get,
    tokens::get,
    tokens::revoke,
    tokens::rotate,
    app_keys::list,
    app_keys::issue,
    app_keys::revoke,
    roles::list,
    roles::create,
    roles::get,
    roles::update,
    roles::delete,
    roles::rules,
    roles::add_rule,
    roles::delete_rule,
    attributes::list,
    attributes::create,
    attributes::update,
    attributes::delete,
    setup_links::create,
    setup_links::list,
    setup_links::revoke,
))]
pub struct AdminApi;

/// The admin routes, mounted inside `/api/v1`. Each path is one resource holding its methods,
/// so another method answers 405 rather than 404. Adding a route: see `super::routes`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| {
        web::resource(format!("/admin{path}")).default_service(web::to(super::wrong_method))
    };
    cfg.service(
        resource("/tenants")
            .route(web::get().to(tenants::list))
            .route(web::post().to(tenants::create)),
    )
    .service(resource("/tenants/{id}").route(web::get().to(tenants::get)))
    .service(
        resource("/tenants/{id}/roles")
            .route(web::get().to(roles::list))
            .route(web::post().to(roles::create)),
    )
    .service(
        resource("/tenants/{id}/roles/{slug}")
            .route(web::get().to(roles::get))
            .route(web::patch().to(roles::update))
            .route(web::delete().to(roles::delete)),
    )
    .service(
        resource("/tenants/{id}/roles/{slug}/rules")
            .route(web::get().to(roles::rules))
            .route(web::post().to(roles::add_rule)),
    )
    .service(
        resource("/tenants/{id}/roles/{slug}/rules/{rule_id}")
            .route(web::delete().to(roles::delete_rule)),
    )
    .service(
        resource("/directories")
            .route(web::get().to(directories::list))
            .route(web::post().to(directories::create)),
    )
    .service(
        resource("/directories/{id}")
            .route(web::get().to(directories::get))
            .route(web::patch().to(directories::update))
            .route(web::delete().to(directories::delete)),
    )
    .service(resource("/directories/{id}/disable").route(web::post().to(directories::disable)))
    .service(resource("/directories/{id}/enable").route(web::post().to(directories::enable)))
    .service(
        resource("/directories/{id}/google")
            .route(web::get().to(directories::google_settings))
            .route(web::patch().to(directories::update_google_settings)),
    )
    .service(
        resource("/directories/{id}/google/test").route(web::post().to(directories::google_test)),
    )
    .service(
        resource("/directories/{id}/tokens")
            .route(web::get().to(tokens::list))
            .route(web::post().to(tokens::issue)),
    )
    .service(
        resource("/directories/{id}/tokens/{token_id}")
            .route(web::get().to(tokens::get_in_directory))
            .route(web::delete().to(tokens::revoke_in_directory)),
    )
    .service(
        resource("/directories/{id}/attributes")
            .route(web::get().to(attributes::list))
            .route(web::post().to(attributes::create)),
    )
    .service(
        resource("/directories/{id}/attributes/{name}")
            .route(web::patch().to(attributes::update))
            .route(web::delete().to(attributes::delete)),
    )
    .service(
        resource("/directories/{id}/setup-links")
            .route(web::get().to(setup_links::list))
            .route(web::post().to(setup_links::create)),
    )
    .service(
        resource("/directories/{id}/setup-links/{link_id}")
            .route(web::delete().to(setup_links::revoke)),
    )
    .service(resource("/directories/{id}/requests").route(web::get().to(requests::list)))
    .service(resource("/directories/{id}/requests/{entry_id}").route(web::get().to(requests::get)))
    .service(
        resource("/tokens/{id}")
            .route(web::get().to(tokens::get))
            .route(web::delete().to(tokens::revoke)),
    )
    .service(resource("/tokens/{id}/rotate").route(web::post().to(tokens::rotate)))
    .service(
        resource("/app-keys")
            .route(web::get().to(app_keys::list))
            .route(web::post().to(app_keys::issue)),
    )
    .service(resource("/app-keys/{id}").route(web::delete().to(app_keys::revoke)))
    .service(
        resource("/webhooks")
            .route(web::get().to(webhooks::list::<AdminKey>))
            .route(web::post().to(webhooks::create::<AdminKey>)),
    )
    .service(
        resource("/webhooks/{id}")
            .route(web::get().to(webhooks::get::<AdminKey>))
            .route(web::patch().to(webhooks::update::<AdminKey>))
            .route(web::delete().to(webhooks::delete::<AdminKey>)),
    )
    .service(
        resource("/webhooks/{id}/rotate-secret")
            .route(web::post().to(webhooks::rotate_secret::<AdminKey>)),
    )
    .service(resource("/webhooks/{id}/test").route(web::post().to(webhooks::test::<AdminKey>)))
    .service(
        resource("/webhooks/{id}/deliveries")
            .route(web::get().to(webhooks::deliveries::<AdminKey>)),
    )
    .service(resource("/webhooks/{id}/replay").route(web::post().to(webhooks::replay::<AdminKey>)));
}
