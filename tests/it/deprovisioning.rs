//! The deprovisioning policy: what deactivation, DELETE and losing every group do, per
//! directory, as the app sees it in the tables and in the events.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;

/// The stored row of a user, found even when SCIM no longer shows it: (state, active,
/// deleted_at is set).
fn user_row(db: &TestDb, id: &str) -> Option<(String, bool, bool)> {
    use roster::store::Store;
    use roster::store::schema::directory_users::dsl as u;
    let store = Store::open(&db.url).expect("open store");
    let mut conn = store.conn().expect("connection");
    u::directory_users
        .filter(u::id.eq(id))
        .select((u::state, u::active, u::deleted_at))
        .first::<(String, bool, Option<chrono::NaiveDateTime>)>(&mut *conn)
        .optional()
        .expect("read user")
        .map(|(state, active, deleted)| (state, active, deleted.is_some()))
}

fn group_row_deleted(db: &TestDb, id: &str) -> Option<bool> {
    use roster::store::Store;
    use roster::store::schema::directory_groups::dsl as g;
    let store = Store::open(&db.url).expect("open store");
    let mut conn = store.conn().expect("connection");
    g::directory_groups
        .filter(g::id.eq(id))
        .select(g::deleted_at)
        .first::<Option<chrono::NaiveDateTime>>(&mut *conn)
        .optional()
        .expect("read group")
        .map(|d| d.is_some())
}

fn membership_count(db: &TestDb, user: &str) -> i64 {
    use roster::store::Store;
    use roster::store::schema::memberships::dsl as m;
    let store = Store::open(&db.url).expect("open store");
    let mut conn = store.conn().expect("connection");
    m::memberships
        .filter(m::member_id.eq(user))
        .count()
        .get_result(&mut *conn)
        .expect("count memberships")
}

fn event_types_for(db: &TestDb, resource: &str) -> Vec<String> {
    events(db)
        .into_iter()
        .filter(|(_, _, id)| id == resource)
        .map(|(_, kind, _)| kind)
        .collect()
}

fn set_active(active: bool) -> Value {
    patch_body(json!([{"op": "replace", "path": "active", "value": active}]))
}

both_backends!(
    default_policy_deactivates_then_soft_deletes,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let ann = c.post("/Users", &user_body("ann@example.com")).await.id();
        let group = c.post("/Groups", &group_body("eng", &[&ann])).await.id();
        let ann_path = format!("/Users/{ann}");

        let off = c.patch(&ann_path, &set_active(false)).await;
        assert_eq!(off.status, StatusCode::OK, "{}", off.body);
        assert_eq!(
            user_row(&server.db, &ann),
            Some(("inactive".into(), false, false))
        );
        assert_eq!(
            membership_count(&server.db, &ann),
            1,
            "a deactivated user keeps its groups, so reactivation restores access as it was"
        );
        let again = c.patch(&ann_path, &set_active(false)).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.body["meta"]["version"], off.body["meta"]["version"]);
        c.patch(&ann_path, &set_active(true)).await;
        assert_eq!(
            event_types_for(&server.db, &ann),
            ["user.created", "user.deactivated", "user.reactivated"],
            "a repeated deactivation is a no-op"
        );

        assert_eq!(c.delete(&ann_path).await.status, StatusCode::NO_CONTENT);
        assert_eq!(c.get(&ann_path).await.status, StatusCode::NOT_FOUND);
        let listed = c
            .get("/Users?filter=userName%20eq%20%22ann@example.com%22")
            .await;
        assert_eq!(listed.body["totalResults"], json!(0));
        assert_eq!(
            user_row(&server.db, &ann),
            Some(("deleted".into(), false, true)),
            "a soft-deleted user stays readable in the table"
        );
        assert_eq!(membership_count(&server.db, &ann), 0);
        assert!(
            events(&server.db)
                .iter()
                .any(|(_, kind, id)| kind == "group.user_removed" && *id == group)
        );
        assert_eq!(
            event_types_for(&server.db, &ann).last().map(String::as_str),
            Some("user.deleted")
        );
        assert_eq!(c.delete(&ann_path).await.status, StatusCode::NOT_FOUND);

        let back = c.post("/Users", &user_body("ann@example.com")).await;
        assert_eq!(
            back.status,
            StatusCode::CREATED,
            "a soft-deleted userName is free again: {}",
            back.body
        );

        let kept = cli_json(&server.db, &["purge"]);
        assert_eq!(kept["users"], json!(0), "30 days have not passed");
        cli_json(
            &server.db,
            &["directory", "update", "main", "--retention", "0s"],
        );
        let purged = cli_json(&server.db, &["purge"]);
        assert_eq!(purged["users"], json!(1));
        assert_eq!(user_row(&server.db, &ann), None);
        assert!(
            user_row(&server.db, &back.id()).is_some(),
            "live users stay"
        );
    }
);

both_backends!(jumpcloud_hard_deletes_by_default, |backend| async move {
    let server = TestServer::start(backend).await;
    let dir = create_directory(&server.db, "jumpcloud", "jc");
    assert_eq!(dir["deprovisioning"]["on_delete"], json!("hard"));
    assert_eq!(dir["deprovisioning"]["retention"], json!("30d"));
    let c = server.client.with_token(dir["token"].as_str().unwrap());
    let id = c.post("/Users", &user_body("test@example.com")).await.id();
    let group = c.post("/Groups", &group_body("test", &[&id])).await.id();
    assert_eq!(
        c.delete(&format!("/Users/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.delete(&format!("/Groups/{group}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(user_row(&server.db, &id), None);
    assert_eq!(group_row_deleted(&server.db, &group), None);
});

both_backends!(deactivation_can_mean_delete, |backend| async move {
    let server = TestServer::start(backend).await;
    let out = cli_json(
        &server.db,
        &[
            "directory",
            "update",
            "main",
            "--on-deactivate",
            "delete",
            "--on-delete",
            "soft",
        ],
    );
    assert_eq!(out["deprovisioning"]["on_deactivate"], json!("delete"));
    let c = &server.client;
    let id = c
        .post("/Users", &user_body("leaver@example.com"))
        .await
        .id();
    let path = format!("/Users/{id}");
    let off = c.patch(&path, &set_active(false)).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["active"], json!(false));
    assert_eq!(c.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        user_row(&server.db, &id),
        Some(("deleted".into(), false, true))
    );
    assert_eq!(
        event_types_for(&server.db, &id),
        ["user.created", "user.deactivated", "user.deleted"]
    );
});

both_backends!(losing_the_last_group_can_deactivate, |backend| async move {
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
    let bo = c.post("/Users", &user_body("bo@example.com")).await.id();
    let cy = c.post("/Users", &user_body("cy@example.com")).await.id();
    let eng = c.post("/Groups", &group_body("eng", &[&bo])).await.id();
    let ops = c
        .post("/Groups", &group_body("ops", &[&bo, &cy]))
        .await
        .id();
    let remove = |who: &str| {
        patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{who}\"]")}]))
    };

    c.patch(&format!("/Groups/{eng}"), &remove(&bo)).await;
    assert_eq!(
        c.get(&format!("/Users/{bo}")).await.body["active"],
        json!(true),
        "still in ops"
    );
    c.patch(&format!("/Groups/{ops}"), &remove(&bo)).await;
    let bo_now = c.get(&format!("/Users/{bo}")).await;
    assert_eq!(bo_now.body["active"], json!(false), "{}", bo_now.body);
    let inactive = c.get("/Users?filter=active%20eq%20false").await;
    assert_eq!(inactive.body["totalResults"], json!(1), "the index follows");
    assert_eq!(inactive.body["Resources"][0]["id"], json!(bo));
    assert_eq!(
        event_types_for(&server.db, &bo).last().map(String::as_str),
        Some("user.deactivated")
    );

    assert_eq!(
        c.delete(&format!("/Groups/{ops}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.get(&format!("/Users/{cy}")).await.body["active"],
        json!(false),
        "deleting a user's last group is a loss too"
    );
});

both_backends!(
    soft_deleted_groups_free_their_name_and_members,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let dee = c.post("/Users", &user_body("dee@example.com")).await.id();
        let group = c.post("/Groups", &group_body("sales", &[&dee])).await.id();
        assert_eq!(
            c.delete(&format!("/Groups/{group}")).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            c.get(&format!("/Groups/{group}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(group_row_deleted(&server.db, &group), Some(true));
        assert_eq!(membership_count(&server.db, &dee), 0);
        let groups = c.get(&format!("/Users/{dee}?attributes=groups")).await.body;
        assert_eq!(groups.get("groups"), None, "{groups}");
        let again = c.post("/Groups", &group_body("sales", &[])).await;
        assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    }
);

#[test]
fn policy_flags_name_their_choices() {
    let db = TestDb::new(Backend::Sqlite);
    cli_json(&db, &["tenant", "create", "t"]);
    for (flag, value, expected) in [
        ("--on-delete", "purge", "soft, hard"),
        ("--on-deactivate", "nothing", "deactivate, delete"),
        ("--on-group-loss", "maybe", "keep, deactivate"),
        ("--retention", "3w", "duration"),
    ] {
        let out = cli(
            &db,
            &[
                "directory",
                "create",
                "--tenant",
                "t",
                "--kind",
                "okta",
                "x",
                flag,
                value,
            ],
        );
        assert!(!out.status.success(), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{flag} {value}: {err}");
    }
    let made = cli_json(
        &db,
        &[
            "directory",
            "create",
            "--tenant",
            "t",
            "--kind",
            "okta",
            "x",
            "--retention",
            "7d",
        ],
    );
    assert_eq!(
        made["deprovisioning"],
        json!({"on_deactivate": "deactivate", "on_delete": "soft", "retention": "7d", "on_group_loss": "keep"})
    );
}

both_backends!(
    deleted_users_leave_the_feed_with_the_retention,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        // A user's own data may read like the erasure's marker: it must not pass for one.
        cli_json(
            &server.db,
            &[
                "directory",
                "attribute",
                "add",
                "main",
                "redacted",
                "--source",
                "active",
            ],
        );
        let gone = c
            .post("/Users", &user_body("leaver@example.com"))
            .await
            .id();
        let stays = c
            .post("/Users", &user_body("stayer@example.com"))
            .await
            .id();
        let group = c
            .post("/Groups", &group_body("eng", &[&gone, &stays]))
            .await;
        assert_eq!(group.status, StatusCode::CREATED);
        c.patch(
            &format!("/Users/{gone}"),
            &patch_body(json!([{"op": "replace", "path": "title", "value": "Leaver"}])),
        )
        .await;
        assert_eq!(
            c.delete(&format!("/Users/{gone}")).await.status,
            StatusCode::NO_CONTENT
        );
        let api = server.api(&crate::events::app_key(&server.db, None));
        let feed = || async { crate::events::read_all(&api, None, "").await.0 };
        let before = feed().await;
        let kept = cli_json(&server.db, &["purge"]);
        assert_eq!(kept["events_redacted"], json!(0), "30 days have not passed");
        assert_eq!(feed().await, before);

        cli_json(
            &server.db,
            &["directory", "update", "main", "--retention", "0s"],
        );
        let purged = cli_json(&server.db, &["purge"]);
        let after = feed().await;
        assert_eq!(after.len(), before.len(), "the events stay, in order");
        let mut redacted = 0;
        for (old, new) in before.iter().zip(&after) {
            assert_eq!((&old["id"], &old["type"]), (&new["id"], &new["type"]));
            let text = new.to_string();
            let about_leaver = old.to_string().contains("leaver@example.com");
            assert!(!text.contains("leaver@example.com") && !text.contains("Leaver"));
            if about_leaver {
                redacted += 1;
                let record = if new["type"].as_str().unwrap().starts_with("group.user_") {
                    &new["data"]["user"]
                } else {
                    &new["data"]
                };
                assert_eq!(record["id"], json!(gone));
                assert_eq!(record["redacted"], json!(true));
                assert_eq!(record["email"], Value::Null);
            } else {
                assert_eq!(old, new, "an event about others is unchanged");
            }
        }
        // created, updated, deleted, and the membership added and removed by the delete.
        assert!(redacted >= 5, "{redacted} events redacted");
        assert_eq!(purged["events_redacted"], json!(redacted));
        assert!(
            after
                .iter()
                .any(|e| e.to_string().contains("stayer@example.com"))
        );
        let again = cli_json(&server.db, &["purge"]);
        assert_eq!(again["events_redacted"], json!(0));
    }
);
