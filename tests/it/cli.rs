//! The command line: first start, administration, and clear errors.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// A `roster serve` stopped however the test ends, so a failed assertion leaves no server behind.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn first_start_writes_a_working_token_to_an_owner_only_file() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDb::new(backend);
        // PostgreSQL's token file goes to the working directory: one of the test's own.
        let work =
            std::env::temp_dir().join(format!("roster-first-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&work).unwrap();
        // Piped, as in a container: not a terminal.
        let mut child = KillOnDrop(
            std::process::Command::new(roster_bin())
                .args(["serve", "--bind", "127.0.0.1:0"])
                .env("ROSTER_DATABASE_URL", &db.url)
                .env("ROSTER_LOG", "warn")
                .current_dir(&work)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let stdout = child.0.stdout.take().unwrap();
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
        let mut printed = String::new();
        let mut file = None;
        let mut origin = None;
        for line in lines.by_ref().map_while(Result::ok) {
            printed.push_str(&line);
            if let Some(rest) = line.strip_prefix("Bearer token written to ") {
                file = rest.split(" (").next().map(std::path::PathBuf::from);
            }
            if let Some(rest) = line.strip_prefix("roster: listening on ") {
                origin = rest.split_whitespace().next().map(str::to_string);
                break;
            }
        }
        let (file, origin) = (
            work.join(file.expect("the token file named")),
            origin.expect("address printed"),
        );
        let token = std::fs::read_to_string(&file).unwrap().trim().to_string();
        assert!(token.starts_with("roster_"), "{token}");
        assert!(
            !printed.contains(&token),
            "the token was printed: {printed}"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(&file.metadata().unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        match backend {
            Backend::Sqlite => assert_eq!(
                file,
                work.join(format!(
                    "{}-first-start-token",
                    db.url.trim_start_matches("sqlite://")
                ))
            ),
            Backend::Postgres => assert_eq!(file, work.join("roster-first-start-token")),
        }
        std::fs::remove_file(&file).unwrap();
        std::fs::remove_dir(&work).unwrap();
        let r = reqwest::Client::new()
            .post(format!("{origin}/scim/v2/Users"))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(user_body("first@example.com").to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{backend:?}");
        drop(child);

        let tenants = cli_json(&db, &["tenant", "list"]);
        assert_eq!(tenants["tenants"][0]["name"], json!("default"));
        // A second start creates nothing and prints no token.
        let server = TestServer::start_on(db, token, &[]).await;
        assert_eq!(
            server.client.get("/Users").await.body["totalResults"],
            json!(1)
        );
        let db = server.stop();
        assert_eq!(
            cli_json(&db, &["tenant", "list"])["tenants"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}

#[test]
fn administration_round_trip() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDb::new(backend);
        let t = cli_json(&db, &["tenant", "create", "acme"]);
        assert_eq!(t["name"], json!("acme"));
        let dup = cli(&db, &["tenant", "create", "acme"]);
        assert!(!dup.status.success());
        assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
        let d = cli_json(
            &db,
            &[
                "directory",
                "create",
                "--tenant",
                "acme",
                "--kind",
                "entra",
                "azure",
            ],
        );
        assert_eq!(d["kind"], json!("entra"));
        assert!(d["scim_base_url"].as_str().unwrap().ends_with("/scim/v2"));
        let token = d["token"].as_str().unwrap().to_string();
        assert!(token.starts_with("roster_"));
        let bad_kind = cli(
            &db,
            &[
                "directory",
                "create",
                "--tenant",
                "acme",
                "--kind",
                "ldap",
                "x",
            ],
        );
        assert!(
            String::from_utf8_lossy(&bad_kind.stderr).contains("unknown directory kind 'ldap'")
        );
        let listed = cli_json(&db, &["token", "list", "--directory", "azure"]);
        let row = &listed["tokens"][0];
        assert!(token.starts_with(row["hint"].as_str().unwrap()));
        assert_eq!(row["state"], json!("live"), "{row}");
        assert!(
            !listed.to_string().contains(&token),
            "listings never show a token"
        );
        let dirs = cli_json(&db, &["directory", "list", "--tenant", "acme"]);
        assert_eq!(dirs["directories"][0]["name"], json!("azure"));
        // Only the hash is stored.
        let store = roster::store::Store::open(&db.url).unwrap();
        let mut conn = store.conn().unwrap();
        use diesel::prelude::*;
        use roster::store::schema::tokens::dsl as tk;
        let hashes: Vec<String> = tk::tokens.select(tk::token_hash).load(&mut *conn).unwrap();
        assert_eq!(hashes, [roster::domain::token::hash(&token)]);
    }
}

#[test]
fn bad_database_settings_name_the_real_cause() {
    let run = |url: &str| {
        let out = std::process::Command::new(roster_bin())
            .args(["migrate"])
            .env("ROSTER_DATABASE_URL", url)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{url}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(run("mysql://localhost/x").contains("unsupported database URL scheme 'mysql'"));
    let refused = run("postgres://postgres@127.0.0.1:1/none");
    assert!(
        refused.contains("cannot connect to the database")
            && refused.to_lowercase().contains("refused"),
        "{refused}"
    );
    let config = std::env::temp_dir().join(format!("roster-bad-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&config, "databse_url = \"sqlite://x.db\"\n").unwrap();
    let out = std::process::Command::new(roster_bin())
        .args(["--config", config.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&config);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field"));
}
