//! Where the data lives: the database URL, and the backend it picks.

use std::path::PathBuf;

use super::error::StoreError;

/// Where the data lives, parsed from `ROSTER_DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::BadUrl(
                    "sqlite:// needs a file path, e.g. sqlite://roster.db".into(),
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        let scheme = url.split_once("://").map_or(url, |(s, _)| s);
        Err(StoreError::BadUrl(format!(
            "unsupported database URL scheme '{scheme}': use sqlite://PATH or postgres://USER@HOST/DB"
        )))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_pick_the_backend_or_say_why_not() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://roster.db").unwrap(),
            DatabaseUrl::Sqlite("roster.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/roster.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/roster.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        for bad in ["mysql://x/y", "roster.db", "sqlite://"] {
            let err = DatabaseUrl::parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("sqlite://"),
                "{bad}: error should say what works: {err}"
            );
        }
    }
}
