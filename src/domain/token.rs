//! Bearer tokens: a recognisable prefix and 32 random bytes, kept only as SHA-256. SCIM tokens
//! live here; application and admin keys (`app_key`, `admin_key`) are made and checked the
//! same way with their own prefixes.

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

/// A token in clear. Shown once when issued; `Debug` never prints it.
pub struct TokenSecret(String);

impl TokenSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The prefix and the first six random characters: enough to tell secrets apart in a
    /// listing, far too little to guess the rest.
    pub(crate) fn hint(&self, prefix: &str) -> String {
        self.0[..prefix.len() + 6].to_string()
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    #[schema(value_type = String)]
    pub id: TokenId,
    #[schema(value_type = String)]
    pub tenant_id: TenantId,
    #[schema(value_type = String)]
    pub directory_id: DirectoryId,
    /// The token's prefix and its first six random characters.
    pub hint: String,
    /// Times are UTC, without an offset.
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    #[schema(value_type = Option<String>)]
    pub revoked_at: Option<NaiveDateTime>,
    /// Set by a rotation: the token is refused from then on.
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<NaiveDateTime>,
    /// Stamped at most once a minute (`STAMP_EVERY`).
    #[schema(value_type = Option<String>)]
    pub last_used_at: Option<NaiveDateTime>,
}

/// Whether a token is accepted: only a `Live` one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenState {
    Live,
    Expired,
    Revoked,
}

impl TokenState {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenState::Live => "live",
            TokenState::Expired => "expired",
            TokenState::Revoked => "revoked",
        }
    }
}

impl TokenInfo {
    pub fn state(&self, now: NaiveDateTime) -> TokenState {
        match (self.revoked_at, self.expires_at) {
            (Some(_), _) => TokenState::Revoked,
            (None, Some(at)) if at <= now => TokenState::Expired,
            _ => TokenState::Live,
        }
    }
}

/// What a stored token row holds for authentication.
pub struct StoredToken {
    pub id: TokenId,
    pub hash: String,
    pub scope: Scope,
    pub kind: DirectoryKind,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

pub fn hash(secret: &str) -> String {
    hex::encode(digest(secret))
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// `prefix` and 32 random bytes in hex.
pub(crate) fn generate(prefix: &str) -> TokenSecret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    TokenSecret(format!("{prefix}{}", hex::encode(bytes)))
}

/// Whether a stored hash is the presented secret's. The row was found by its hash; comparing
/// again in constant time keeps the final decision free of timing differences whatever the
/// database's index lookup does.
pub(crate) fn same_hash(stored: &str, presented: &str) -> bool {
    stored.as_bytes().ct_eq(presented.as_bytes()).into()
}

pub fn issue(
    store: &Store,
    directory: &Directory,
    now: NaiveDateTime,
) -> DomainResult<IssuedToken> {
    store.write(|conn| issue_in(conn, directory, now))
}

/// `issue` inside a caller's transaction, so the token commits with the caller's own writes
/// (a setup link's reveal) or not at all.
pub(crate) fn issue_in(
    conn: &mut store::DbConn,
    directory: &Directory,
    now: NaiveDateTime,
) -> DomainResult<IssuedToken> {
    let (info, secret) = new_token(directory.tenant_id.clone(), directory.id.clone(), now);
    let hashed = hash(secret.expose());
    directory_state::with_state_change(conn, &directory.id, now, |conn| {
        Ok(store::tokens::insert(conn, &info, &hashed)?)
    })?;
    Ok(issued(info, secret))
}

fn new_token(
    tenant_id: TenantId,
    directory_id: DirectoryId,
    now: NaiveDateTime,
) -> (TokenInfo, TokenSecret) {
    let secret = generate(TOKEN_PREFIX);
    let info = TokenInfo {
        id: TokenId::generate(),
        tenant_id,
        directory_id,
        hint: secret.hint(TOKEN_PREFIX),
        created_at: now,
        revoked_at: None,
        expires_at: None,
        last_used_at: None,
    };
    (info, secret)
}

fn issued(info: TokenInfo, secret: TokenSecret) -> IssuedToken {
    IssuedToken {
        id: info.id,
        directory_id: info.directory_id,
        hint: info.hint,
        secret,
    }
}

/// What a rotation did: the new token (shown once) and the old one with its expiry.
#[derive(Debug)]
pub struct Rotated {
    pub issued: IssuedToken,
    pub old: TokenInfo,
}

/// Issues a new token for the directory of token `id`, usable at once, and lets the old one
/// work until `now + overlap` only (at once for a zero overlap). An old token already set to
/// expire sooner keeps its earlier time. Refused for a token that is revoked or expired.
pub fn rotate(
    store: &Store,
    id: &TokenId,
    overlap: chrono::Duration,
    now: NaiveDateTime,
) -> DomainResult<Rotated> {
    if overlap < chrono::Duration::zero() {
        return Err(DomainError::Invalid(
            "the overlap must not be negative".into(),
        ));
    }
    let until = now
        .checked_add_signed(overlap)
        .ok_or_else(|| DomainError::Invalid("the overlap is too long".into()))?;
    let not_live = || DomainError::NotFound {
        kind: "active token",
        id: id.to_string(),
    };
    store.write(|conn| -> DomainResult<Rotated> {
        let old = store::tokens::get(conn, id)?.ok_or_else(not_live)?;
        if old.state(now) != TokenState::Live {
            return Err(not_live());
        }
        let (info, secret) = new_token(old.tenant_id.clone(), old.directory_id.clone(), now);
        store::tokens::insert(conn, &info, &hash(secret.expose()))?;
        let expires_at = old.expires_at.map_or(until, |at| at.min(until));
        store::tokens::set_expiry(conn, id, expires_at)?;
        Ok(Rotated {
            issued: issued(info, secret),
            old: TokenInfo {
                expires_at: Some(expires_at),
                ..old
            },
        })
    })
}

/// One token by id, with the same listing fields.
pub fn get(store: &Store, id: &TokenId) -> DomainResult<TokenInfo> {
    store
        .read(|conn| store::tokens::get(conn, id))?
        .ok_or_else(|| DomainError::NotFound {
            kind: "token",
            id: id.to_string(),
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
        directory_state::with_state_change(conn, &directory, now, |conn| {
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
/// is refused at most this long after `roster token revoke`, on every instance. A rotated-out
/// token's expiry is kept with it, so that one is refused on time.
pub const RECHECK_AFTER: Duration = Duration::from_secs(1);

/// How stale a token's `last_used_at` may get before a request stamps it again: a busy token
/// writes once a minute, not on every lookup.
pub const STAMP_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// A token found live in the database, as the recent-tokens cache keeps it.
#[derive(Clone)]
struct Known {
    found_at: Instant,
    scope: Scope,
    kind: DirectoryKind,
    expires_at: Option<NaiveDateTime>,
}

/// Tokens recently found live, by the SHA-256 of the token. An identity provider sends its
/// requests in a steady stream on one token, and looking the token up was a tenth of a GET by
/// id's time (on PostgreSQL a round trip of its own); trusted for `RECHECK_AFTER`, it is
/// looked up about once a second instead. Only live tokens are kept, so presenting made-up
/// tokens cannot fill it, and it holds at most `CAPACITY` of them.
#[derive(Default)]
pub struct RecentTokens {
    found: Mutex<HashMap<[u8; 32], Known>>,
}

const CAPACITY: usize = 1024;

impl RecentTokens {
    fn get(&self, digest: &[u8; 32], at: Instant, now: NaiveDateTime) -> Option<Known> {
        let found = self.found.lock().ok()?;
        let known = found.get(digest)?;
        let fresh = at.duration_since(known.found_at) < RECHECK_AFTER;
        let unexpired = known.expires_at.is_none_or(|e| now < e);
        (fresh && unexpired).then(|| known.clone())
    }

    fn remember(&self, digest: [u8; 32], known: Known) {
        if let Ok(mut found) = self.found.lock() {
            if found.len() >= CAPACITY && !found.contains_key(&digest) {
                found.retain(|_, k| known.found_at.duration_since(k.found_at) < RECHECK_AFTER);
                if found.len() >= CAPACITY {
                    found.clear();
                }
            }
            found.insert(digest, known);
        }
    }
}

/// The directory of a live token, and whether its last-used time is due a stamp.
#[derive(Debug, Clone)]
pub struct LiveToken {
    pub scope: Scope,
    pub kind: DirectoryKind,
    /// The token's id when its `last_used_at` is older than `STAMP_EVERY` (`mark_used`).
    pub stamp_due: Option<TokenId>,
}

/// The directory a presented bearer token belongs to, if it is a live token at `now`.
pub fn authenticate(
    store: &Store,
    recent: &RecentTokens,
    presented: &str,
    now: NaiveDateTime,
) -> DomainResult<Option<LiveToken>> {
    if !presented.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let digest = digest(presented);
    let at = Instant::now();
    // Found by its digest, like the database's index finds it: timing can tell an attacker
    // at most how much of a digest they matched, which SHA-256 turns into nothing about a
    // token.
    if let Some(known) = recent.get(&digest, at, now) {
        return Ok(Some(LiveToken {
            scope: known.scope,
            kind: known.kind,
            stamp_due: None,
        }));
    }
    let presented_hash = hex::encode(digest);
    let found = store.read(|conn| store::tokens::find_live(conn, &presented_hash, now))?;
    let Some(stored) = found.filter(|t| same_hash(&t.hash, &presented_hash)) else {
        return Ok(None);
    };
    recent.remember(
        digest,
        Known {
            found_at: at,
            scope: stored.scope.clone(),
            kind: stored.kind,
            expires_at: stored.expires_at,
        },
    );
    let due = stored.last_used_at.is_none_or(|t| now - t >= STAMP_EVERY);
    Ok(Some(LiveToken {
        scope: stored.scope,
        kind: stored.kind,
        stamp_due: due.then_some(stored.id),
    }))
}

/// Records that token `id` was used at `now`.
pub fn mark_used(store: &Store, id: &TokenId, now: NaiveDateTime) -> DomainResult<()> {
    Ok(store.write(|conn| store::tokens::mark_used(conn, id, now))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_redacted() {
        let a = generate(TOKEN_PREFIX);
        let b = generate(TOKEN_PREFIX);
        assert!(a.expose().starts_with(TOKEN_PREFIX));
        assert_eq!(a.expose().len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(a.hint(TOKEN_PREFIX).len(), TOKEN_PREFIX.len() + 6);
        assert_ne!(a.expose(), b.expose());
        assert!(!format!("{a:?}").contains(&a.expose()[TOKEN_PREFIX.len()..]));
        assert_eq!(hash(a.expose()).len(), 64);
        assert_ne!(hash(a.expose()), a.expose());
        assert!(same_hash(&hash(a.expose()), &hash(a.expose())));
        assert!(!same_hash(&hash(a.expose()), &hash(b.expose())));
    }

    #[test]
    fn recent_tokens_are_trusted_for_a_while_and_bounded() {
        let scope = Scope {
            tenant_id: TenantId::from_raw("t".to_string()),
            directory_id: DirectoryId::from_raw("d".to_string()),
        };
        let recent = RecentTokens::default();
        let start = Instant::now();
        let wall = crate::domain::clock::now();
        let known = |found_at, kind, expires_at| Known {
            found_at,
            scope: scope.clone(),
            kind,
            expires_at,
        };
        let digest = |i: usize| -> [u8; 32] { Sha256::digest(i.to_be_bytes()).into() };
        assert!(recent.get(&digest(0), start, wall).is_none());
        recent.remember(digest(0), known(start, DirectoryKind::Okta, None));
        let later = |ms| start + Duration::from_millis(ms);
        assert_eq!(RECHECK_AFTER, Duration::from_secs(1));
        for (at, trusted) in [(0, true), (999, true), (1000, false), (5000, false)] {
            assert_eq!(
                recent.get(&digest(0), later(at), wall).is_some(),
                trusted,
                "{at} ms after it was found"
            );
        }
        assert_eq!(
            recent
                .get(&digest(0), start, wall)
                .map(|k| (k.scope.directory_id, k.kind)),
            Some((scope.directory_id.clone(), DirectoryKind::Okta))
        );
        for i in 1..=CAPACITY {
            recent.remember(digest(i), known(later(2000), DirectoryKind::Generic, None));
        }
        let held = recent.found.lock().unwrap().len();
        assert!(held <= CAPACITY, "{held} entries");
        assert!(recent.get(&digest(CAPACITY), later(2000), wall).is_some());
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let recent = RecentTokens::default();
        let (start, wall) = (Instant::now(), crate::domain::clock::now());
        let expires_at = wall + chrono::Duration::milliseconds(300);
        let scope = Scope {
            tenant_id: TenantId::from_raw("t".to_string()),
            directory_id: DirectoryId::from_raw("d".to_string()),
        };
        let kind = DirectoryKind::Generic;
        let found_at = start;
        let expires_at = Some(expires_at);
        recent.remember(
            [7; 32],
            Known {
                found_at,
                scope,
                kind,
                expires_at,
            },
        );
        for (ms, trusted) in [(0, true), (299, true), (300, false), (500, false)] {
            let now = wall + chrono::Duration::milliseconds(ms);
            assert_eq!(
                recent.get(&[7; 32], start, now).is_some(),
                trusted,
                "{ms} ms"
            );
        }
    }
}
