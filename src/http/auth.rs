//! Bearer-token authentication: the token selects the directory, and with it the tenant.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::AppState;
use super::error::ApiError;
use super::resources::small_read;
use crate::api::auth::bearer;
use crate::domain::clock;
use crate::domain::tenancy::{self, DirectoryKind, Scope};
use crate::domain::token;

/// The directory an authenticated request acts for.
#[derive(Debug, Clone)]
pub struct Authed {
    pub scope: Scope,
    pub kind: DirectoryKind,
}

impl FromRequest for Authed {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let presented = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let (Some(presented), Some(state)) = (presented, state) else {
                return Err(ApiError::Unauthenticated);
            };
            // One indexed read: on SQLite it runs right here, like any small read.
            let (reader, now) = (state.clone(), clock::now());
            let found = small_read(&reader, true, move || {
                Ok(token::authenticate(
                    &state.store,
                    &state.recent_tokens,
                    &presented,
                    now,
                )?)
            })
            .await?;
            let live = found.ok_or(ApiError::Unauthenticated)?;
            let (scope, kind) = (live.scope, live.kind);
            if let Some(limiter) = &reader.rate_limit {
                limiter
                    .take(&scope.directory_id, std::time::Instant::now())
                    .map_err(ApiError::RateLimited)?;
            }
            if let Some(id) = live.stamp_due {
                let store = reader.store.clone();
                web::block(move || token::mark_used(&store, &id, now)).await??;
            }
            let seen = |d: &_| reader.activated.lock().is_ok_and(|s| s.contains(d));
            if !seen(&scope.directory_id) {
                // A directory's first authenticated request marks it activated, with a
                // `directory.activated` event, before the request is answered.
                let (store, activating) = (reader.store.clone(), scope.clone());
                web::block(move || tenancy::activate(&store, &activating, clock::now())).await??;
                if let Ok(mut s) = reader.activated.lock() {
                    s.insert(scope.directory_id.clone());
                }
            }
            let authed = Authed { scope, kind };
            // The request log attributes the exchange to this directory once it is answered.
            req.extensions_mut().insert(authed.clone());
            Ok(authed)
        })
    }
}
