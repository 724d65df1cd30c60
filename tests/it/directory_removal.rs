//! `roster directory delete`: the token stops at once, every row of the directory goes, one
//! `directory.deleted` event ends its feed, and other directories are untouched.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::events::{app_key, read_all};
use crate::support::*;

/// Rows of `directory` left in each table that holds directory data.
fn rows_left(db: &TestDb, directory: &str) -> Vec<(&'static str, i64)> {
    use roster::store::Store;
    use roster::store::schema::{
        attribute_values as v, directories as d, directory_groups as g, directory_users as u,
        memberships as m, request_log as r, tokens as t,
    };
    let store = Store::open(&db.url).expect("open store");
    let mut conn = store.conn().expect("connection");
    let c = &mut *conn;
    vec![
        (
            "directories",
            d::table
                .filter(d::id.eq(directory))
                .count()
                .get_result(c)
                .unwrap(),
        ),
        (
            "directory_users",
            u::table
                .filter(u::directory_id.eq(directory))
                .count()
                .get_result(c)
                .unwrap(),
        ),
        (
            "directory_groups",
            g::table
                .filter(g::directory_id.eq(directory))
                .count()
                .get_result(c)
                .unwrap(),
        ),
        (
            "memberships",
            m::table
                .filter(m::directory_id.eq(directory))
                .count()
                .get_result(c)
                .unwrap(),
        ),
        (
            "attribute_values",
            v::table
                .filter(v::directory_id.eq(directory))
                .count()
                .get_result(c)
                .unwrap(),
        ),
        (
            "request_log",
            store
                .read_request_log(|c| {
                    r::table
                        .filter(r::directory_id.eq(directory))
                        .count()
                        .get_result::<i64>(c)
                        .map_err(roster::store::StoreError::from)
                })
                .unwrap(),
        ),
        (
            "tokens",
            t::table
                .filter(t::directory_id.eq(directory))
                .count()
                .get_result(c)
                .unwrap(),
        ),
    ]
}

both_backends!(
    a_deleted_directory_leaves_nothing_but_its_feed,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let key = app_key(&server.db, None);
        let api = server.api(&key);
        let doomed = &server.client;
        let mut users = Vec::new();
        // More users than one batch removes, so the deletion takes several writes.
        for i in 0..620 {
            users.push(
                doomed
                    .post("/Users", &user_body(&format!("u{i}@example.com")))
                    .await
                    .id(),
            );
        }
        let members: Vec<&str> = users.iter().take(300).map(String::as_str).collect();
        let group = doomed
            .post("/Groups", &group_body("Everyone", &members))
            .await
            .id();
        let nested = doomed
            .post("/Groups", &group_body("Outer", &[&group]))
            .await;
        assert_eq!(nested.status, StatusCode::CREATED);

        // A neighbour in the same tenant keeps everything.
        let neighbour = create_directory(&server.db, "okta", "neighbour");
        let kept = doomed.with_token(neighbour["token"].as_str().unwrap());
        let kept_user = kept
            .post("/Users", &user_body("stays@example.com"))
            .await
            .id();

        let doomed_id = cli_json(&server.db, &["directory", "list"])["directories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == json!("main"))
            .expect("the main directory")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let deleted = cli_json(&server.db, &["directory", "delete", &doomed_id]);
        assert_eq!(deleted["deleted"], json!(true));
        assert_eq!(deleted["removed"]["users"], json!(620));
        assert_eq!(deleted["removed"]["groups"], json!(2));

        for (table, n) in rows_left(&server.db, &doomed_id) {
            assert_eq!(n, 0, "{table} keeps rows of the deleted directory");
        }
        // Its token is refused (live tokens are trusted for a second between checks).
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(doomed.get("/Users").await.status, StatusCode::UNAUTHORIZED);
        let neighbour_id = neighbour["id"].as_str().unwrap();
        let neighbour_rows = rows_left(&server.db, neighbour_id);
        for table in ["directories", "directory_users", "tokens"] {
            let n = neighbour_rows.iter().find(|(t, _)| *t == table).unwrap().1;
            assert_eq!(n, 1, "the neighbour lost its {table} row");
        }
        assert_eq!(
            kept.get(&format!("/Users/{kept_user}")).await.status,
            StatusCode::OK
        );

        // The feed: `deleting`, then one `directory.deleted`, and no event per user.
        let (events, _) = read_all(&api, None, &format!("&directory_id={doomed_id}")).await;
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types.last(), Some(&"directory.deleted"), "{types:?}");
        assert_eq!(
            types.iter().filter(|t| **t == "directory.deleted").count(),
            1
        );
        assert_eq!(types[types.len() - 2], "directory.state_changed");
        assert_eq!(events[types.len() - 2]["data"]["state"], json!("deleting"));
        assert!(!types.contains(&"user.deleted"), "{types:?}");
        assert_eq!(events.last().unwrap()["data"]["id"], json!(doomed_id));
        // Its users' records left the feed with them: the events say what happened, in order,
        // but no longer to whom; the neighbour's feed keeps its records.
        let about_users: Vec<&Value> = events
            .iter()
            .filter(|e| {
                let t = e["type"].as_str().unwrap();
                t.starts_with("user.")
                    || (t.starts_with("group.user_") && e["data"]["user"].is_object())
            })
            .collect();
        assert_eq!(
            about_users.len(),
            620 + 300,
            "a user.created per user and a group.user_added per member user"
        );
        for e in &about_users {
            let text = e.to_string();
            assert!(!text.contains("@example.com"), "{text}");
            let record = if e["type"].as_str().unwrap().starts_with("group.user_") {
                &e["data"]["user"]
            } else {
                &e["data"]
            };
            assert_eq!(record["redacted"], json!(true), "{text}");
            assert!(record["id"].is_string(), "{text}");
        }
        assert_eq!(deleted["removed"]["events_redacted"], json!(920));
        let (neighbours, _) = read_all(&api, None, &format!("&directory_id={neighbour_id}")).await;
        assert!(
            neighbours
                .iter()
                .any(|e| e.to_string().contains("stays@example.com"))
        );
        // And the directory is gone from the CLI.
        let listed = cli_json(&server.db, &["directory", "list"]);
        assert!(
            listed["directories"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["id"] != json!(doomed_id))
        );
    }
);

both_backends!(
    the_admin_api_deletes_in_the_background,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let admin_key = cli_json(&server.db, &["admin-key", "issue"])["key"]
            .as_str()
            .unwrap()
            .to_string();
        let admin = Api::new(&server.origin(), &admin_key);
        let feed = server.api(&app_key(&server.db, None));
        for i in 0..30 {
            server
                .client
                .post("/Users", &user_body(&format!("a{i}@example.com")))
                .await;
        }
        let listed = admin.get("/admin/directories").await;
        let id = listed.body["data"][0]["id"].as_str().unwrap().to_string();
        let deleted = admin
            .send(
                reqwest::Method::DELETE,
                &format!("/admin/directories/{id}"),
                None,
            )
            .await;
        assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.body);
        assert_eq!(deleted.body["state"], json!("deleting"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while admin.get(&format!("/admin/directories/{id}")).await.status != StatusCode::NOT_FOUND {
            assert!(std::time::Instant::now() < deadline, "never finished");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let (events, _) = read_all(&feed, None, &format!("&directory_id={id}")).await;
        assert_eq!(events.last().unwrap()["type"], json!("directory.deleted"));
        for (table, n) in rows_left(&server.db, &id) {
            assert_eq!(n, 0, "{table} keeps rows of the deleted directory");
        }
        // Deleting it again: it is not found.
        let again = admin
            .send(
                reqwest::Method::DELETE,
                &format!("/admin/directories/{id}"),
                None,
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
    }
);
