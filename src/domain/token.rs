//! Bearer tokens: a recognisable prefix and 32 random bytes, kept only as SHA-256.

use chrono::NaiveDateTime;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{DomainError, DomainResult};
use super::ids::{DirectoryId, TenantId, TokenId};
use super::tenancy::{Directory, DirectoryKind, Scope};
use crate::store::{self, Store};

/// Lets secret scanners recognise a leaked Roster token.
pub const TOKEN_PREFIX: &str = "roster_";
const HINT_LEN: usize = TOKEN_PREFIX.len() + 6;

/// A token in clear. Shown once when issued; `Debug` never prints it.
pub struct TokenSecret(String);

impl TokenSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(<redacted>)")
    }
}

#[derive(Debug)]
pub struct IssuedToken {
    pub id: TokenId,
    pub directory_id: DirectoryId,
    pub hint: String,
    pub secret: TokenSecret,
}

/// A stored token as listings show it: never the secret nor its hash.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: TokenId,
    pub tenant_id: TenantId,
    pub directory_id: DirectoryId,
    pub hint: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// What a stored token row holds for authentication.
pub struct StoredToken {
    pub hash: String,
    pub scope: Scope,
    pub kind: DirectoryKind,
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn generate() -> TokenSecret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    TokenSecret(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

pub fn issue(
    store: &Store,
    directory: &Directory,
    now: NaiveDateTime,
) -> DomainResult<IssuedToken> {
    let secret = generate();
    let info = TokenInfo {
        id: TokenId::generate(),
        tenant_id: directory.tenant_id.clone(),
        directory_id: directory.id.clone(),
        hint: secret.expose()[..HINT_LEN].to_string(),
        created_at: now,
        revoked_at: None,
    };
    let hashed = hash(secret.expose());
    store.write(|conn| store::tokens::insert(conn, &info, &hashed))?;
    Ok(IssuedToken {
        id: info.id,
        directory_id: info.directory_id,
        hint: info.hint,
        secret,
    })
}

pub fn list(store: &Store, directory: Option<&Directory>) -> DomainResult<Vec<TokenInfo>> {
    Ok(store.read(|conn| store::tokens::list(conn, directory.map(|d| &d.id)))?)
}

pub fn revoke(store: &Store, id: &TokenId, now: NaiveDateTime) -> DomainResult<()> {
    let revoked = store.write(|conn| store::tokens::revoke(conn, id, now))?;
    if revoked {
        Ok(())
    } else {
        Err(DomainError::NotFound {
            kind: "active token",
            id: id.to_string(),
        })
    }
}

/// The directory a presented bearer token belongs to, if it is a live token.
pub fn authenticate(
    store: &Store,
    presented: &str,
) -> DomainResult<Option<(Scope, DirectoryKind)>> {
    if !presented.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let presented_hash = hash(presented);
    let found = store.read(|conn| store::tokens::find_live(conn, &presented_hash))?;
    // The row was found by its hash; comparing again in constant time keeps the final decision
    // free of timing differences whatever the database's index lookup does.
    Ok(found.and_then(|stored| {
        let same: bool = stored
            .hash
            .as_bytes()
            .ct_eq(presented_hash.as_bytes())
            .into();
        same.then_some((stored.scope, stored.kind))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_redacted() {
        let a = generate();
        let b = generate();
        assert!(a.expose().starts_with(TOKEN_PREFIX));
        assert_eq!(a.expose().len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(a.expose(), b.expose());
        assert!(!format!("{a:?}").contains(&a.expose()[TOKEN_PREFIX.len()..]));
        assert_eq!(hash(a.expose()).len(), 64);
        assert_ne!(hash(a.expose()), a.expose());
    }
}
