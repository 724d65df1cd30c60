//! Settings: command-line flags, then `ROSTER_*` environment variables, then the config file,
//! then defaults. One typed struct, passed by value; no globals.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::request_log::Retention;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://roster.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_EVENTS_RETENTION: Retention =
    Retention::new(std::time::Duration::from_secs(90 * 24 * 3600));

/// The optional TOML file (`--config`/`ROSTER_CONFIG`). Unknown keys are an error, so a typo
/// never passes silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub public_url: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub schema_dir: Option<PathBuf>,
    /// `7d`, `12h`, …; `0` records nothing.
    pub request_log_retention: Option<Retention>,
    /// `90d`, `5s`, …; `0` keeps events for ever.
    pub events_retention: Option<Retention>,
    /// 64 hex digits (32 bytes) sealing stored secrets such as Google service-account keys.
    pub secret_key: Option<String>,
    pub google: Option<GoogleFileConfig>,
    /// Let webhooks go to plain-HTTP URLs (default: HTTPS only).
    pub allow_http_webhooks: Option<bool>,
    /// Let webhooks go to loopback, private and link-local addresses (default: refused).
    pub allow_private_webhook_targets: Option<bool>,
    /// `text` (the default) or `json`; `ROSTER_LOG_FORMAT` beats it.
    pub log_format: Option<LogFormat>,
    /// SCIM requests per second each directory may make; unset: no limit.
    pub rate_limit_per_second: Option<f64>,
    /// Requests a directory may make at once above the rate [default: the rate, at least 1].
    pub rate_limit_burst: Option<f64>,
}

/// How log lines are written on stderr.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For a person at a terminal.
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<LogFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => anyhow::bail!("ROSTER_LOG_FORMAT must be text or json, not '{s}'"),
        }
    }
}

impl LogFormat {
    /// `ROSTER_LOG_FORMAT`, else the config file's `log_format`, else text.
    pub fn resolve(env: Option<String>, file: Option<LogFormat>) -> anyhow::Result<LogFormat> {
        match env {
            Some(v) => v.parse(),
            None => Ok(file.unwrap_or_default()),
        }
    }
}

/// `[google]` in the config file: where the Google APIs are (tests point them at a fake) and
/// how the puller behaves.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleFileConfig {
    pub api_url: Option<String>,
    pub token_url: Option<String>,
    pub backoff_ms: Option<u64>,
    pub watch: Option<bool>,
    pub watch_ttl_secs: Option<u64>,
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("config file {} is invalid: {e}", path.display()))
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    /// Where clients reach the server, e.g. `https://roster.example.com`; `meta.location` and the
    /// printed SCIM base URL start with it.
    pub public_url: String,
    pub max_body_bytes: usize,
    /// A directory of extension schema documents (`*.json`) loaded on top of the built-in ones;
    /// `None` serves the built-in schemas only.
    pub schema_dir: Option<PathBuf>,
    /// How long the request log keeps SCIM exchanges; zero disables it.
    pub request_log_retention: Retention,
    /// How long events are kept for the feed; zero keeps them for ever.
    pub events_retention: Retention,
    /// The server key for secrets at rest; `None` when not configured (creating a Google
    /// directory then fails with a message saying how to set it).
    pub secret_key: Option<String>,
    pub google: GoogleConfig,
    pub allow_http_webhooks: bool,
    pub allow_private_webhook_targets: bool,
    /// Per-directory SCIM rate limit; `None`: off.
    pub rate_limit: Option<crate::http::rate_limit::RateLimit>,
}

#[derive(Debug, Clone)]
pub struct GoogleConfig {
    /// The Admin SDK base URL, `https://admin.googleapis.com` unless overridden.
    pub api_url: String,
    /// The OAuth token endpoint; `None` uses the key file's `token_uri`.
    pub token_url: Option<String>,
    /// The first retry's wait; each later retry doubles it (plus jitter).
    pub backoff_ms: u64,
    /// Whether `serve` opens users.watch push channels. Google delivers only to HTTPS, so the
    /// default is on when the public URL is HTTPS.
    pub watch: bool,
    pub watch_ttl_secs: u64,
}

pub const DEFAULT_GOOGLE_API_URL: &str = "https://admin.googleapis.com";

impl Default for GoogleConfig {
    fn default() -> Self {
        GoogleConfig {
            api_url: DEFAULT_GOOGLE_API_URL.to_string(),
            token_url: None,
            backoff_ms: 1000,
            watch: false,
            watch_ttl_secs: 6 * 3600,
        }
    }
}

impl GoogleConfig {
    fn resolve(
        file: GoogleFileConfig,
        env: &dyn Fn(&str) -> Option<String>,
        public_url: &str,
    ) -> anyhow::Result<GoogleConfig> {
        let number = |name: &str, file: Option<u64>, default: u64| -> anyhow::Result<u64> {
            match env(name) {
                Some(v) => v
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{name} must be a whole number, not '{v}'")),
                None => Ok(file.unwrap_or(default)),
            }
        };
        let watch = match env("ROSTER_GOOGLE_WATCH") {
            Some(v) => matches!(v.as_str(), "1" | "true" | "yes" | "on"),
            None => file.watch.unwrap_or(public_url.starts_with("https://")),
        };
        let defaults = GoogleConfig::default();
        Ok(GoogleConfig {
            api_url: env("ROSTER_GOOGLE_API_URL")
                .or(file.api_url)
                .unwrap_or(defaults.api_url)
                .trim_end_matches('/')
                .to_string(),
            token_url: env("ROSTER_GOOGLE_TOKEN_URL").or(file.token_url),
            backoff_ms: number(
                "ROSTER_GOOGLE_BACKOFF_MS",
                file.backoff_ms,
                defaults.backoff_ms,
            )?,
            watch,
            watch_ttl_secs: number(
                "ROSTER_GOOGLE_WATCH_TTL_SECS",
                file.watch_ttl_secs,
                defaults.watch_ttl_secs,
            )?,
        })
    }
}

/// The limit for a rate and a burst; no rate, or a zero or infinite one, is no limit. A burst
/// below one request could never pass, so it is at least one, and by default the rate.
fn rate_limit(
    per_second: Option<f64>,
    burst: Option<f64>,
) -> Option<crate::http::rate_limit::RateLimit> {
    let per_second = per_second.filter(|r| r.is_finite() && *r > 0.0)?;
    let burst = burst
        .filter(|b| b.is_finite() && *b > 0.0)
        .unwrap_or(per_second)
        .max(1.0);
    Some(crate::http::rate_limit::RateLimit { per_second, burst })
}

impl Config {
    /// The settings that only come from the environment or the file (secrets have no flag, so
    /// they never show in a process list): `ROSTER_SECRET_KEY` and `ROSTER_GOOGLE_*`.
    pub fn with_env(
        mut self,
        file_secret_key: Option<String>,
        file_google: Option<GoogleFileConfig>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        self.secret_key = env("ROSTER_SECRET_KEY").or(file_secret_key);
        let flag = |name: &str| {
            env(name).map(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                )
            })
        };
        if let Some(allowed) = flag("ROSTER_ALLOW_HTTP_WEBHOOKS") {
            self.allow_http_webhooks = allowed;
        }
        if let Some(allowed) = flag("ROSTER_ALLOW_PRIVATE_WEBHOOK_TARGETS") {
            self.allow_private_webhook_targets = allowed;
        }
        self.google =
            GoogleConfig::resolve(file_google.unwrap_or_default(), env, &self.public_url)?;
        let number = |name: &str| -> anyhow::Result<Option<f64>> {
            env(name)
                .map(|v| match v.trim().parse::<f64>() {
                    Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
                    _ => anyhow::bail!("{name} must be a number of requests, not '{v}'"),
                })
                .transpose()
        };
        let per_second =
            number("ROSTER_RATE_LIMIT_PER_SECOND")?.or(self.rate_limit.map(|r| r.per_second));
        let burst = number("ROSTER_RATE_LIMIT_BURST")?.or(self.rate_limit.map(|r| r.burst));
        self.rate_limit = rate_limit(per_second, burst);
        Ok(self)
    }

    pub fn resolve(
        file: FileConfig,
        database_url: Option<String>,
        bind: Option<String>,
        public_url: Option<String>,
        schema_dir: Option<PathBuf>,
    ) -> Config {
        let bind = bind
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_string());
        let public_url = public_url
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        Config {
            database_url: database_url
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            bind,
            public_url,
            max_body_bytes: file.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            schema_dir: schema_dir.or(file.schema_dir),
            request_log_retention: file.request_log_retention.unwrap_or(Retention::DEFAULT),
            events_retention: file.events_retention.unwrap_or(DEFAULT_EVENTS_RETENTION),
            secret_key: None,
            google: GoogleConfig::default(),
            allow_http_webhooks: file.allow_http_webhooks.unwrap_or(false),
            allow_private_webhook_targets: file.allow_private_webhook_targets.unwrap_or(false),
            rate_limit: rate_limit(file.rate_limit_per_second, file.rate_limit_burst),
        }
    }

    /// How webhook signing secrets are kept at rest (`delivery::secrets`).
    pub fn webhook_secrets(
        &self,
        store: &crate::store::Store,
    ) -> Result<crate::delivery::secrets::Secrets, crate::domain::sealing::SealError> {
        let key = crate::domain::sealing::SecretKey::resolve(
            self.secret_key.as_deref(),
            store.sqlite_file(),
        )?;
        Ok(crate::delivery::secrets::Secrets::new(key))
    }

    pub fn webhook_policy(&self) -> crate::delivery::target::TargetPolicy {
        crate::delivery::target::TargetPolicy {
            allow_http: self.allow_http_webhooks,
            allow_private: self.allow_private_webhook_targets,
        }
    }

    pub fn scim_base_url(&self) -> String {
        format!("{}{}", self.public_url, crate::http::SCIM_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let file: FileConfig = toml::from_str(
            "bind = \"0.0.0.0:9000\"\nmax_body_bytes = 10\nschema_dir = \"/etc/roster/schemas\"",
        )
        .unwrap();
        let c = Config::resolve(file, None, None, None, None);
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert_eq!(c.public_url, "http://0.0.0.0:9000");
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.max_body_bytes, 10);
        assert_eq!(c.schema_dir, Some(PathBuf::from("/etc/roster/schemas")));
        let c = Config::resolve(
            FileConfig {
                schema_dir: Some("/from/file".into()),
                ..FileConfig::default()
            },
            Some("postgres://x/y".into()),
            Some("127.0.0.1:1".into()),
            Some("https://r.example/".into()),
            Some("/from/flag".into()),
        );
        assert_eq!(c.scim_base_url(), "https://r.example/scim/v2");
        assert_eq!(c.database_url, "postgres://x/y");
        assert_eq!(c.schema_dir, Some(PathBuf::from("/from/flag")));
        let c = Config::resolve(FileConfig::default(), None, None, None, None);
        assert_eq!(c.schema_dir, None);
    }

    #[test]
    fn request_log_retention_comes_from_the_file_or_the_default() {
        let file: FileConfig = toml::from_str("request_log_retention = \"12h\"").unwrap();
        let c = Config::resolve(file, None, None, None, None);
        assert_eq!(c.request_log_retention, "12h".parse().unwrap());
        let c = Config::resolve(FileConfig::default(), None, None, None, None);
        assert_eq!(c.request_log_retention, Retention::DEFAULT);
        let err = toml::from_str::<FileConfig>("request_log_retention = \"7 days\"").unwrap_err();
        assert!(err.to_string().contains("not a duration"), "{err}");
    }

    #[test]
    fn google_settings_come_from_env_then_file() {
        let file: FileConfig = toml::from_str(
            "secret_key = \"ab\"\n[google]\napi_url = \"http://file/\"\nbackoff_ms = 5",
        )
        .unwrap();
        let env = |k: &str| (k == "ROSTER_GOOGLE_TOKEN_URL").then(|| "http://env/token".into());
        let c = Config::resolve(FileConfig::default(), None, None, None, None)
            .with_env(file.secret_key, file.google, &env)
            .unwrap();
        assert_eq!(c.secret_key.as_deref(), Some("ab"));
        assert_eq!(c.google.api_url, "http://file");
        assert_eq!(c.google.token_url.as_deref(), Some("http://env/token"));
        assert_eq!(c.google.backoff_ms, 5);
        assert!(
            !c.google.watch,
            "no push channels to a plain-HTTP public URL by default"
        );
        let bad = |k: &str| (k == "ROSTER_GOOGLE_BACKOFF_MS").then(|| "soon".into());
        assert!(
            Config::resolve(FileConfig::default(), None, None, None, None)
                .with_env(None, None, &bad)
                .is_err()
        );
    }

    #[test]
    fn log_format_comes_from_env_then_file() {
        let file: FileConfig = toml::from_str("log_format = \"json\"").unwrap();
        assert_eq!(
            LogFormat::resolve(None, file.log_format).unwrap(),
            LogFormat::Json
        );
        assert_eq!(
            LogFormat::resolve(Some("TEXT".into()), file.log_format).unwrap(),
            LogFormat::Text
        );
        assert_eq!(LogFormat::resolve(None, None).unwrap(), LogFormat::Text);
        let err = LogFormat::resolve(Some("xml".into()), None).unwrap_err();
        assert!(err.to_string().contains("text or json"), "{err}");
        assert!(toml::from_str::<FileConfig>("log_format = \"xml\"").is_err());
    }

    #[test]
    fn rate_limits_are_off_unless_a_rate_is_given() {
        let none = |_: &str| None;
        let c = Config::resolve(FileConfig::default(), None, None, None, None)
            .with_env(None, None, &none)
            .unwrap();
        assert_eq!(c.rate_limit, None);
        let file: FileConfig = toml::from_str("rate_limit_per_second = 5.0").unwrap();
        let c = Config::resolve(file, None, None, None, None)
            .with_env(None, None, &none)
            .unwrap();
        let limit = c.rate_limit.unwrap();
        assert_eq!((limit.per_second, limit.burst), (5.0, 5.0));
        let env = |k: &str| (k == "ROSTER_RATE_LIMIT_BURST").then(|| "20".into());
        let file: FileConfig = toml::from_str("rate_limit_per_second = 0.5").unwrap();
        let c = Config::resolve(file, None, None, None, None)
            .with_env(None, None, &env)
            .unwrap();
        let limit = c.rate_limit.unwrap();
        assert_eq!((limit.per_second, limit.burst), (0.5, 20.0));
        let bad = |k: &str| (k == "ROSTER_RATE_LIMIT_PER_SECOND").then(|| "fast".into());
        let err = Config::resolve(FileConfig::default(), None, None, None, None)
            .with_env(None, None, &bad)
            .unwrap_err();
        assert!(
            err.to_string().contains("ROSTER_RATE_LIMIT_PER_SECOND"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(toml::from_str::<FileConfig>("databse_url = \"x\"").is_err());
    }
}
