//! Signing secrets at rest. With a server key (`domain::sealing`: ROSTER_SECRET_KEY, or the
//! key file beside a SQLite database) each secret is sealed and bound to its endpoint; without
//! one — PostgreSQL and no ROSTER_SECRET_KEY — it is kept in clear, and `serve` warns at start.
//! Secrets stored in clear are sealed at the first start that has a key.

use std::sync::Arc;

use chrono::NaiveDateTime;

use super::DeliveryError;
use crate::domain::sealing::{SealError, SecretKey};
use crate::store::{self, Store};

/// Marks a stored secret as sealed; a signing secret itself starts `whsec_`.
const SEALED: &str = "sealed:";

/// How signing secrets are stored and read back: cheap to clone.
#[derive(Clone, Default)]
pub struct Secrets(Option<Arc<SecretKey>>);

impl Secrets {
    pub fn new(key: Option<SecretKey>) -> Secrets {
        Secrets(key.map(Arc::new))
    }

    /// Whether secrets are sealed before they are stored.
    pub fn sealing(&self) -> bool {
        self.0.is_some()
    }

    /// What to store for `secret` of endpoint `endpoint`.
    pub fn seal(&self, secret: &str, endpoint: &str) -> Result<String, DeliveryError> {
        match &self.0 {
            Some(key) => Ok(format!(
                "{SEALED}{}",
                key.seal(secret.as_bytes(), endpoint)?
            )),
            None => Ok(secret.to_string()),
        }
    }

    /// The secret a stored value holds.
    pub fn open(&self, stored: &str, endpoint: &str) -> Result<String, DeliveryError> {
        let Some(sealed) = stored.strip_prefix(SEALED) else {
            return Ok(stored.to_string());
        };
        let key = self.0.as_ref().ok_or(SealError::NoKey)?;
        String::from_utf8(key.open(sealed, endpoint)?)
            .map_err(|_| DeliveryError::Seal(SealError::Unseal))
    }
}

/// Seals every secret still stored in clear; returns how many endpoints changed.
pub fn seal_stored_in_clear(
    store: &Store,
    secrets: &Secrets,
    now: NaiveDateTime,
) -> Result<u64, DeliveryError> {
    if !secrets.sealing() {
        return Ok(0);
    }
    store.write(|conn| -> Result<u64, DeliveryError> {
        let mut changed = 0;
        for mut row in store::webhooks::list_endpoints(conn, None)? {
            let in_clear = |s: &str| !s.starts_with(SEALED);
            let previous_in_clear = row.previous_secret.as_deref().is_some_and(in_clear);
            if !in_clear(&row.secret) && !previous_in_clear {
                continue;
            }
            if in_clear(&row.secret) {
                row.secret = secrets.seal(&row.secret, &row.id)?;
            }
            if let Some(previous) = row.previous_secret.as_deref().filter(|p| in_clear(p)) {
                row.previous_secret = Some(secrets.seal(previous, &row.id)?);
            }
            row.updated_at = now;
            store::webhooks::save_endpoint(conn, &row)?;
            changed += 1;
        }
        Ok(changed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_sealed_secret_opens_only_for_its_endpoint_and_a_clear_one_reads_as_is() {
        let secrets = Secrets::new(Some(SecretKey::from_config(Some(KEY)).unwrap()));
        let stored = secrets.seal("whsec_abc", "wh_1").unwrap();
        assert!(stored.starts_with(SEALED) && !stored.contains("whsec_abc"));
        assert_eq!(secrets.open(&stored, "wh_1").unwrap(), "whsec_abc");
        assert!(secrets.open(&stored, "wh_2").is_err());
        assert_eq!(secrets.open("whsec_old", "wh_1").unwrap(), "whsec_old");
        let without_key = Secrets::default();
        assert_eq!(without_key.seal("whsec_abc", "wh_1").unwrap(), "whsec_abc");
        assert!(matches!(
            without_key.open(&stored, "wh_1"),
            Err(DeliveryError::Seal(SealError::NoKey))
        ));
    }
}
