//! Secrets that must be read back (Google service-account keys, webhook signing secrets) are
//! sealed with the server key (ChaCha20-Poly1305) before they reach the database, each bound to
//! its row's id so a sealed value copied to another row does not open. The server key lives
//! outside the database, so a copy of the database alone reveals none of them.

use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use thiserror::Error;

const NONCE_LEN: usize = 12;

#[derive(Debug, Error)]
pub enum SealError {
    #[error(
        "no server key is configured to seal stored secrets: set ROSTER_SECRET_KEY \
         (or secret_key in the config file) to 64 hex digits, e.g. from `openssl rand -hex 32`"
    )]
    NoKey,
    #[error("the server key (ROSTER_SECRET_KEY / secret_key) must be 64 hex digits")]
    BadKey,
    #[error(
        "a stored secret cannot be decrypted: the server key differs from the one it was \
         stored with"
    )]
    Unseal,
    #[error("the server key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
}

/// The server key from `ROSTER_SECRET_KEY` / `secret_key`: 32 bytes as 64 hex digits.
pub struct SecretKey(Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(redacted)")
    }
}

impl SecretKey {
    /// The configured key, or an error that says how to configure one.
    pub fn from_config(configured: Option<&str>) -> Result<SecretKey, SealError> {
        let text = configured.ok_or(SealError::NoKey)?;
        let bytes = hex::decode(text.trim()).map_err(|_| SealError::BadKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadKey)?;
        Ok(SecretKey(bytes.into()))
    }

    /// The configured key; else, for a SQLite database, the key in the file beside it (created
    /// on first use, readable by its owner only), so that the database file and its backups
    /// hold no secret in clear without any setup. Several instances share a PostgreSQL
    /// database and must share one key, so there only a configured key counts.
    pub fn resolve(
        configured: Option<&str>,
        sqlite_file: Option<&Path>,
    ) -> Result<Option<SecretKey>, SealError> {
        if configured.is_some() {
            return SecretKey::from_config(configured).map(Some);
        }
        let Some(database) = sqlite_file else {
            return Ok(None);
        };
        let mut path = database.as_os_str().to_owned();
        path.push(".key");
        let path = PathBuf::from(path);
        let failed = |e: std::io::Error| SealError::KeyFile {
            path: path.clone(),
            reason: e.to_string(),
        };
        let text = match read_key_file(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                match create_key_file(&path, &hex::encode(key)) {
                    Ok(()) => hex::encode(key),
                    // Another process made it first: its key is the one.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        read_key_file(&path).map_err(failed)?
                    }
                    Err(e) => return Err(failed(e)),
                }
            }
            Err(e) => return Err(failed(e)),
        };
        SecretKey::from_config(Some(&text))
            .map(Some)
            .map_err(|_| SealError::KeyFile {
                path: path.clone(),
                reason: "does not hold 64 hex digits".into(),
            })
    }

    pub fn seal(&self, plaintext: &[u8], bound_to: &str) -> Result<String, SealError> {
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
            .map_err(|_| SealError::Unseal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(hex::encode(out))
    }

    pub fn open(&self, sealed: &str, bound_to: &str) -> Result<Vec<u8>, SealError> {
        let bytes = hex::decode(sealed).map_err(|_| SealError::Unseal)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Unseal);
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
            .map_err(|_| SealError::Unseal)
    }
}

fn read_key_file(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path).map(|t| t.trim().to_string())
}

/// Writes the key whole under a name of its own, then links it in place: a process that
/// finds the file reads a whole key, and of two that race, one link wins.
fn create_key_file(path: &Path, text: &str) -> std::io::Result<()> {
    let mut draft = path.as_os_str().to_owned();
    draft.push(format!(".{}", uuid::Uuid::new_v4().simple()));
    let draft = PathBuf::from(draft);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&draft).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")?;
        // The key must outlive a crash that keeps the secrets it sealed.
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&draft, path));
    let _ = std::fs::remove_file(&draft);
    linked?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
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
        assert!(matches!(key.open(&sealed, "dir-2"), Err(SealError::Unseal)));
        let other = SecretKey::from_config(Some(&KEY.replace("00", "ff"))).unwrap();
        assert!(matches!(
            other.open(&sealed, "dir-1"),
            Err(SealError::Unseal)
        ));
    }

    #[test]
    fn a_sqlite_database_gets_a_private_key_file_beside_it_once() {
        let dir = std::env::temp_dir().join(format!("roster-seal-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("r.db");
        let first = SecretKey::resolve(None, Some(&db)).unwrap().unwrap();
        let sealed = first.seal(b"private", "row").unwrap();
        let again = SecretKey::resolve(None, Some(&db)).unwrap().unwrap();
        assert_eq!(again.open(&sealed, "row").unwrap(), b"private");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("r.db.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(SecretKey::resolve(None, None).unwrap().is_none());
        assert!(SecretKey::resolve(Some(KEY), None).unwrap().is_some());
        std::fs::write(dir.join("r.db.key"), "nonsense").unwrap();
        assert!(matches!(
            SecretKey::resolve(None, Some(&db)),
            Err(SealError::KeyFile { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_or_short_key_is_a_clear_error() {
        assert!(matches!(
            SecretKey::from_config(None),
            Err(SealError::NoKey)
        ));
        assert!(matches!(
            SecretKey::from_config(Some("abcd")),
            Err(SealError::BadKey)
        ));
    }
}
