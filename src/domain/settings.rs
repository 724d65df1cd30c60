//! Deployment-wide secrets, created on first use and shared by every instance.

use chrono::NaiveDateTime;
use rand::RngCore;

use super::error::{DomainError, DomainResult};
use crate::store::{self, Store};

const CURSOR_KEY: &str = "cursor_key";

/// The key that signs list cursors. The first instance to start creates it; when two race,
/// the loser reads the winner's.
pub fn cursor_key(store: &Store, now: NaiveDateTime) -> DomainResult<Vec<u8>> {
    let stored = match store.read(|conn| store::settings::get(conn, CURSOR_KEY))? {
        Some(v) => v,
        None => {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            let fresh = hex::encode(key);
            match store.write(|conn| store::settings::insert(conn, CURSOR_KEY, &fresh, now)) {
                Ok(()) => fresh,
                Err(e) if e.unique_violation().is_some() => store
                    .read(|conn| store::settings::get(conn, CURSOR_KEY))?
                    .ok_or_else(|| DomainError::Invalid("cursor key vanished".into()))?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    hex::decode(stored)
        .map_err(|e| DomainError::Store(store::StoreError::Corrupt(format!("cursor key: {e}"))))
}
