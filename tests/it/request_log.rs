//! The request log end to end: what is recorded and what never is, retention, and the workflow
//! it exists for: record traffic, export it, replay it elsewhere with no differences.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scim-conformance/replay/generic")
        .join(name)
}

fn temp_file(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("roster-{what}-{}.json", uuid::Uuid::new_v4()))
}

/// The directory's entries, oldest first, once there are `n` (the writer is asynchronous, and
/// so is the purge).
async fn entries(db: &TestDb, directory: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = cli_json(
            db,
            &["log", "list", "--directory", directory, "--limit", "1000"],
        );
        let found = listed["entries"].as_array().cloned().unwrap_or_default();
        if found.len() == n || Instant::now() > deadline {
            assert_eq!(found.len(), n, "entries recorded for {directory}: {listed}");
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn replay(db: &TestDb, files: &[&Path], base: &str, token: &str) -> Value {
    let mut args = vec!["--json", "replay"];
    args.extend(files.iter().map(|f| f.to_str().expect("utf-8 path")));
    args.extend(["--against", base, "--token", token]);
    let out = cli(db, &args);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "replay printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "replay found differences: {report:#}");
    report
}

both_backends!(
    recorded_traffic_exports_and_replays_cleanly,
    |backend| async move {
        let recorded = TestServer::start(backend).await;
        let dir = create_directory(&recorded.db, "generic", "prod");
        let token = dir["token"].as_str().expect("token");
        let (users, groups) = (
            corpus("user-lifecycle.json"),
            corpus("group-lifecycle.json"),
        );
        let first = replay(
            &recorded.db,
            &[&users, &groups],
            &recorded.client.base,
            token,
        );
        let steps = first["steps"].as_u64().expect("step count") as usize;
        let logged = entries(&recorded.db, "prod", steps).await;
        assert_eq!(logged[1]["method"], json!("POST"));
        assert_eq!(logged[1]["path"], json!("/Users"));
        assert_eq!(logged[1]["status"], json!(201));
        assert_eq!(
            logged[0]["query"],
            json!("filter=userName%20eq%20%22ann%40example.com%22&startIndex=1&count=100")
        );
        // The other directory's traffic is its own.
        assert!(entries(&recorded.db, "main", 0).await.is_empty());

        let failures = cli_json(
            &recorded.db,
            &["log", "list", "--directory", "prod", "--status", "4xx"],
        );
        let statuses: Vec<&Value> = failures["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| &e["status"])
            .collect();
        assert_eq!(statuses, [&json!(409), &json!(404), &json!(404)]);

        let file = temp_file("export");
        let exported = cli_json(
            &recorded.db,
            &[
                "log",
                "export",
                "--directory",
                "prod",
                "--out",
                file.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(exported["steps"], json!(steps));
        let sequence: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("export written"))
                .expect("export is JSON");
        assert_eq!(sequence["kind"], json!("generic"));
        let text = sequence.to_string();
        assert!(
            !text.contains(&recorded.client.base),
            "the base URL became {{{{base}}}}"
        );
        assert!(!text.contains("Secret-123"), "no password in an export");
        assert_eq!(sequence["steps"][1]["capture"], json!({"user1": "/id"}));
        assert_eq!(
            sequence["steps"][3]["request"]["path"],
            json!("/Users/{{user1}}")
        );
        assert_eq!(
            sequence["steps"][1]["expect"]["body"]["meta"]["lastModified"],
            json!("{{*}}")
        );

        let fresh = TestServer::start(backend).await;
        let again = replay(&fresh.db, &[&file], &fresh.client.base, &fresh.client.token);
        let _ = std::fs::remove_file(&file);
        assert_eq!(again["steps"], json!(steps));
        assert_eq!(again["differences"], json!(0));
    }
);

both_backends!(secrets_never_reach_the_log, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let mut body = user_body("pw@example.com");
    body["password"] = json!("Hunter2-create");
    let id = c.post("/Users", &body).await.id();
    let path = format!("/Users/{id}");
    let patched = c
        .patch(
            &path,
            &patch_body(json!([
                {"op": "replace", "path": "password", "value": "Hunter2-path"},
                {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password",
                 "value": "Hunter2-urn"},
                {"op": "replace", "value": {"password": "Hunter2-pathless", "title": "x"}}
            ])),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let stranger = c.with_token("roster_not-a-real-token");
    assert_eq!(
        stranger.get("/Users").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Discovery is open to anyone and belongs to no directory.
    assert_eq!(c.get("/ServiceProviderConfig").await.status, StatusCode::OK);
    let mut big = user_body("big@example.com");
    big["displayName"] = json!("x".repeat(100 * 1024));
    assert_eq!(c.post("/Users", &big).await.status, StatusCode::CREATED);

    let logged = entries(&server.db, "main", 3).await;
    let mut everything = String::new();
    for e in &logged {
        let id = e["id"].to_string();
        let shown = cli(&server.db, &["log", "show", &id]);
        assert!(shown.status.success());
        everything.push_str(&String::from_utf8_lossy(&shown.stdout));
        everything.push_str(&cli_json(&server.db, &["log", "show", &id]).to_string());
    }
    for secret in [
        "Hunter2-create",
        "Hunter2-path",
        "Hunter2-urn",
        "Hunter2-pathless",
        c.token.as_str(),
        "roster_not-a-real-token",
    ] {
        assert!(!everything.contains(secret), "{secret} reached the log");
    }
    assert!(!everything.to_ascii_lowercase().contains("authorization"));
    let patch = cli_json(&server.db, &["log", "show", &logged[1]["id"].to_string()]);
    let sent: Value = serde_json::from_str(patch["request_body"].as_str().expect("body"))
        .expect("the redacted body is still JSON");
    assert_eq!(sent["Operations"][0]["value"], json!("[redacted]"));
    assert_eq!(sent["Operations"][2]["value"]["title"], json!("x"));
    assert_eq!(
        patch["request_headers"]["Content-Type"],
        json!("application/scim+json")
    );
    assert_eq!(
        patch["response_headers"]["ETag"]
            .as_str()
            .map(|e| e.starts_with("W/")),
        Some(true)
    );

    let large = cli_json(&server.db, &["log", "show", &logged[2]["id"].to_string()]);
    assert_eq!(large["request_truncated"], json!(true));
    assert_eq!(large["response_truncated"], json!(true));
    assert_eq!(
        large["request_body"].as_str().map(str::len),
        Some(64 * 1024)
    );
    assert!(large["duration_us"].as_i64().is_some_and(|d| d > 0));
});

both_backends!(
    retention_purges_and_zero_records_nothing,
    |backend| async move {
        let server =
            TestServer::start_with_env(backend, &[("ROSTER_REQUEST_LOG_RETENTION", "2s")]).await;
        let token = server.client.token.clone();
        assert_eq!(server.client.get("/Users").await.status, StatusCode::OK);
        entries(&server.db, "main", 1).await;
        // Purged by the running server within a retention period or two.
        tokio::time::sleep(Duration::from_secs(3)).await;
        entries(&server.db, "main", 0).await;
        assert_eq!(server.client.get("/Groups").await.status, StatusCode::OK);
        entries(&server.db, "main", 1).await;

        let db = server.stop();
        let server =
            TestServer::start_on(db, token, &[("ROSTER_REQUEST_LOG_RETENTION", "0")]).await;
        assert_eq!(server.client.get("/Users").await.status, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(500)).await;
        entries(&server.db, "main", 0).await;
    }
);

/// A SQLite database from before the log had a file of its own (`<db>-requests`) keeps its
/// entries: the next start moves them there, drops the old table, and ids go on increasing.
#[tokio::test]
async fn a_sqlite_log_moves_out_to_its_own_file() {
    let server = TestServer::start(Backend::Sqlite).await;
    let token = server.client.token.clone();
    assert_eq!(server.client.get("/Users").await.status, StatusCode::OK);
    let before = entries(&server.db, "main", 1).await;
    let db = server.stop();

    let main = db
        .url
        .strip_prefix("sqlite://")
        .expect("a SQLite URL")
        .to_string();
    let log = format!("{main}-requests");
    let mut conn = SqliteConnection::establish(&main).expect("open the database");
    conn.batch_execute(&format!(
        "ATTACH DATABASE '{log}' AS requests; \
         CREATE TABLE main.request_log AS SELECT * FROM requests.request_log; \
         DETACH DATABASE requests;"
    ))
    .expect("put the entries back into the main file");
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{log}{suffix}"));
    }

    let server = TestServer::start_on(db, token, &[]).await;
    let moved = entries(&server.db, "main", 1).await;
    assert_eq!(moved, before, "the entry moved unchanged");
    let mut conn = SqliteConnection::establish(&main).expect("open the database");
    let left: Vec<String> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'request_log'",
    )
    .load::<TableName>(&mut conn)
    .expect("read the schema")
    .into_iter()
    .map(|t| t.name)
    .collect();
    assert!(left.is_empty(), "the main file keeps no request log");

    assert_eq!(server.client.get("/Groups").await.status, StatusCode::OK);
    let after = entries(&server.db, "main", 2).await;
    assert!(
        after[1]["id"].as_i64() > before[0]["id"].as_i64(),
        "{after:?}"
    );
}

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}
