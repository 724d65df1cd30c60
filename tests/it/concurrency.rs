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

/// Memberships whose member is a user row that is gone or soft-deleted, as (group, member).
fn memberships_of_removed_users(db: &TestDb) -> Vec<(String, String)> {
    use diesel::prelude::*;
    use roster::store::Store;
    use roster::store::schema::{directory_users as u, memberships as m};
    let store = Store::open(&db.url).expect("open store");
    let mut conn = store.conn().expect("connection");
    type Row = (
        String,
        String,
        Option<String>,
        Option<chrono::NaiveDateTime>,
    );
    let rows: Vec<Row> = m::table
        .left_join(u::table.on(u::id.eq(m::member_id)))
        .filter(m::member_type.eq("User"))
        .select((
            m::group_id,
            m::member_id,
            u::id.nullable(),
            u::deleted_at.nullable(),
        ))
        .load(&mut *conn)
        .expect("read memberships");
    rows.into_iter()
        .filter(|(_, _, user, deleted)| user.is_none() || deleted.is_some())
        .map(|(g, member, _, _)| (g, member))
        .collect()
}

fn add_members(ids: &[&String]) -> Value {
    let value: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    patch_body(json!([{"op": "add", "path": "members", "value": value}]))
}

fn remove_members(ids: &[&String]) -> Value {
    let ops: Vec<Value> = ids
        .iter()
        .map(|id| json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}))
        .collect();
    patch_body(json!(ops))
}

/// Sends every request at once; their (what, status, body) once all answered.
async fn at_once(
    c: &Client,
    requests: Vec<(reqwest::Method, String, Option<Value>)>,
) -> Vec<(String, StatusCode, Value)> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(method, path, body)| {
            let c = c.clone();
            tokio::spawn(async move {
                let what = format!("{method} {path}");
                let r = c.send(method, &path, body.as_ref(), &[]).await;
                (what, r.status, r.body)
            })
        })
        .collect();
    let mut answered = Vec::new();
    for t in tasks {
        answered.push(t.await.unwrap());
    }
    answered
}

// On PostgreSQL a PATCH that adds a user resolves it with FOR KEY SHARE while the DELETE
// takes it FOR UPDATE: either the PATCH finds the user gone (400), or the DELETE waits for the
// membership and removes it. A PATCH that removes the user again right behind the add locks
// the user too (its version moves with its groups): the DELETE, which had not seen the
// group hold the user, must not lock that group after the user.
both_backends!(
    a_member_added_while_its_user_is_deleted_never_survives,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let groups = [
            c.post("/Groups", &group_body("g1", &[])).await.id(),
            c.post("/Groups", &group_body("g2", &[])).await.id(),
        ];
        for round in 0..60 {
            let user = c
                .post("/Users", &user_body(&format!("r{round}@example.com")))
                .await
                .id();
            let mut requests = vec![(reqwest::Method::DELETE, format!("/Users/{user}"), None)];
            for g in &groups {
                for body in [add_members(&[&user]), remove_members(&[&user])] {
                    requests.push((reqwest::Method::PATCH, format!("/Groups/{g}"), Some(body)));
                }
            }
            // Half the rounds start the DELETE last.
            if round % 2 == 1 {
                requests.rotate_left(1);
            }
            for (what, status, body) in at_once(c, requests).await {
                let expected: &[StatusCode] = if what.starts_with("DELETE") {
                    &[StatusCode::NO_CONTENT]
                } else {
                    &[StatusCode::NO_CONTENT, StatusCode::BAD_REQUEST]
                };
                assert!(
                    expected.contains(&status),
                    "round {round}: {what} answered {status}: {body}"
                );
            }
        }
        assert_eq!(memberships_of_removed_users(&server.db), []);
    }
);

// Deletes take the groups that hold the user before the user, in id order, as PATCHes take
// their group before the users they name; losing the last group deactivates (a PATCH then
// locks users too). Nothing may deadlock, which PostgreSQL would answer with an error (500).
both_backends!(
    concurrent_deletes_and_member_changes_never_deadlock,
    |backend| async move {
        let server = TestServer::start(backend).await;
        cli_json(
            &server.db,
            &[
                "directory",
                "update",
                "main",
                "--on-group-loss",
                "deactivate",
            ],
        );
        let c = &server.client;
        let mut groups = Vec::new();
        for i in 0..4 {
            groups.push(
                c.post("/Groups", &group_body(&format!("g{i}"), &[]))
                    .await
                    .id(),
            );
        }
        for round in 0..25 {
            let mut users = Vec::new();
            for i in 0..5 {
                users.push(
                    c.post("/Users", &user_body(&format!("r{round}u{i}@example.com")))
                        .await
                        .id(),
                );
            }
            // Every group starts the round holding every user.
            for g in &groups {
                let all: Vec<&String> = users.iter().collect();
                let r = c.patch(&format!("/Groups/{g}"), &add_members(&all)).await;
                assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
            }
            let mut requests = Vec::new();
            for (i, g) in groups.iter().enumerate() {
                let path = format!("/Groups/{g}");
                // Each group names the users in its own order.
                let mut named: Vec<&String> = users.iter().collect();
                named.rotate_left(i);
                requests.push((
                    reqwest::Method::PATCH,
                    path.clone(),
                    Some(remove_members(&named[..3])),
                ));
                requests.push((reqwest::Method::PATCH, path, Some(add_members(&named))));
            }
            for u in &users[..2] {
                requests.push((reqwest::Method::DELETE, format!("/Users/{u}"), None));
            }
            let turn = round % requests.len();
            requests.rotate_left(turn);
            for (what, status, body) in at_once(c, requests).await {
                let expected: &[StatusCode] = if what.starts_with("DELETE") {
                    &[StatusCode::NO_CONTENT]
                } else {
                    &[StatusCode::NO_CONTENT, StatusCode::BAD_REQUEST]
                };
                assert!(
                    expected.contains(&status),
                    "round {round}: {what} answered {status}: {body}"
                );
            }
        }
        assert_eq!(memberships_of_removed_users(&server.db), []);
    }
);

// A PATCH's own work (its operations, re-validating the result) is done before its write:
// one tenant's largest PATCH must not hold every other tenant's writes, which on SQLite share
// one writer. The PATCH here is as heavy as the protocol allows (1,000 operations, each
// re-reading a growing list); another directory's POSTs, sent while it runs, must each be
// answered in a fraction of the PATCH's own time.
both_backends!(
    a_heavy_patch_does_not_hold_other_tenants_writes,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let heavy = server.client.clone();
        let other_token = create_directory(&server.db, "generic", "other")["token"]
            .as_str()
            .unwrap()
            .to_string();
        let other = server.client.with_token(&other_token);
        let user = heavy
            .post("/Users", &user_body("heavy@example.com"))
            .await
            .id();
        let ops: Vec<Value> = (0..1000)
            .map(|i| {
                json!({"op": "add", "path": "emails", "value": [
                    {"value": format!("alias{i}@example.com"), "type": "other"}]})
            })
            .collect();
        let patch = tokio::spawn(async move {
            let started = std::time::Instant::now();
            let r = heavy
                .patch(&format!("/Users/{user}"), &patch_body(json!(ops)))
                .await;
            (r.status, started.elapsed())
        });
        let mut slowest = std::time::Duration::ZERO;
        let mut i = 0;
        while !patch.is_finished() {
            let started = std::time::Instant::now();
            let r = other
                .post("/Users", &user_body(&format!("other{i}@example.com")))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            slowest = slowest.max(started.elapsed());
            i += 1;
        }
        let (status, patch_took) = patch.await.unwrap();
        assert!(status.is_success(), "{status}");
        eprintln!(
            "PATCH of 1,000 operations: {patch_took:?}; {i} POSTs beside it, slowest {slowest:?}"
        );
        assert!(
            i >= 3,
            "the PATCH ran too briefly ({patch_took:?}) to be measured against"
        );
        assert!(
            slowest * 2 < patch_took,
            "a POST of another directory waited {slowest:?} on a PATCH that took {patch_took:?}"
        );
    }
);
