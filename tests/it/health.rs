//! `/healthz` and `/readyz`: what a load balancer or an orchestrator probes.

use diesel::{Connection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::support::*;

async fn probe(origin: &str, path: &str) -> (StatusCode, String) {
    let resp = reqwest::get(format!("{origin}{path}")).await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// Removes the record of the newest migration, as if this binary were newer than the database.
fn forget_newest_migration(db: &TestDb) {
    let sql = "DELETE FROM __diesel_schema_migrations WHERE version = \
               (SELECT MAX(version) FROM __diesel_schema_migrations)";
    let changed = if let Some(path) = db.url.strip_prefix("sqlite://") {
        let mut conn = diesel::SqliteConnection::establish(path).unwrap();
        diesel::sql_query("PRAGMA busy_timeout = 10000")
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query(sql).execute(&mut conn).unwrap()
    } else {
        let mut conn = diesel::PgConnection::establish(&db.url).unwrap();
        diesel::sql_query(sql).execute(&mut conn).unwrap()
    };
    assert_eq!(changed, 1);
}

both_backends!(readyz_says_ready_then_why_not, |backend| async move {
    let server = TestServer::start(backend).await;
    let origin = server.origin();
    assert_eq!(
        probe(&origin, "/healthz").await,
        (StatusCode::OK, "ok".into())
    );
    let (status, body) = probe(&origin, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "ready");

    forget_newest_migration(&server.db);
    let (status, body) = probe(&origin, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "not ready");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains("1 database migration(s) pending") && reason.contains("roster migrate"),
        "{reason}"
    );
    // The process still answers: only readiness is lost.
    assert_eq!(probe(&origin, "/healthz").await.0, StatusCode::OK);
});

#[tokio::test]
async fn readyz_says_when_postgres_is_gone() {
    let server = TestServer::start(Backend::Postgres).await;
    let origin = server.origin();
    assert_eq!(probe(&origin, "/readyz").await.0, StatusCode::OK);
    let name = server.db.url.rsplit('/').next().unwrap().to_string();
    let admin = std::env::var("ROSTER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let mut conn = diesel::PgConnection::establish(&admin).unwrap();
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut conn)
        .unwrap();
    let (status, body) = probe(&origin, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["reason"], "the database does not answer");
    assert!(
        !body.to_string().contains("postgres://"),
        "no database URL in the answer: {body}"
    );
}
