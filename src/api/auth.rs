//! Authentication of the API: application keys decide which tenants a request may read; admin
//! keys open `/api/v1/admin`, from the addresses their allow list names. Neither kind opens
//! the other's routes.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::ApiState;
use super::error::AppError;
use crate::domain::admin_key;
use crate::domain::app_key::{self, KeyScope};
use crate::domain::error::DomainError;
use crate::domain::feed;
use crate::domain::ids::{DirectoryId, TenantId, TokenId};
use crate::domain::tenancy::{self, Directory};

/// A request's authenticated key, as the routes both kinds of key share (webhooks) see it.
pub trait Caller: FromRequest<Error = AppError> + 'static {
    /// The tenants the key may read and manage.
    fn scope(&self) -> &KeyScope;
}

/// The tenants an authenticated request may read.
#[derive(Debug, Clone)]
pub struct AppKey {
    pub scope: KeyScope,
}

impl Caller for AppKey {
    fn scope(&self) -> &KeyScope {
        &self.scope
    }
}

/// A request made with a live admin key from an address the key admits: it manages its
/// tenant, or every tenant.
#[derive(Debug, Clone)]
pub struct AdminKey {
    pub id: TokenId,
    scope: KeyScope,
}

impl Caller for AdminKey {
    fn scope(&self) -> &KeyScope {
        &self.scope
    }
}

impl AppKey {
    pub async fn directory(
        &self,
        state: &web::Data<ApiState>,
        id: &str,
    ) -> Result<Directory, AppError> {
        directory(state, &self.scope, id).await
    }

    /// The directory a feed request names, if this key may read it: a live directory, or a
    /// deleted one whose events are still in the feed (so that a reader following one
    /// directory still gets its `directory.deleted`).
    pub async fn feed_directory(
        &self,
        state: &web::Data<ApiState>,
        id: &str,
    ) -> Result<(DirectoryId, TenantId), AppError> {
        let (store, wanted) = (state.store.clone(), id.to_string());
        let found = web::block(move || feed::directory_in_feed(&store, &wanted)).await??;
        found
            .filter(|(_, tenant)| self.scope.allows(tenant))
            .ok_or_else(|| AppError::NotFound(format!("directory {id} not found")))
    }

    pub async fn tenant(
        &self,
        state: &web::Data<ApiState>,
        id: &str,
    ) -> Result<TenantId, AppError> {
        Ok(tenant(state, &self.scope, id).await?.id)
    }
}

/// The directory `id` if `scope` may read it; another tenant's directory is "not found"
/// exactly like one that does not exist, so ids do not leak.
pub async fn directory(
    state: &web::Data<ApiState>,
    scope: &KeyScope,
    id: &str,
) -> Result<Directory, AppError> {
    let (store, wanted) = (state.store.clone(), id.to_string());
    let found = web::block(move || tenancy::directory_by_id(&store, &wanted)).await??;
    found
        .filter(|d| scope.allows(&d.tenant_id))
        .ok_or_else(|| AppError::NotFound(format!("directory {id} not found")))
}

/// The tenant `id` if `scope` may read it, with the same rule as `directory`.
pub async fn tenant(
    state: &web::Data<ApiState>,
    scope: &KeyScope,
    id: &str,
) -> Result<tenancy::Tenant, AppError> {
    let (store, wanted) = (state.store.clone(), id.to_string());
    // By id only: `find_tenant` also takes a name, which another tenant may hold.
    let found = web::block(move || match tenancy::find_tenant(&store, &wanted) {
        Ok(t) => Ok(Some(t).filter(|t| t.id.as_str() == wanted)),
        Err(DomainError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    })
    .await??;
    found
        .filter(|t| scope.allows(&t.id))
        .ok_or_else(|| AppError::NotFound(format!("tenant {id} not found")))
}

/// The token of an `Authorization: Bearer` header; SCIM's authentication reads it the same way.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

impl FromRequest for AppKey {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let presented = bearer(req);
        let state = req.app_data::<web::Data<ApiState>>().cloned();
        Box::pin(async move {
            let (Some(presented), Some(state)) = (presented, state) else {
                return Err(AppError::Unauthenticated);
            };
            let scope =
                web::block(move || app_key::authenticate(&state.store, &presented)).await??;
            scope
                .map(|scope| AppKey { scope })
                .ok_or(AppError::Unauthenticated)
        })
    }
}

impl FromRequest for AdminKey {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let presented = bearer(req);
        let state = req.app_data::<web::Data<ApiState>>().cloned();
        // The TCP peer, never a forwarding header: a header is whatever the client wrote, so
        // honouring one would let any client claim an allowed address.
        let peer = req.peer_addr().map(|a| a.ip());
        Box::pin(async move {
            let (Some(presented), Some(state)) = (presented, state) else {
                return Err(AppError::AdminUnauthenticated);
            };
            let found =
                web::block(move || admin_key::authenticate(&state.store, &presented)).await??;
            let key = found.ok_or(AppError::AdminUnauthenticated)?;
            if !key.admits(peer) {
                let from = peer.map_or("an unknown address".to_string(), |p| p.to_string());
                return Err(AppError::Forbidden(format!(
                    "admin key {} may not be used from {from}",
                    key.id
                )));
            }
            Ok(AdminKey {
                scope: key.scope(),
                id: key.id,
            })
        })
    }
}
