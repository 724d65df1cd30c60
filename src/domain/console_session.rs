//! Admin console sessions: an admin key presented once at sign-in buys a session id kept in a
//! cookie. Only the id's hash is stored, so a copy of the database opens no session; the CSRF
//! token every form carries is a keyed hash of the id, so any instance can check it without
//! storing it. A session ends at sign-out, after `IDLE` unused, `LIFETIME` after sign-in, or
//! as soon as its admin key is revoked.

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::admin_key::{self, AdminKeyInfo};
use super::error::DomainResult;
use super::token::{self, TokenSecret, hash};
use crate::store::console_sessions::SessionRow;
use crate::store::{self, Store};

/// Recognisable in a leaked cookie jar or log, like every other Roster secret.
pub const SESSION_PREFIX: &str = "roster_session_";

/// How long a session lives without a request.
pub const IDLE: Duration = Duration::hours(12);
/// How long a session lives at most, used or not.
pub const LIFETIME: Duration = Duration::hours(24);
/// `last_seen_at` is stamped at most this often, so browsing does not write on every page.
const STAMP_EVERY: Duration = Duration::minutes(1);

/// Why a sign-in was refused; the console shows one message for both, so a caller learns
/// nothing about which keys exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownKey,
    AddressNotAllowed,
}

/// A session just begun: the id for the cookie (shown once, like any secret) and its key.
#[derive(Debug)]
pub struct Started {
    pub secret: TokenSecret,
    pub key: AdminKeyInfo,
}

/// A live session: the admin key it acts as and the CSRF token of its forms.
#[derive(Debug, Clone)]
pub struct Session {
    pub key: AdminKeyInfo,
    pub csrf: String,
}

impl Session {
    /// Whether a form's token is this session's, in constant time.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        self.csrf.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// The CSRF token of the session whose id is `secret`.
fn csrf_of(secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 takes a key of any length");
    mac.update(b"roster console csrf");
    hex::encode(mac.finalize().into_bytes())
}

/// Signs in with an admin key presented from `peer`. The key is looked up by its hash and
/// compared in constant time (`admin_key::authenticate`), so the answer's timing says nothing
/// about how close a guess came.
pub fn sign_in(
    store: &Store,
    presented: &str,
    peer: Option<IpAddr>,
    now: NaiveDateTime,
) -> DomainResult<Result<Started, Refusal>> {
    let Some(key) = admin_key::authenticate(store, presented.trim())? else {
        return Ok(Err(Refusal::UnknownKey));
    };
    if !key.admits(peer) {
        return Ok(Err(Refusal::AddressNotAllowed));
    }
    let secret = token::generate(SESSION_PREFIX);
    let row = SessionRow {
        id_hash: hash(secret.expose()),
        admin_key_id: key.id.to_string(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + LIFETIME,
    };
    store.write(|conn| -> DomainResult<()> {
        store::console_sessions::delete_expired(conn, now, now - IDLE)?;
        Ok(store::console_sessions::insert(conn, &row)?)
    })?;
    Ok(Ok(Started { secret, key }))
}

/// The live session whose id is `presented`, used from `peer`; `None` when there is none, it
/// expired, its key was revoked, or the key's allow list does not hold `peer`.
pub fn find(
    store: &Store,
    presented: &str,
    peer: Option<IpAddr>,
    now: NaiveDateTime,
) -> DomainResult<Option<Session>> {
    if !presented.starts_with(SESSION_PREFIX) {
        return Ok(None);
    }
    let id_hash = hash(presented);
    let found = store.read(|conn| -> DomainResult<_> {
        let Some(row) = store::console_sessions::find(conn, &id_hash)? else {
            return Ok(None);
        };
        let key = store::admin_keys::find_live_by_id(conn, &row.admin_key_id)?;
        Ok(key.map(|k| (row, k)))
    })?;
    let Some((row, key)) = found else {
        return Ok(None);
    };
    let live = token::same_hash(&row.id_hash, &id_hash)
        && row.expires_at > now
        && row.last_seen_at + IDLE > now
        && key.admits(peer);
    if !live {
        return Ok(None);
    }
    if now - row.last_seen_at >= STAMP_EVERY {
        store.write(|conn| store::console_sessions::touch(conn, &id_hash, now))?;
    }
    Ok(Some(Session {
        key,
        csrf: csrf_of(presented),
    }))
}

pub fn sign_out(store: &Store, presented: &str) -> DomainResult<()> {
    let id_hash = hash(presented);
    Ok(store.write(|conn| store::console_sessions::delete(conn, &id_hash))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_is_the_sessions_own() {
        let a = token::generate(SESSION_PREFIX);
        let b = token::generate(SESSION_PREFIX);
        let session = |s: &TokenSecret| Session {
            key: AdminKeyInfo {
                id: crate::domain::ids::TokenId::from_raw("k"),
                tenant_id: None,
                hint: "roster_admin_abcdef".into(),
                allow: None,
                created_at: crate::domain::clock::now(),
                revoked_at: None,
            },
            csrf: csrf_of(s.expose()),
        };
        assert!(session(&a).csrf_matches(&csrf_of(a.expose())));
        assert!(!session(&a).csrf_matches(&csrf_of(b.expose())));
        assert!(!session(&a).csrf_matches(""));
        assert_ne!(csrf_of(a.expose()), a.expose());
    }
}
