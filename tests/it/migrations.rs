//! A database written before a migration keeps answering the same after `roster migrate`.

use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;
use crate::users::urlencode;
use roster::store::{DbConn, Store};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Reverts the newest migration, as if the database came from the release before it; returns
/// its version.
/// Reverts migrations, newest first, down to and including the one whose name holds `name`:
/// the later ones' down migrations run too. Returns the names reverted.
fn revert_through(db: &TestDb, name: &str) -> Vec<String> {
    let mut reverted = Vec::new();
    while !reverted.last().is_some_and(|r: &String| r.contains(name)) {
        assert!(
            reverted.len() < 20,
            "{name} was never reverted: {reverted:?}"
        );
        reverted.push(revert_last_migration(db));
    }
    reverted
}

fn revert_last_migration(db: &TestDb) -> String {
    let folder = |backend: &str| {
        FileBasedMigrations::from_path(format!(
            "{}/migrations/{backend}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("migrations folder")
    };
    let store = Store::open(&db.url).expect("open the database");
    let mut conn = store.conn().expect("a connection");
    let reverted = match &mut *conn {
        DbConn::Sqlite(c) => c.revert_last_migration(folder("sqlite")),
        DbConn::Postgres(c) => c.revert_last_migration(folder("postgres")),
    }
    .expect("the newest migration reverts");
    reverted.to_string()
}

async fn ids(c: &Client, query: &str) -> Vec<String> {
    let r = c.get(query).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    r.body["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: {}", r.body))
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_string())
        .collect()
}

fn user(name: &str, title: &str, email_type: &str, active: bool, department: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": name,
        "title": title,
        "active": active,
        "emails": [{"value": format!("{name}@example.com"), "type": email_type}],
        ENTERPRISE: {"department": department}
    })
}

both_backends!(
    path_numbers_keep_stored_values_filterable,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let ada = c
            .post("/Users", &user("ada", "Engineer", "work", true, "R&D"))
            .await
            .id();
        let bob = c
            .post("/Users", &user("bob", "Manager", "home", false, "Sales"))
            .await
            .id();
        let admins = c.post("/Groups", &group_body("Admins", &[&ada])).await.id();
        let filter = |f: &str| format!("/Users?filter={}", urlencode(f));
        let queries = [
            (filter(r#"emails[type eq "work"]"#), vec![ada.clone()]),
            (filter(r#"title eq "MANAGER""#), vec![bob.clone()]),
            (
                filter(&format!(r#"{ENTERPRISE}:department sw "r""#)),
                vec![ada.clone()],
            ),
            (filter("active eq false"), vec![bob.clone()]),
            (
                filter(r#"emails.value pr and not (title co "gin")"#),
                vec![bob.clone()],
            ),
            (
                "/Users?sortBy=title&sortOrder=descending".to_string(),
                vec![bob.clone(), ada.clone()],
            ),
        ];
        for (query, expected) in &queries {
            assert_eq!(&ids(c, query).await, expected, "{query}");
        }
        let token = c.token.clone();

        let db = server.stop();
        revert_through(&db, "000050");
        let migrated = cli(&db, &["migrate"]);
        assert!(
            migrated.status.success(),
            "{}",
            String::from_utf8_lossy(&migrated.stderr)
        );
        let server = TestServer::start_on(db, token, &[]).await;
        let c = &server.client;
        for (query, expected) in &queries {
            assert_eq!(
                &ids(c, query).await,
                expected,
                "{query} after the migration"
            );
        }
        let groups = ids(
            c,
            &format!("/Groups?filter={}", urlencode(r#"displayName eq "admins""#)),
        )
        .await;
        assert_eq!(groups, [admins]);
        // Values written after the migration are found beside the migrated ones, including a path
        // no user had a value for before.
        let r = c
            .patch(
                &format!("/Users/{bob}"),
                &patch_body(json!([
                    {"op": "replace", "path": "title", "value": "Engineer"},
                    {"op": "add", "path": "nickName", "value": "Bobby"}
                ])),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            ids(c, &filter(r#"title eq "engineer""#)).await,
            [ada.clone(), bob.clone()]
        );
        assert_eq!(ids(c, &filter(r#"nickName eq "bobby""#)).await, [bob]);
    }
);

both_backends!(
    users_written_before_the_read_api_are_found_by_email,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let mut body = user("ada", "Engineer", "work", true, "R&D");
        body["emails"] = json!([{"value": "Ada.Lovelace@Example.COM", "primary": true}]);
        let ada = c.post("/Users", &body).await.id();
        let team = c.post("/Groups", &group_body("Team", &[&ada])).await.id();
        let key = crate::events::app_key(&server.db, Some("acme"));
        let token = c.token.clone();

        let db = server.stop();
        revert_through(&db, "000090");
        let migrated = cli(&db, &["migrate"]);
        assert!(
            migrated.status.success(),
            "{}",
            String::from_utf8_lossy(&migrated.stderr)
        );
        let server = TestServer::start_on(db, token, &[]).await;
        let api = server.api(&key);
        let found = api.get("/users?email=ada.lovelace%40example.com").await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.body);
        assert_eq!(found.body["data"][0]["id"], json!(ada), "{}", found.body);
        let groups = api.get(&format!("/users/{ada}/groups")).await;
        assert_eq!(groups.body["data"][0]["id"], json!(team), "{}", groups.body);
    }
);
