//! Settings: command-line flags, then `ROSTER_*` environment variables, then the config file,
//! then defaults. One typed struct, passed by value; no globals.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::request_log::Retention;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://roster.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

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
}

impl Config {
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
    fn unknown_keys_are_errors() {
        assert!(toml::from_str::<FileConfig>("databse_url = \"x\"").is_err());
    }
}
