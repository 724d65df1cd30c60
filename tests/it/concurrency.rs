//! Concurrent writers never lose an update, and event cursors follow commit order.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;

/// POSTs a user for each of `user_names`, all at once; their statuses in the same order.
async fn post_users_at_once(c: &Client, user_names: Vec<String>) -> Vec<StatusCode> {
    let tasks: Vec<_> = user_names
        .into_iter()
        .map(|name| {
            let c = c.clone();
            tokio::spawn(async move { c.post("/Users", &user_body(&name)).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

both_backends!(concurrent_member_adds_are_all_kept, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let mut users = Vec::new();
    for i in 0..16 {
        users.push(
            c.post("/Users", &user_body(&format!("c{i}@example.com")))
                .await
                .id(),
        );
    }
    let gid = c.post("/Groups", &group_body("Busy", &[])).await.id();
    let path = format!("/Groups/{gid}");
    let tasks: Vec<_> = users
        .iter()
        .map(|u| {
            let c = c.clone();
            let path = path.clone();
            let body =
                patch_body(json!([{"op": "add", "path": "members", "value": [{"value": u}]}]));
            tokio::spawn(async move { c.patch(&path, &body).await.status })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::NO_CONTENT);
    }
    let group = c.get(&path).await;
    assert_eq!(
        group.body["members"].as_array().map(Vec::len),
        Some(16),
        "{}",
        group.body
    );
    assert_eq!(
        group.body["meta"]["version"],
        json!("W/\"17\""),
        "one version per change"
    );
});

both_backends!(
    concurrent_patches_to_one_user_are_all_kept,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let id = c.post("/Users", &user_body("busy@example.com")).await.id();
        let path = format!("/Users/{id}");
        let tasks: Vec<_> = (0..12)
        .map(|i| {
            let c = c.clone();
            let path = path.clone();
            let body = patch_body(json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": format!("+1-555-01{i:02}"), "type": "work"}]}]));
            tokio::spawn(async move { c.patch(&path, &body).await.status })
        })
        .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::OK);
        }
        let user = c.get(&path).await;
        let phones: Vec<&Value> = user.body["phoneNumbers"]
            .as_array()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(phones.len(), 12, "no PATCH was lost: {}", user.body);
    }
);

/// Cursors are unique and increase with the rows' order (on PostgreSQL they are not
/// consecutive: see store/events.rs).
fn assert_strictly_increasing(all: &[(i64, String, String)]) {
    let cursors: Vec<i64> = all.iter().map(|(c, _, _)| *c).collect();
    assert!(
        cursors.windows(2).all(|w| w[0] < w[1]),
        "cursors {cursors:?}"
    );
}

both_backends!(event_cursors_follow_commit_order, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let names: Vec<String> = (0..24).map(|i| format!("e{i}@example.com")).collect();
    for status in post_users_at_once(c, names).await {
        assert_eq!(status, StatusCode::CREATED);
    }
    let all = events(&server.db);
    assert_eq!(all.len(), 24);
    assert_strictly_increasing(&all);
});

// On SQLite concurrent writes share one commit (store/group_commit.rs): a write that fails
// must leave the others in its group stored, and leave nothing of its own.
both_backends!(
    failed_writes_among_concurrent_ones_leave_the_rest_stored,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        // Every userName is sent twice at once: one POST wins, the other gets 409.
        let names = (0..32)
            .map(|i| format!("pair{}@example.com", i / 2))
            .collect();
        let statuses = post_users_at_once(c, names).await;
        let created = statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let conflicts = statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((created, conflicts), (16, 16), "{statuses:?}");
        let listed = c.get("/Users?count=100").await;
        assert_eq!(listed.body["totalResults"], json!(16), "{}", listed.body);
        let all = events(&server.db);
        assert_eq!(
            all.len(),
            16,
            "one event per stored user, none for a failed one"
        );
        assert_strictly_increasing(&all);
    }
);
