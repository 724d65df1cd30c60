//! The token the first start of an empty database creates. Shown on the terminal when there is
//! one; otherwise (a container, a service manager) stdout ends up in logs that more people and
//! systems read than should hold a credential, so the token goes to a file only its owner can
//! read, and stdout says where.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

use crate::domain::tenancy::Bootstrap;
use crate::store::database_url::DatabaseUrl;

const FILE_SUFFIX: &str = "-first-start-token";

/// Beside a SQLite database (`roster.db-first-start-token`, like its `roster.db-requests`);
/// in the working directory for PostgreSQL (`roster-first-start-token`).
fn token_file(database_url: &str) -> PathBuf {
    match DatabaseUrl::parse(database_url) {
        Ok(DatabaseUrl::Sqlite(db)) => {
            let mut name = OsString::from(db);
            name.push(FILE_SUFFIX);
            PathBuf::from(name)
        }
        _ => PathBuf::from(format!("roster{FILE_SUFFIX}")),
    }
}

/// Writes `text` to a new file at `path` with mode 0600. A file left by an earlier first start
/// is replaced rather than reused, so that its permissions cannot be wider; `create_new` does
/// not follow a symbolic link planted in its place.
fn write_owner_only(path: &PathBuf, text: &str) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

pub(super) fn hand_over(
    first: &Bootstrap,
    base_url: &str,
    database_url: &str,
) -> anyhow::Result<()> {
    let created = format!(
        "First start: created tenant '{}' with directory '{}' (kind generic).\n\
         SCIM base URL: {base_url}",
        first.tenant.name, first.directory.name
    );
    let token = first.token.secret.expose();
    if std::io::stdout().is_terminal() {
        println!("{created}\nBearer token (shown once, keep it): {token}");
        return Ok(());
    }
    let path = token_file(database_url);
    write_owner_only(&path, &format!("{token}\n")).with_context(|| {
        format!(
            "cannot write the first start's token to {}; issue another with \
             `roster token issue --directory {}`",
            path.display(),
            first.directory.name
        )
    })?;
    println!(
        "{created}\nBearer token written to {} (readable by its owner only; \
         stdout is not a terminal, so the token is not printed)",
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_sits_beside_a_sqlite_database_or_in_the_working_directory() {
        let cases = [
            (
                "sqlite:///var/lib/roster.db",
                "/var/lib/roster.db-first-start-token",
            ),
            ("sqlite://roster.db", "roster.db-first-start-token"),
            ("postgres://roster@db/roster", "roster-first-start-token"),
        ];
        for (url, want) in cases {
            assert_eq!(token_file(url), PathBuf::from(want), "{url}");
        }
    }
}
