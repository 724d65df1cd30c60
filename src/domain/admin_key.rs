//! Admin keys: what an operator presents on `/api/v1/admin`. Made and checked like
//! application keys (`app_key`), with their own prefix and table, so neither kind of key, nor
//! a SCIM token, opens the other's routes. A key may be held to a list of client address
//! ranges, and to one tenant.

use std::net::IpAddr;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::app_key::KeyScope;
use super::cidr::Cidr;
use super::error::{DomainError, DomainResult};
use super::ids::{TenantId, TokenId};
use super::tenancy::Tenant;
use super::token::{self, TokenSecret, hash, same_hash};
use crate::store::{self, Store};

/// Lets secret scanners recognise a leaked key, and tells it from the other secrets at a glance.
pub const KEY_PREFIX: &str = "roster_admin_";

/// A stored key as listings show it: never the key nor its hash.
#[derive(Debug, Clone, Serialize)]
pub struct AdminKeyInfo {
    pub id: TokenId,
    /// `None`: the key manages every tenant.
    pub tenant_id: Option<TenantId>,
    pub hint: String,
    /// The client addresses the key is taken from; `None`: any.
    pub allow: Option<Vec<Cidr>>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

impl AdminKeyInfo {
    pub fn scope(&self) -> KeyScope {
        self.tenant_id
            .clone()
            .map_or(KeyScope::AllTenants, KeyScope::Tenant)
    }

    /// Whether a request from `peer` may use the key. With an allow list, a request whose
    /// address is unknown may not.
    pub fn admits(&self, peer: Option<IpAddr>) -> bool {
        match (&self.allow, peer) {
            (None, _) => true,
            (Some(list), Some(addr)) => list.iter().any(|c| c.contains(addr)),
            (Some(_), None) => false,
        }
    }
}

#[derive(Debug)]
pub struct IssuedAdminKey {
    pub info: AdminKeyInfo,
    pub secret: TokenSecret,
}

pub fn issue(
    store: &Store,
    tenant: Option<&Tenant>,
    allow: Option<Vec<Cidr>>,
    now: NaiveDateTime,
) -> DomainResult<IssuedAdminKey> {
    let secret = token::generate(KEY_PREFIX);
    let info = AdminKeyInfo {
        id: TokenId::generate(),
        tenant_id: tenant.map(|t| t.id.clone()),
        hint: secret.hint(KEY_PREFIX),
        allow,
        created_at: now,
        revoked_at: None,
    };
    let hashed = hash(secret.expose());
    store.write(|conn| store::admin_keys::insert(conn, &info, &hashed))?;
    Ok(IssuedAdminKey { info, secret })
}

pub fn list(store: &Store) -> DomainResult<Vec<AdminKeyInfo>> {
    Ok(store.read(store::admin_keys::list)?)
}

pub fn revoke(store: &Store, id: &TokenId, now: NaiveDateTime) -> DomainResult<()> {
    if store.write(|conn| store::admin_keys::revoke(conn, id, now))? {
        Ok(())
    } else {
        Err(DomainError::NotFound {
            kind: "active admin key",
            id: id.to_string(),
        })
    }
}

/// The live admin key presented, if it is one; whether it admits the caller's address is the
/// caller's question (`AdminKeyInfo::admits`).
pub fn authenticate(store: &Store, presented: &str) -> DomainResult<Option<AdminKeyInfo>> {
    if !presented.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    let presented_hash = hash(presented);
    let found = store.read(|conn| store::admin_keys::find_live(conn, &presented_hash))?;
    Ok(found
        .filter(|(stored_hash, _)| same_hash(stored_hash, &presented_hash))
        .map(|(_, info)| info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allow_list_admits_its_ranges_only() {
        let key = |allow: Option<&str>| AdminKeyInfo {
            id: TokenId::from_raw("k"),
            tenant_id: None,
            hint: "roster_admin_abcdef".into(),
            allow: allow.map(|a| super::super::cidr::parse_list(a).unwrap()),
            created_at: crate::domain::clock::now(),
            revoked_at: None,
        };
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let cases = [
            (None, ip("203.0.113.7"), true),
            (None, None, true),
            (Some("127.0.0.1/32,::1/128"), ip("127.0.0.1"), true),
            (Some("127.0.0.1/32,::1/128"), ip("::1"), true),
            (Some("127.0.0.1/32,::1/128"), ip("10.0.0.1"), false),
            (Some("10.0.0.0/8"), None, false),
        ];
        for (allow, peer, admitted) in cases {
            assert_eq!(key(allow).admits(peer), admitted, "{allow:?} from {peer:?}");
        }
    }
}
