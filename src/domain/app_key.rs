//! Application keys: what the customer's application presents on `/api/v1`. Separate from
//! SCIM tokens (another prefix, another table), kept only as SHA-256, shown once.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::error::{DomainError, DomainResult};
use super::ids::{TenantId, TokenId};
use super::tenancy::Tenant;
use super::token::{self, TokenSecret, hash, same_hash};
use crate::store::{self, Store};

/// Lets secret scanners recognise a leaked key, and tells it from a SCIM token at a glance.
pub const KEY_PREFIX: &str = "roster_app_";

/// A stored key as listings show it: never the key nor its hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppKeyInfo {
    #[schema(value_type = String)]
    pub id: TokenId,
    /// `None`: the key reads every tenant.
    #[schema(value_type = Option<String>)]
    pub tenant_id: Option<TenantId>,
    pub hint: String,
    /// Times are UTC, without an offset.
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    #[schema(value_type = Option<String>)]
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug)]
pub struct IssuedAppKey {
    pub info: AppKeyInfo,
    pub secret: TokenSecret,
}

/// The tenants a presented key may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyScope {
    AllTenants,
    Tenant(TenantId),
}

impl KeyScope {
    /// The one tenant of a tenant's key; `None` for a key of every tenant.
    pub fn only(&self) -> Option<&TenantId> {
        match self {
            KeyScope::AllTenants => None,
            KeyScope::Tenant(t) => Some(t),
        }
    }

    pub fn allows(&self, tenant: &TenantId) -> bool {
        match self {
            KeyScope::AllTenants => true,
            KeyScope::Tenant(t) => t == tenant,
        }
    }
}

pub fn issue(
    store: &Store,
    tenant: Option<&Tenant>,
    now: NaiveDateTime,
) -> DomainResult<IssuedAppKey> {
    let secret = token::generate(KEY_PREFIX);
    let info = AppKeyInfo {
        id: TokenId::generate(),
        tenant_id: tenant.map(|t| t.id.clone()),
        hint: secret.hint(KEY_PREFIX),
        created_at: now,
        revoked_at: None,
    };
    let hashed = hash(secret.expose());
    store.write(|conn| store::app_keys::insert(conn, &info, &hashed))?;
    Ok(IssuedAppKey { info, secret })
}

pub fn list(store: &Store) -> DomainResult<Vec<AppKeyInfo>> {
    Ok(store.read(store::app_keys::list)?)
}

pub fn revoke(store: &Store, id: &TokenId, now: NaiveDateTime) -> DomainResult<()> {
    if store.write(|conn| store::app_keys::revoke(conn, id, now))? {
        Ok(())
    } else {
        Err(DomainError::NotFound {
            kind: "active application key",
            id: id.to_string(),
        })
    }
}

/// What a presented key may read, if it is a live application key.
pub fn authenticate(store: &Store, presented: &str) -> DomainResult<Option<KeyScope>> {
    if !presented.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    let presented_hash = hash(presented);
    let found = store.read(|conn| store::app_keys::find_live(conn, &presented_hash))?;
    Ok(found
        .filter(|(stored_hash, _)| same_hash(stored_hash, &presented_hash))
        .map(|(_, tenant)| tenant.map_or(KeyScope::AllTenants, KeyScope::Tenant)))
}
