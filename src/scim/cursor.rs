//! RFC 9865 cursors: opaque to clients, signed so they cannot be forged or edited, bound to
//! the query they came from, and valid for a limited time.

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{ScimError, ScimResult};

/// How long a cursor stays valid (advertised as `cursorTimeout`).
pub const CURSOR_TIMEOUT_SECS: i64 = 3600;

/// The deployment's cursor-signing key (shared by every instance through the database).
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl CursorKey {
    pub fn new(bytes: Vec<u8>) -> Self {
        CursorKey(bytes)
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(payload);
        mac
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

/// Where the next page starts: after a row of the default order, or at an offset of a sorted
/// list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Position {
    After { created: NaiveDateTime, id: String },
    Offset(u64),
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// Fingerprint of the query the cursor belongs to.
    q: String,
    /// Issued at, seconds since the epoch.
    t: i64,
    p: Position,
}

/// A short digest of what defines a list (resource type, filter, sort), so a cursor cannot be
/// replayed against a different query.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..12])
}

pub fn encode(key: &CursorKey, query: &str, position: Position, now: DateTime<Utc>) -> String {
    let payload = serde_json::to_vec(&Payload {
        q: query.to_string(),
        t: now.timestamp(),
        p: position,
    })
    .unwrap_or_default();
    let tag = key.mac(&payload).finalize().into_bytes();
    format!("{}.{}", hex::encode(&payload), hex::encode(tag))
}

pub fn decode(
    key: &CursorKey,
    cursor: &str,
    query: &str,
    now: DateTime<Utc>,
) -> ScimResult<Position> {
    let invalid = || {
        ScimError::InvalidCursor("the cursor is not one this server issued for this query".into())
    };
    let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
    let payload = hex::decode(payload).map_err(|_| invalid())?;
    let tag = hex::decode(tag).map_err(|_| invalid())?;
    key.mac(&payload)
        .verify_slice(&tag)
        .map_err(|_| invalid())?;
    let payload: Payload = serde_json::from_slice(&payload).map_err(|_| invalid())?;
    if payload.q != query {
        return Err(invalid());
    }
    if now.timestamp() - payload.t > CURSOR_TIMEOUT_SECS {
        return Err(ScimError::ExpiredCursor(format!(
            "the cursor is older than {CURSOR_TIMEOUT_SECS} seconds; start again without one"
        )));
    }
    Ok(payload.p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_resist_tampering() {
        let key = CursorKey::new(b"0123456789abcdef0123456789abcdef".to_vec());
        let now = Utc::now();
        let position = Position::Offset(200);
        let c = encode(&key, "q1", position.clone(), now);
        assert_eq!(decode(&key, &c, "q1", now).unwrap(), position);

        let other_key = CursorKey::new(b"another key".to_vec());
        let (payload, tag) = c.split_once('.').unwrap();
        let edited = format!(
            "{}.{tag}",
            hex::encode(
                String::from_utf8(hex::decode(payload).unwrap())
                    .unwrap()
                    .replace("200", "900")
            )
        );
        let cases = [
            (decode(&other_key, &c, "q1", now), "another key"),
            (decode(&key, &c, "q2", now), "another query"),
            (decode(&key, &edited, "q1", now), "edited payload"),
            (decode(&key, "garbage", "q1", now), "garbage"),
            (decode(&key, "zz.zz", "q1", now), "not hex"),
        ];
        for (result, what) in cases {
            assert!(matches!(result, Err(ScimError::InvalidCursor(_))), "{what}");
        }
        let later = now + chrono::Duration::seconds(CURSOR_TIMEOUT_SECS + 1);
        assert!(matches!(
            decode(&key, &c, "q1", later),
            Err(ScimError::ExpiredCursor(_))
        ));
    }
}
