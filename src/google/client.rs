//! The Admin SDK Directory API: authenticated requests with retries, and list pages read one
//! at a time.

use std::time::Duration;

use rand::Rng;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

use super::GoogleError;
use super::auth::TokenSource;

/// Exponential backoff with jitter: the n-th retry waits `base * 2^n` plus up to `base`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub retries: u32,
}

/// No single wait is longer than this, whatever the exponent or `Retry-After` say.
const MAX_WAIT: Duration = Duration::from_secs(64);

impl Backoff {
    pub fn new(base_ms: u64) -> Backoff {
        Backoff {
            base: Duration::from_millis(base_ms),
            retries: 6,
        }
    }

    pub fn wait(&self, attempt: u32, at_least: Option<Duration>) {
        let exp = self.base.saturating_mul(1 << attempt.min(16));
        let jitter_ms = rand::rng().random_range(0..=self.base.as_millis().max(1) as u64);
        let wait = (exp + Duration::from_millis(jitter_ms))
            .max(at_least.unwrap_or_default())
            .min(MAX_WAIT);
        std::thread::sleep(wait);
    }
}

/// The `Retry-After` header in seconds, when the server sent one.
pub(super) fn retry_after(resp: &Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

/// Google's error envelope: `{"error":{"code","message","errors":[{"reason","message"}]}}`.
fn envelope(body: &str) -> (String, String) {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let err = &v["error"];
    let reason = err["errors"][0]["reason"]
        .as_str()
        .or_else(|| err["status"].as_str())
        .unwrap_or_default()
        .to_string();
    let message = err["message"].as_str().unwrap_or_default().to_string();
    (reason, message)
}

/// 403 reasons that mean "slow down", not "not allowed".
fn rate_limited(reason: &str) -> bool {
    matches!(
        reason,
        "userRateLimitExceeded" | "rateLimitExceeded" | "quotaExceeded"
    )
}

pub struct Api {
    http: Client,
    base: String,
    tokens: TokenSource,
    backoff: Backoff,
}

impl Api {
    pub fn new(http: Client, base: &str, tokens: TokenSource, backoff: Backoff) -> Api {
        Api {
            http,
            base: base.trim_end_matches('/').to_string(),
            tokens,
            backoff,
        }
    }

    pub fn tokens(&self) -> &TokenSource {
        &self.tokens
    }

    /// GET `path` (relative to the API base); `None` when Google answers 404.
    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Option<Value>, GoogleError> {
        let url = self.url(path, query)?;
        self.send(|http| http.get(url.clone()))
    }

    pub fn post(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: &Value,
    ) -> Result<Option<Value>, GoogleError> {
        let url = self.url(path, query)?;
        self.send(|http| http.post(url.clone()).json(body))
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<url::Url, GoogleError> {
        let base = format!("{}/{path}", self.base);
        let parsed = if query.is_empty() {
            url::Url::parse(&base)
        } else {
            url::Url::parse_with_params(&base, query)
        };
        parsed.map_err(|e| GoogleError::Invalid(format!("Google API URL {base}: {e}")))
    }

    fn send(
        &self,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Option<Value>, GoogleError> {
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            let token = self.tokens.token()?;
            let resp = match build(&self.http).bearer_auth(token).send() {
                Ok(r) => r,
                Err(e) if attempt < self.backoff.retries => {
                    tracing::warn!(error = %e, attempt, "Directory API unreachable; retrying");
                    self.backoff.wait(attempt, None);
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(GoogleError::Transport(e.to_string())),
            };
            let status = resp.status().as_u16();
            if resp.status().is_success() {
                let text = resp
                    .text()
                    .map_err(|e| GoogleError::Transport(e.to_string()))?;
                if text.trim().is_empty() {
                    return Ok(Some(Value::Null));
                }
                return serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| GoogleError::BadResponse(format!("not JSON: {e}")));
            }
            if status == 404 {
                return Ok(None);
            }
            let wait = retry_after(&resp);
            let (reason, message) = envelope(&resp.text().unwrap_or_default());
            let retry = status == 429 || status >= 500 || (status == 403 && rate_limited(&reason));
            if retry && attempt < self.backoff.retries {
                tracing::info!(status, reason, attempt, "Directory API asks to back off");
                self.backoff.wait(attempt, wait);
                attempt += 1;
                continue;
            }
            if status == 401 && !refreshed {
                // The cached token may have been revoked early: one fresh token, then give up.
                self.tokens.invalidate();
                refreshed = true;
                continue;
            }
            if matches!(status, 401 | 403) && !retry {
                return Err(GoogleError::InvalidCredentials(format!(
                    "the Directory API refused the request ({status} {reason}: {message})"
                )));
            }
            return Err(GoogleError::Api {
                status,
                reason,
                message,
            });
        }
    }

    /// The pages of a list call, read one at a time as the iterator is advanced.
    pub fn pages<'a>(
        &'a self,
        path: String,
        query: Vec<(&'static str, String)>,
        field: &'static str,
    ) -> Pages<'a> {
        Pages {
            api: self,
            path,
            query,
            field,
            next: None,
            done: false,
        }
    }
}

pub struct Pages<'a> {
    api: &'a Api,
    path: String,
    query: Vec<(&'static str, String)>,
    field: &'static str,
    next: Option<String>,
    done: bool,
}

impl Iterator for Pages<'_> {
    type Item = Result<Vec<Value>, GoogleError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut query: Vec<(&str, &str)> =
            self.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(token) = &self.next {
            query.push(("pageToken", token));
        }
        let page = match self.api.get(&self.path, &query) {
            Ok(Some(page)) => page,
            Ok(None) => {
                self.done = true;
                return Some(Err(GoogleError::NotFound(self.path.clone())));
            }
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.next = page["nextPageToken"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        self.done = self.next.is_none();
        let items = match page {
            Value::Object(mut map) => match map.remove(self.field) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        Some(Ok(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_envelope_names_the_reason() {
        let body = r#"{"error":{"code":403,"message":"Quota exceeded","errors":[{"reason":"userRateLimitExceeded","message":"x","domain":"usageLimits"}]}}"#;
        let (reason, message) = envelope(body);
        assert_eq!(reason, "userRateLimitExceeded");
        assert_eq!(message, "Quota exceeded");
        assert!(rate_limited(&reason));
        assert!(!rate_limited("forbidden"));
        assert_eq!(envelope("<html>"), (String::new(), String::new()));
    }
}
