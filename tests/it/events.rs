//! The application's feed over real HTTP: application keys, `/api/v1/events` (cursor order,
//! filters, long-poll, retention) and directory snapshots, on both backends.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;

pub fn app_key(db: &TestDb, tenant: Option<&str>) -> String {
    let mut args = vec!["app-key", "issue"];
    if let Some(t) = tenant {
        args.extend(["--tenant", t]);
    }
    cli_json(db, &args)["key"]
        .as_str()
        .expect("key")
        .to_string()
}

/// Every event after `after` (the start when `None`) matching `query`, page by page; the
/// events and the last `next_after`.
pub async fn read_all(api: &Api, after: Option<&str>, query: &str) -> (Vec<Value>, String) {
    let mut all = Vec::new();
    let mut after = after.map(str::to_string);
    loop {
        let path = match &after {
            Some(a) => format!("/events?limit=1000&after={a}{query}"),
            None => format!("/events?limit=1000{query}"),
        };
        let page = api.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let data = page.body["data"].as_array().expect("data").clone();
        let next = page.body["next_after"]
            .as_str()
            .expect("next_after")
            .to_string();
        let done = data.is_empty();
        all.extend(data);
        after = Some(next.clone());
        if done {
            return (all, next);
        }
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn error_code(r: &Response) -> &str {
    r.body["error"]["code"]
        .as_str()
        .unwrap_or("<no error code>")
}

both_backends!(
    keys_and_tokens_each_open_only_their_own_api,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let key = app_key(&server.db, Some("acme"));
        let api = server.api(&key);
        let scim_with_key = server.client.with_token(&key).get("/Users").await;
        assert_eq!(
            scim_with_key.status,
            StatusCode::UNAUTHORIZED,
            "an app key on /scim/v2"
        );
        let api_with_token = server.api(&server.client.token).get("/events").await;
        assert_eq!(
            api_with_token.status,
            StatusCode::UNAUTHORIZED,
            "a SCIM token on /api/v1"
        );
        assert_eq!(error_code(&api_with_token), "unauthenticated");
        assert!(api_with_token.header("www-authenticate").is_some());
        assert_eq!(
            api_with_token.header("content-type"),
            Some("application/json")
        );
        assert_eq!(api.get("/events").await.status, StatusCode::OK);
        assert_eq!(api.get("/nothing/here").await.status, StatusCode::NOT_FOUND);
        let wrong = reqwest::Client::new()
            .delete(format!("{}/events", api.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);

        let id = cli_json(&server.db, &["app-key", "list"])["app_keys"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        cli_json(&server.db, &["app-key", "revoke", &id]);
        let revoked = api.get("/events").await;
        assert_eq!(revoked.status, StatusCode::UNAUTHORIZED, "{}", revoked.body);
    }
);

both_backends!(another_tenants_data_is_not_found, |backend| async move {
    let server = TestServer::start(backend).await;
    cli_json(&server.db, &["tenant", "create", "globex"]);
    let theirs = cli_json(
        &server.db,
        &[
            "directory",
            "create",
            "--tenant",
            "globex",
            "--kind",
            "okta",
            "gx",
        ],
    );
    let their_client = server.client.with_token(theirs["token"].as_str().unwrap());
    assert_eq!(
        their_client
            .post("/Users", &user_body("secret@globex.example"))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        server
            .client
            .post("/Users", &user_body("a@acme.example"))
            .await
            .status,
        StatusCode::CREATED
    );
    let acme = server.api(&app_key(&server.db, Some("acme")));
    let (seen, _) = read_all(&acme, None, "").await;
    assert!(!seen.is_empty());
    let text = serde_json::to_string(&seen).unwrap();
    assert!(
        !text.contains("globex.example"),
        "another tenant's event leaked"
    );
    let their_dir = theirs["id"].as_str().unwrap();
    let their_tenant = theirs["tenant_id"].as_str().unwrap();
    let made_up = "01a2513f-0000-7000-8000-000000000000";
    for path in [
        format!("/events?directory_id={their_dir}"),
        format!("/events?directory_id={made_up}"),
        format!("/events?tenant_id={their_tenant}"),
        format!("/events?tenant_id={made_up}"),
        format!("/directories/{their_dir}/snapshot"),
        format!("/directories/{made_up}/snapshot"),
    ] {
        let r = acme.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
        assert_eq!(error_code(&r), "not_found", "{path}");
    }
    let everyone = server.api(&app_key(&server.db, None));
    let (all, _) = read_all(&everyone, None, &format!("&tenant_id={their_tenant}")).await;
    assert!(
        serde_json::to_string(&all)
            .unwrap()
            .contains("globex.example")
    );
});

both_backends!(bad_parameters_answer_400, |backend| async move {
    let server = TestServer::start(backend).await;
    let api = server.api(&app_key(&server.db, None));
    for (query, code) in [
        ("limit=0", "invalid_request"),
        ("limit=1001", "invalid_request"),
        ("limit=ten", "invalid_request"),
        ("wait=31", "invalid_request"),
        ("wait=-1", "invalid_request"),
        ("types=user.created,user.exploded", "invalid_request"),
        ("after=abc", "invalid_cursor"),
        ("after=-5", "invalid_cursor"),
        ("after=1..2", "invalid_cursor"),
        ("after=12&after=13", "invalid_request"),
        ("directory=x", "invalid_request"),
    ] {
        let r = api.get(&format!("/events?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        assert_eq!(error_code(&r), code, "{query}");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let empty = api.get("/events?limit=1000&wait=0").await;
    assert_eq!(empty.status, StatusCode::OK);
});

both_backends!(
    events_carry_records_changes_and_memberships,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let api = server.api(&app_key(&server.db, Some("acme")));
        let mut body = user_body("ada@example.com");
        body["title"] = json!("Engineer");
        let user = c.post("/Users", &body).await.id();
        let patch = |ops: Value| patch_body(ops);
        c.patch(
            &format!("/Users/{user}"),
            &patch(json!([{"op": "replace", "path": "title", "value": "Manager"}])),
        )
        .await;
        // A write that changes nothing writes no event.
        c.patch(
            &format!("/Users/{user}"),
            &patch(json!([{"op": "replace", "path": "title", "value": "Manager"}])),
        )
        .await;
        c.patch(
            &format!("/Users/{user}"),
            &patch(json!([{"op": "replace", "path": "active", "value": false}])),
        )
        .await;
        c.patch(
            &format!("/Users/{user}"),
            &patch(json!([{"op": "replace", "path": "active", "value": true}])),
        )
        .await;
        let group = c.post("/Groups", &group_body("Eng", &[&user])).await.id();
        c.patch(
            &format!("/Groups/{group}"),
            &patch(json!([{"op": "replace", "path": "displayName", "value": "Engineering"}])),
        )
        .await;
        c.delete(&format!("/Users/{user}")).await;

        let (events, next) = read_all(&api, None, "").await;
        assert_eq!(
            types(&events),
            [
                "directory.activated",
                "user.created",
                "user.updated",
                "user.deactivated",
                "user.reactivated",
                "group.created",
                "group.user_added",
                "group.updated",
                "group.user_removed",
                "user.deleted",
            ]
        );
        for e in &events {
            for field in [
                "id",
                "cursor",
                "type",
                "tenant_id",
                "directory_id",
                "created_at",
                "data",
            ] {
                assert!(e.get(field).is_some(), "{field} missing in {e}");
            }
        }
        assert_eq!(next, events.last().unwrap()["cursor"].as_str().unwrap());
        let created = &events[1]["data"];
        for field in [
            "id",
            "idp_id",
            "directory_id",
            "tenant_id",
            "username",
            "email",
            "emails",
            "first_name",
            "last_name",
            "display_name",
            "state",
            "job_title",
            "department",
            "employee_id",
            "manager_id",
            "custom_attributes",
            "raw_attributes",
            "created_at",
            "updated_at",
        ] {
            assert!(
                created.get(field).is_some(),
                "user record lacks {field}: {created}"
            );
        }
        assert_eq!(created["id"], json!(user));
        assert_eq!(created["idp_id"], json!("ext-ada@example.com"));
        assert_eq!(created["username"], json!("ada@example.com"));
        assert_eq!(created["email"], json!("ada@example.com"));
        assert_eq!(created["first_name"], json!("Barbara"));
        assert_eq!(created["state"], json!("active"));
        assert!(events[1].get("changed").is_none());
        let updated = &events[2];
        assert_eq!(updated["changed"], json!(["job_title"]));
        assert_eq!(updated["previous"], json!({"job_title": "Engineer"}));
        assert_eq!(updated["data"]["job_title"], json!("Manager"));
        assert_eq!(events[3]["data"]["state"], json!("inactive"));
        assert_eq!(events[4]["data"]["state"], json!("active"));
        let added = &events[6]["data"];
        assert_eq!(added["group"]["id"], json!(group));
        assert_eq!(added["group"]["name"], json!("Eng"));
        assert_eq!(added["user"]["id"], json!(user));
        assert_eq!(added["user"]["username"], json!("ada@example.com"));
        assert_eq!(events[7]["changed"], json!(["name"]));
        assert_eq!(events[7]["previous"], json!({"name": "Eng"}));
        assert_eq!(events[7]["data"]["name"], json!("Engineering"));
        assert_eq!(events[8]["data"]["group"]["name"], json!("Engineering"));
        assert_eq!(events[9]["data"]["state"], json!("deleted"));

        // Filters: by type, by directory; an empty page keeps the cursor it was given.
        let (only, _) = read_all(&api, None, "&types=user.updated,group.updated").await;
        assert_eq!(types(&only), ["user.updated", "group.updated"]);
        let directory = events[0]["directory_id"].as_str().unwrap();
        let (mine, _) = read_all(&api, None, &format!("&directory_id={directory}")).await;
        assert_eq!(mine.len(), events.len());
        let tail = api.get(&format!("/events?after={next}")).await;
        assert_eq!(tail.body, json!({"data": [], "next_after": next}));
        let start = api.get("/events?types=directory.deleted").await;
        assert_eq!(start.body["data"], json!([]));
        assert!(start.body["next_after"].is_string());
        let paged = api.get("/events?limit=3").await;
        assert_eq!(paged.body["data"].as_array().unwrap().len(), 3);
        assert_eq!(paged.body["next_after"], events[2]["cursor"]);
    }
);

both_backends!(
    a_waiting_read_returns_when_an_event_commits,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let api = server.api(&app_key(&server.db, None));
        server.client.get("/Users").await;
        let (_, next) = read_all(&api, None, "").await;

        let started = Instant::now();
        let empty = api.get(&format!("/events?after={next}&wait=1")).await;
        let waited = started.elapsed();
        assert_eq!(empty.body, json!({"data": [], "next_after": next}));
        assert!(
            waited >= Duration::from_millis(900),
            "returned after {waited:?}"
        );

        let waiting = {
            let api = api.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let r = api.get(&format!("/events?after={next}&wait=20")).await;
                (r, Instant::now())
            })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        let answered = server
            .client
            .post("/Users", &user_body("late@example.com"))
            .await;
        let written = Instant::now();
        assert_eq!(answered.status, StatusCode::CREATED);
        let (r, woke) = waiting.await.unwrap();
        assert_eq!(types(r.body["data"].as_array().unwrap()), ["user.created"]);
        let late = woke.saturating_duration_since(written);
        assert!(
            late < Duration::from_secs(1),
            "woke {late:?} after the write was answered"
        );
    }
);

/// A writer's steps: create users, change them, and put them in a group of its own.
async fn write_a_while(c: Client, writer: usize, rounds: usize) {
    write_until(c, writer, rounds, None).await
}

/// `rounds` rounds of writes, and more until `until` turns true when given.
async fn write_until(
    c: Client,
    writer: usize,
    rounds: usize,
    until: Option<tokio::sync::watch::Receiver<bool>>,
) {
    let group = c
        .post("/Groups", &group_body(&format!("team-{writer}"), &[]))
        .await
        .id();
    let more = |i: usize| i < rounds || until.as_ref().is_some_and(|u| !*u.borrow());
    let mut i = 0;
    while more(i) {
        let user = c
            .post("/Users", &user_body(&format!("w{writer}-{i}@example.com")))
            .await;
        assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
        let id = user.id();
        c.patch(
            &format!("/Users/{id}"),
            &patch_body(json!([{"op": "replace", "path": "title", "value": format!("t{i}")}])),
        )
        .await;
        c.patch(
            &format!("/Groups/{group}"),
            &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
        )
        .await;
        if i % 3 == 2 {
            c.delete(&format!("/Users/{id}")).await;
        }
        i += 1;
    }
}

/// Polls the feed until told to stop, then drains it; returns the event ids in the order read.
async fn follow(
    api: Api,
    wait: bool,
    limit: usize,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let stopping = *stop.borrow();
        let mut path = format!("/events?limit={limit}");
        if let Some(a) = &after {
            path.push_str(&format!("&after={a}"));
        }
        if wait && !stopping {
            path.push_str("&wait=1");
        }
        let page = api.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let data = page.body["data"].as_array().unwrap();
        seen.extend(data.iter().map(|e| e["id"].as_str().unwrap().to_string()));
        after = Some(page.body["next_after"].as_str().unwrap().to_string());
        if data.is_empty() && stopping {
            return seen;
        }
    }
}

pub(crate) async fn sixteen_writers_and_readers(
    writers: Vec<Client>,
    readers: Vec<Api>,
    check: Api,
) {
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let reading: Vec<_> = readers
        .into_iter()
        .enumerate()
        .map(|(i, api)| tokio::spawn(follow(api, i % 2 == 0, [5, 50, 1000][i % 3], stop.clone())))
        .collect();
    let writing: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(w, c)| tokio::spawn(write_a_while(c, w, 6)))
        .collect();
    for w in writing {
        w.await.unwrap();
    }
    stop_tx.send(true).unwrap();
    let (committed, _) = read_all(&check, None, "").await;
    let committed: Vec<String> = committed
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    // 16 writers: a group each, 6 users created, updated and added to it, 2 of them deleted
    // (each leaving the group first); and 4 directories activated.
    assert_eq!(committed.len(), 16 * (1 + 6 * 3 + 2 * 2) + 4);
    for (i, r) in reading.into_iter().enumerate() {
        let seen = r.await.unwrap();
        assert_eq!(
            seen.len(),
            committed.len(),
            "reader {i} read a different number of events"
        );
        assert!(
            seen == committed,
            "reader {i} read the events in another order"
        );
    }
}

/// Four directories, four writers on each.
pub(crate) async fn directories_and_writers(server: &TestServer) -> Vec<String> {
    let mut tokens = vec![server.client.token.clone()];
    for d in 1..4 {
        let dir = create_directory(&server.db, "generic", &format!("d{d}"));
        tokens.push(dir["token"].as_str().unwrap().to_string());
    }
    (0..16).map(|w| tokens[w % 4].clone()).collect()
}

both_backends!(
    readers_see_exactly_the_committed_sequence,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let key = app_key(&server.db, None);
        let writers = directories_and_writers(&server)
            .await
            .into_iter()
            .map(|t| server.client.with_token(&t))
            .collect();
        let readers = (0..4).map(|_| server.api(&key)).collect();
        sixteen_writers_and_readers(writers, readers, server.api(&key)).await;
    }
);

both_backends!(pruned_cursors_answer_410, |backend| async move {
    let server = TestServer::start_with_env(backend, &[("ROSTER_EVENTS_RETENTION", "2s")]).await;
    let api = server.api(&app_key(&server.db, None));
    for i in 0..3 {
        server
            .client
            .post("/Users", &user_body(&format!("old{i}@example.com")))
            .await;
    }
    let (old, _) = read_all(&api, None, "").await;
    let first = old[0]["cursor"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = api.get(&format!("/events?after={first}")).await;
        if r.status == StatusCode::GONE {
            assert_eq!(error_code(&r), "cursor_expired");
            assert!(
                r.body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("snapshot"),
                "{}",
                r.body
            );
            break;
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            Instant::now() < deadline,
            "events older than 2s were never pruned"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // From the start again: only what is retained, and new events still arrive.
    server
        .client
        .post("/Users", &user_body("new@example.com"))
        .await;
    let (fresh, _) = read_all(&api, None, "").await;
    assert!(types(&fresh).contains(&"user.created"), "{fresh:?}");
    assert!(
        fresh
            .iter()
            .all(|e| e["data"]["username"] != json!("old0@example.com"))
    );
});

/// A directory's state as the application would hold it.
#[derive(Debug, Default, PartialEq)]
struct Mirror {
    users: BTreeMap<String, Value>,
    /// Group records without `updated_at`, which membership changes move without an event of
    /// the group's own.
    groups: BTreeMap<String, Value>,
    memberships: BTreeSet<(String, String)>,
}

fn without_updated_at(mut group: Value) -> Value {
    group.as_object_mut().unwrap().remove("updated_at");
    group
}

impl Mirror {
    /// Reads a snapshot; returns it and its cursor.
    async fn of_snapshot(api: &Api, directory: &str) -> (Mirror, String) {
        let r = api.get(&format!("/directories/{directory}/snapshot")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
        let text = r.body.as_str().expect("NDJSON text").to_string();
        let mut mirror = Mirror::default();
        let mut cursor = None;
        for line in text.lines() {
            let line: Value = serde_json::from_str(line).expect("one JSON object per line");
            assert!(cursor.is_none(), "a line after the cursor line");
            let data = line["data"].clone();
            match line["type"].as_str().unwrap() {
                "user" => {
                    mirror
                        .users
                        .insert(data["id"].as_str().unwrap().into(), data);
                }
                "group" => {
                    let id = data["id"].as_str().unwrap().to_string();
                    mirror.groups.insert(id, without_updated_at(data));
                }
                "membership" => {
                    mirror.memberships.insert((
                        data["group_id"].as_str().unwrap().into(),
                        data["member_id"].as_str().unwrap().into(),
                    ));
                }
                "cursor" => cursor = Some(line["cursor"].as_str().unwrap().to_string()),
                other => panic!("unknown line type {other}"),
            }
        }
        (mirror, cursor.expect("the snapshot ends with its cursor"))
    }

    fn apply(&mut self, e: &Value) {
        let data = &e["data"];
        let id = || data["id"].as_str().unwrap().to_string();
        match e["type"].as_str().unwrap() {
            "user.created" | "user.updated" | "user.deactivated" | "user.reactivated" => {
                self.users.insert(id(), data.clone());
            }
            "user.deleted" => {
                self.users.remove(&id());
            }
            "group.created" | "group.updated" => {
                self.groups.insert(id(), without_updated_at(data.clone()));
            }
            "group.deleted" => {
                self.groups.remove(&id());
            }
            "group.user_added" | "group.user_removed" => {
                let member = data.get("user").unwrap_or(&data["member_group"]);
                let pair = (
                    data["group"]["id"].as_str().unwrap().to_string(),
                    member["id"].as_str().unwrap().to_string(),
                );
                if e["type"] == json!("group.user_added") {
                    assert!(self.memberships.insert(pair), "added twice: {e}");
                } else {
                    assert!(self.memberships.remove(&pair), "removed but absent: {e}");
                }
            }
            _ => {}
        }
    }
}

both_backends!(
    snapshot_then_later_events_rebuild_the_directory,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let api = server.api(&app_key(&server.db, Some("acme")));
        let c = server.client.clone();
        write_a_while(c.clone(), 99, 4).await;
        // The writers go on until the snapshot has been read, so some of them write after it.
        let (snapshot_read, until) = tokio::sync::watch::channel(false);
        let writing: Vec<_> = (0..8)
            .map(|w| tokio::spawn(write_until(c.clone(), w, 8, Some(until.clone()))))
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let directory = read_all(&api, None, "").await.0[0]["directory_id"]
            .as_str()
            .unwrap()
            .to_string();
        let (mut mirror, cursor) = Mirror::of_snapshot(&api, &directory).await;
        snapshot_read.send_replace(true);
        for w in writing {
            w.await.unwrap();
        }
        let (later, _) = read_all(&api, Some(&cursor), &format!("&directory_id={directory}")).await;
        assert!(!later.is_empty(), "writers ran after the snapshot");
        for e in &later {
            mirror.apply(e);
        }
        let (now, _) = Mirror::of_snapshot(&api, &directory).await;
        assert_eq!(mirror.users.len(), now.users.len());
        assert_eq!(mirror.memberships, now.memberships);
        assert!(
            mirror == now,
            "snapshot + later events differ from a snapshot taken now"
        );
    }
);

#[tokio::test]
async fn a_large_directory_snapshot_streams() {
    // SQLite only: the point is the streaming path and the line count, not the backend.
    let server = TestServer::start(Backend::Sqlite).await;
    let api = server.api(&app_key(&server.db, None));
    let users: Vec<Value> = (0..3000)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                   "data": user_body(&format!("bulk{i}@example.com"))})
        })
        .collect();
    for chunk in users.chunks(1000) {
        let r = server
            .client
            .post(
                "/Bulk",
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                        "Operations": chunk}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let directory = read_all(&api, None, "").await.0[0]["directory_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (mirror, _) = Mirror::of_snapshot(&api, &directory).await;
    assert_eq!(mirror.users.len(), 3000);
}

both_backends!(events_tail_prints_the_feed, |backend| async move {
    let server = TestServer::start(backend).await;
    server
        .client
        .post("/Users", &user_body("tail@example.com"))
        .await;
    let other = create_directory(&server.db, "okta", "other");
    server
        .client
        .with_token(other["token"].as_str().unwrap())
        .post("/Users", &user_body("elsewhere@example.com"))
        .await;
    let out = cli(&server.db, &["--json", "events", "tail"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one event per line"))
        .collect();
    assert_eq!(
        types(&printed),
        [
            "directory.activated",
            "user.created",
            "directory.activated",
            "user.created"
        ]
    );
    let only = cli(
        &server.db,
        &["--json", "events", "tail", "--directory", "other"],
    );
    let lines = String::from_utf8_lossy(&only.stdout).lines().count();
    assert_eq!(lines, 2);
    let after = printed[1]["cursor"].as_str().unwrap();
    let rest = cli(&server.db, &["events", "tail", "--after", after]);
    let text = String::from_utf8_lossy(&rest.stdout);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("user.created"));
});
