//! The service-account flow with domain-wide delegation: a JWT signed with the account's RSA
//! key (RS256) and `sub` = the admin it acts for, exchanged at the token endpoint for an access
//! token, which is reused until shortly before it expires.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::GoogleError;
use super::client::Backoff;

/// The read-only scopes the puller asks for; the admin must delegate exactly these.
pub const SCOPES: [&str; 3] = [
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
];

pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// A token is used until this long before Google says it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// The JSON key file Google hands out for a service account.
#[derive(Deserialize)]
pub struct ServiceAccountKey {
    #[serde(rename = "type")]
    pub kind: String,
    pub client_email: String,
    pub client_id: Option<String>,
    private_key: String,
    private_key_id: Option<String>,
    pub token_uri: Option<String>,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key", &"(redacted)")
            .finish()
    }
}

impl ServiceAccountKey {
    /// Parses a key file and checks that its private key is a usable RSA key.
    pub fn parse(bytes: &[u8]) -> Result<ServiceAccountKey, GoogleError> {
        let key: ServiceAccountKey = serde_json::from_slice(bytes).map_err(|e| {
            GoogleError::BadKeyFile(format!(
                "not a Google service-account JSON key file ({})",
                e.classify_name()
            ))
        })?;
        if key.kind != "service_account" {
            return Err(GoogleError::BadKeyFile(format!(
                "the key file's type is '{}', not 'service_account'",
                key.kind
            )));
        }
        key.encoding_key()?;
        Ok(key)
    }

    fn encoding_key(&self) -> Result<EncodingKey, GoogleError> {
        EncodingKey::from_rsa_pem(self.private_key.as_bytes()).map_err(|_| {
            GoogleError::BadKeyFile("the key file's private_key is not an RSA key in PEM".into())
        })
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    // serde's message can quote the input, which here is a private key.
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "invalid JSON"
            }
            serde_json::error::Category::Data => "missing or mistyped fields",
        }
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    scope: String,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Access tokens for one service account acting as one admin.
pub struct TokenSource {
    http: reqwest::blocking::Client,
    key: EncodingKey,
    key_id: Option<String>,
    client_email: String,
    admin: String,
    token_url: String,
    backoff: Backoff,
    cached: Mutex<Option<(String, Instant)>>,
}

impl TokenSource {
    pub fn new(
        http: reqwest::blocking::Client,
        key: &ServiceAccountKey,
        admin: &str,
        token_url: Option<&str>,
        backoff: Backoff,
    ) -> Result<TokenSource, GoogleError> {
        Ok(TokenSource {
            http,
            key: key.encoding_key()?,
            key_id: key.private_key_id.clone(),
            client_email: key.client_email.clone(),
            admin: admin.to_string(),
            token_url: token_url
                .or(key.token_uri.as_deref())
                .unwrap_or(DEFAULT_TOKEN_URL)
                .to_string(),
            backoff,
            cached: Mutex::new(None),
        })
    }

    /// A valid access token, from the cache while it has more than a few minutes left.
    pub fn token(&self) -> Result<String, GoogleError> {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.fetch()?;
        let usable = lifetime
            .saturating_sub(EXPIRY_MARGIN)
            .max(Duration::from_secs(30));
        *cached = Some((token.clone(), Instant::now() + usable));
        Ok(token)
    }

    /// Drops the cached token, after Google refused it.
    pub fn invalidate(&self) {
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn assertion(&self) -> Result<String, GoogleError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: &self.client_email,
            sub: &self.admin,
            scope: SCOPES.join(" "),
            aud: &self.token_url,
            iat: now,
            exp: now + 3600,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.key_id.clone();
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| GoogleError::BadKeyFile(format!("cannot sign the assertion: {e}")))
    }

    fn fetch(&self) -> Result<(String, Duration), GoogleError> {
        let assertion = self.assertion()?;
        let mut attempt = 0;
        loop {
            let sent = self
                .http
                .post(&self.token_url)
                .form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.as_str()),
                ])
                .send();
            let resp = match sent {
                Ok(r) => r,
                Err(e) if attempt < self.backoff.retries => {
                    tracing::warn!(error = %e, "token endpoint unreachable; retrying");
                    self.backoff.wait(attempt, None);
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(GoogleError::Transport(e.to_string())),
            };
            let status = resp.status();
            if status.is_success() {
                let body: TokenResponse = resp
                    .json()
                    .map_err(|_| GoogleError::BadResponse("token endpoint answer".into()))?;
                return Ok((
                    body.access_token,
                    Duration::from_secs(body.expires_in.unwrap_or(3600)),
                ));
            }
            if (status.as_u16() == 429 || status.is_server_error())
                && attempt < self.backoff.retries
            {
                self.backoff
                    .wait(attempt, super::client::retry_after(&resp));
                attempt += 1;
                continue;
            }
            let err: TokenError = resp.json().unwrap_or_default();
            // 400 invalid_grant / 401 unauthorized_client: a bad key, a deleted account, or
            // delegation not granted for these scopes.
            return Err(if matches!(status.as_u16(), 400 | 401 | 403) {
                GoogleError::InvalidCredentials(format!(
                    "the token endpoint refused service account {} acting as {} ({} {}{}{}); \
                     check the key and that domain-wide delegation grants: {}",
                    self.client_email,
                    self.admin,
                    status.as_u16(),
                    err.error,
                    if err.error_description.is_empty() {
                        ""
                    } else {
                        ": "
                    },
                    err.error_description,
                    SCOPES.join(", ")
                ))
            } else {
                GoogleError::Api {
                    status: status.as_u16(),
                    reason: err.error,
                    message: err.error_description,
                }
            });
        }
    }
}
