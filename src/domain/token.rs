//! Bearer tokens: a recognisable prefix and 32 random bytes, kept only as SHA-256.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::directory_state;
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
    pub(crate) fn new(secret: String) -> TokenSecret {
        TokenSecret(secret)
    }

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
    hex::encode(digest(secret))
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
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
    store.write(|conn| {
        directory_state::with_token_change(conn, &directory.id, now, |conn| {
            Ok(store::tokens::insert(conn, &info, &hashed)?)
        })
    })?;
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
    let revoked = store.write(|conn| -> DomainResult<bool> {
        let Some(directory) = store::tokens::directory_of(conn, id)? else {
            return Ok(false);
        };
        directory_state::with_token_change(conn, &directory, now, |conn| {
            Ok(store::tokens::revoke(conn, id, now)?)
        })
    })?;
    if revoked {
        Ok(())
    } else {
        Err(DomainError::NotFound {
            kind: "active token",
            id: id.to_string(),
        })
    }
}

/// How long a token found live is trusted without asking the database again: a revoked token
/// is refused at most this long after `roster token revoke`, on every instance.
pub const RECHECK_AFTER: Duration = Duration::from_secs(1);

/// Tokens recently found live, by the SHA-256 of the token. An identity provider sends its
/// requests in a steady stream on one token, and looking the token up was a tenth of a GET by
/// id's time (on PostgreSQL a round trip of its own); trusted for `RECHECK_AFTER`, it is
/// looked up about once a second instead. Only live tokens are kept, so presenting made-up
/// tokens cannot fill it, and it holds at most `CAPACITY` of them.
#[derive(Default)]
pub struct RecentTokens {
    found: Mutex<HashMap<[u8; 32], (Instant, Scope, DirectoryKind)>>,
}

const CAPACITY: usize = 1024;

impl RecentTokens {
    fn get(&self, digest: &[u8; 32], now: Instant) -> Option<(Scope, DirectoryKind)> {
        let found = self.found.lock().ok()?;
        let (at, scope, kind) = found.get(digest)?;
        (now.duration_since(*at) < RECHECK_AFTER).then(|| (scope.clone(), *kind))
    }

    fn remember(&self, digest: [u8; 32], now: Instant, scope: &Scope, kind: DirectoryKind) {
        if let Ok(mut found) = self.found.lock() {
            if found.len() >= CAPACITY && !found.contains_key(&digest) {
                found.retain(|_, (at, _, _)| now.duration_since(*at) < RECHECK_AFTER);
                if found.len() >= CAPACITY {
                    found.clear();
                }
            }
            found.insert(digest, (now, scope.clone(), kind));
        }
    }
}

/// The directory a presented bearer token belongs to, if it is a live token.
pub fn authenticate(
    store: &Store,
    recent: &RecentTokens,
    presented: &str,
) -> DomainResult<Option<(Scope, DirectoryKind)>> {
    if !presented.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let digest = digest(presented);
    let now = Instant::now();
    // Found by its digest, like the database's index finds it: timing can tell an attacker
    // at most how much of a digest they matched, which SHA-256 turns into nothing about a
    // token.
    if let Some(known) = recent.get(&digest, now) {
        return Ok(Some(known));
    }
    let presented_hash = hex::encode(digest);
    let found = store.read(|conn| store::tokens::find_live(conn, &presented_hash))?;
    // The row was found by its hash; comparing again in constant time keeps the final decision
    // free of timing differences whatever the database's index lookup does.
    let live = found.and_then(|stored| {
        let same: bool = stored
            .hash
            .as_bytes()
            .ct_eq(presented_hash.as_bytes())
            .into();
        same.then_some((stored.scope, stored.kind))
    });
    if let Some((scope, kind)) = &live {
        recent.remember(digest, now, scope, *kind);
    }
    Ok(live)
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

    #[test]
    fn recent_tokens_are_trusted_for_a_while_and_bounded() {
        let scope = Scope {
            tenant_id: TenantId::from_raw("t".to_string()),
            directory_id: DirectoryId::from_raw("d".to_string()),
        };
        let recent = RecentTokens::default();
        let start = Instant::now();
        let digest = |i: usize| -> [u8; 32] { Sha256::digest(i.to_be_bytes()).into() };
        assert!(recent.get(&digest(0), start).is_none());
        recent.remember(digest(0), start, &scope, DirectoryKind::Okta);
        let later = |ms| start + Duration::from_millis(ms);
        assert_eq!(RECHECK_AFTER, Duration::from_secs(1));
        for (at, trusted) in [(0, true), (999, true), (1000, false), (5000, false)] {
            assert_eq!(
                recent.get(&digest(0), later(at)).is_some(),
                trusted,
                "{at} ms after it was found"
            );
        }
        assert_eq!(
            recent
                .get(&digest(0), start)
                .map(|(s, k)| (s.directory_id, k)),
            Some((scope.directory_id.clone(), DirectoryKind::Okta))
        );
        for i in 1..=CAPACITY {
            recent.remember(digest(i), later(2000), &scope, DirectoryKind::Generic);
        }
        let held = recent.found.lock().unwrap().len();
        assert!(held <= CAPACITY, "{held} entries");
        assert!(recent.get(&digest(CAPACITY), later(2000)).is_some());
    }
}
