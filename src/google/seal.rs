//! Secrets at rest: the service-account key is sealed with the server key (ChaCha20-Poly1305)
//! before it reaches the database, bound to its directory so a sealed key copied to another
//! directory's row does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

use super::GoogleError;

const NONCE_LEN: usize = 12;

/// The server key from `ROSTER_SECRET_KEY` / `secret_key`: 32 bytes as 64 hex digits.
pub struct SecretKey(Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(redacted)")
    }
}

impl SecretKey {
    /// The configured key, or an error that says how to configure one.
    pub fn from_config(configured: Option<&str>) -> Result<SecretKey, GoogleError> {
        let text = configured.ok_or(GoogleError::NoSecretKey)?;
        let bytes = hex::decode(text.trim()).map_err(|_| GoogleError::BadSecretKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| GoogleError::BadSecretKey)?;
        Ok(SecretKey(bytes.into()))
    }

    pub fn seal(&self, plaintext: &[u8], bound_to: &str) -> Result<String, GoogleError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = ChaCha20Poly1305::new(&self.0)
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: bound_to.as_bytes(),
                },
            )
            .map_err(|_| GoogleError::Unseal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(hex::encode(out))
    }

    pub fn open(&self, sealed: &str, bound_to: &str) -> Result<Vec<u8>, GoogleError> {
        let bytes = hex::decode(sealed).map_err(|_| GoogleError::Unseal)?;
        if bytes.len() < NONCE_LEN {
            return Err(GoogleError::Unseal);
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        ChaCha20Poly1305::new(&self.0)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: bound_to.as_bytes(),
                },
            )
            .map_err(|_| GoogleError::Unseal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_directory() {
        let key = SecretKey::from_config(Some(KEY)).unwrap();
        let sealed = key.seal(b"private", "dir-1").unwrap();
        assert!(!sealed.contains(&hex::encode(b"private")));
        assert_eq!(key.open(&sealed, "dir-1").unwrap(), b"private");
        assert!(matches!(
            key.open(&sealed, "dir-2"),
            Err(GoogleError::Unseal)
        ));
        let other = SecretKey::from_config(Some(&KEY.replace("00", "ff"))).unwrap();
        assert!(matches!(
            other.open(&sealed, "dir-1"),
            Err(GoogleError::Unseal)
        ));
    }

    #[test]
    fn a_missing_or_short_key_is_a_clear_error() {
        assert!(matches!(
            SecretKey::from_config(None),
            Err(GoogleError::NoSecretKey)
        ));
        assert!(matches!(
            SecretKey::from_config(Some("abcd")),
            Err(GoogleError::BadSecretKey)
        ));
    }
}
