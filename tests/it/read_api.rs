//! The application's read API over real HTTP (`docs/api.md`): directories and their state,
//! users and groups by id, every list and filter, the lookup by email across directories, and
//! a large group paged to its end, on both backends.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::events::app_key;
use crate::support::*;
use crate::users::urlencode;

/// Every record of a list, `limit` at a time, following `next_after` until it is null.
pub async fn read_all(api: &Api, path: &str, limit: usize) -> Vec<Value> {
    let joiner = if path.contains('?') { '&' } else { '?' };
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let url = match &after {
            Some(a) => format!("{path}{joiner}limit={limit}&after={a}"),
            None => format!("{path}{joiner}limit={limit}"),
        };
        let page = api.get(&url).await;
        assert_eq!(page.status, StatusCode::OK, "{url}: {}", page.body);
        let data = page.body["data"].as_array().expect("data").clone();
        assert!(data.len() <= limit, "{url}: {} records", data.len());
        all.extend(data);
        match &page.body["next_after"] {
            Value::Null => return all,
            Value::String(next) => after = Some(next.clone()),
            other => panic!("{url}: next_after is {other}"),
        }
    }
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

fn sorted(of: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = of.iter().map(|s| s.to_string()).collect();
    all.sort();
    all
}

fn error_code(r: &Response) -> &str {
    r.body["error"]["code"].as_str().unwrap_or("<none>")
}

/// A user whose primary email is `email`.
fn user_with_email(user_name: &str, email: &str) -> Value {
    let mut body = user_body(user_name);
    body["emails"] = json!([{"value": email, "type": "work", "primary": true}]);
    body
}

/// The snapshot's records by id: what events and webhooks carry.
async fn snapshot_records(api: &Api, directory: &str) -> std::collections::HashMap<String, Value> {
    let r = api.get(&format!("/directories/{directory}/snapshot")).await;
    assert_eq!(r.status, StatusCode::OK);
    r.body
        .as_str()
        .expect("NDJSON")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["type"] == json!("user") || l["type"] == json!("group"))
        .map(|l| {
            (
                l["data"]["id"].as_str().unwrap().to_string(),
                l["data"].clone(),
            )
        })
        .collect()
}

/// The directory as `GET /directories/{id}` answers it, once the request log holds a request
/// (its writer commits in the background).
async fn directory_after_a_request(api: &Api, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = api.get(&format!("/directories/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body["last_scim_request_at"].is_string() || Instant::now() > deadline {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both_backends!(every_route_and_filter, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let api = server.api(&app_key(&server.db, Some("acme")));

    let alice = c
        .post("/Users", &user_with_email("alice", "Alice@Example.COM"))
        .await
        .id();
    let bob = c.post("/Users", &user_body("bob@example.com")).await.id();
    let carol = c.post("/Users", &user_body("carol@example.com")).await.id();
    let dave = c.post("/Users", &user_body("dave@example.com")).await.id();
    let eng = c
        .post("/Groups", &group_body("Engineering", &[&alice, &bob]))
        .await
        .id();
    let ops = c.post("/Groups", &group_body("Ops", &[&carol])).await.id();
    let deactivated = c
        .patch(
            &format!("/Users/{bob}"),
            &patch_body(json!([{"op": "replace", "path": "active", "value": false}])),
        )
        .await;
    assert_eq!(deactivated.status, StatusCode::OK);
    assert_eq!(
        c.delete(&format!("/Users/{dave}")).await.status,
        StatusCode::NO_CONTENT
    );

    let listed = api.get("/directories").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["next_after"], Value::Null);
    let dir = listed.body["data"][0]["id"].as_str().unwrap().to_string();
    let one = directory_after_a_request(&api, &dir).await;
    for (field, want) in [
        ("name", json!("main")),
        ("kind", json!("generic")),
        ("state", json!("linked")),
        ("user_count", json!(3)),
        ("group_count", json!(2)),
        ("last_sync_at", Value::Null),
    ] {
        assert_eq!(one[field], want, "{field}: {one}");
    }
    for field in [
        "tenant_id",
        "created_at",
        "activated_at",
        "last_scim_request_at",
    ] {
        assert!(one[field].is_string(), "{field}: {one}");
    }
    // The list shows the same object; the request log's writer may have committed a later
    // request meanwhile, so its time is left out of the comparison.
    let without_last_request = |mut d: Value| {
        d.as_object_mut().unwrap().remove("last_scim_request_at");
        d
    };
    let listed = api.get("/directories").await.body["data"].clone();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(
        without_last_request(listed[0].clone()),
        without_last_request(one.clone())
    );

    // The records are the snapshot's (and so the events'), field for field.
    let records = snapshot_records(&api, &dir).await;
    for (path, id) in [
        (format!("/users/{alice}"), &alice),
        (format!("/users/{bob}"), &bob),
        (format!("/groups/{eng}"), &eng),
    ] {
        let r = api.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.body, records[id.as_str()], "{path}");
    }
    assert_eq!(
        api.get(&format!("/users/{alice}")).await.body["email"],
        json!("Alice@Example.COM")
    );
    let gone = api.get(&format!("/users/{dave}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&gone), "not_found");

    let carol_updated = records[carol.as_str()]["updated_at"].as_str().unwrap();
    let users = format!("/directories/{dir}/users");
    let cases: Vec<(String, Vec<String>)> = vec![
        (users.clone(), sorted(&[&alice, &bob, &carol])),
        (format!("{users}?state=active"), sorted(&[&alice, &carol])),
        (format!("{users}?state=inactive"), sorted(&[&bob])),
        (
            format!("{users}?email={}", urlencode("alice@EXAMPLE.com")),
            sorted(&[&alice]),
        ),
        (
            format!("{users}?username=CAROL%40example.com"),
            sorted(&[&carol]),
        ),
        (format!("{users}?username=alice%40example.com"), vec![]),
        (format!("{users}?group={eng}"), sorted(&[&alice, &bob])),
        (
            format!("{users}?group={eng}&state=active"),
            sorted(&[&alice]),
        ),
        (
            format!("{users}?updated_after={}", urlencode(carol_updated)),
            sorted(&[&bob]),
        ),
        (format!("/groups/{eng}/users"), sorted(&[&alice, &bob])),
        (
            format!("/groups/{eng}/users?state=inactive"),
            sorted(&[&bob]),
        ),
        (format!("/groups/{ops}/users"), sorted(&[&carol])),
        (format!("/directories/{dir}/groups"), sorted(&[&eng, &ops])),
        (
            format!("/directories/{dir}/groups?user={alice}"),
            sorted(&[&eng]),
        ),
        (
            format!("/directories/{dir}/groups?user={carol}"),
            sorted(&[&ops]),
        ),
        (format!("/users/{bob}/groups"), sorted(&[&eng])),
        (
            format!("/users?email={}", urlencode("ALICE@example.com")),
            sorted(&[&alice]),
        ),
    ];
    for (path, want) in &cases {
        let page = api.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert_eq!(&ids(page.body["data"].as_array().unwrap()), want, "{path}");
        assert_eq!(page.body["next_after"], Value::Null, "{path}");
        // The same list a record at a time: the same records, in the same order.
        assert_eq!(
            &ids(&read_all(&api, path, 1).await),
            want,
            "{path}, limit=1"
        );
    }

    let bad: Vec<(String, &str)> = vec![
        (format!("{users}?limit=0"), "invalid_request"),
        (format!("{users}?limit=1001"), "invalid_request"),
        (format!("{users}?limit=ten"), "invalid_request"),
        (format!("{users}?state=deleted"), "invalid_request"),
        (
            format!("{users}?updated_after=yesterday"),
            "invalid_request",
        ),
        (format!("{users}?email="), "invalid_request"),
        (format!("{users}?emial=a%40b"), "invalid_request"),
        (format!("{users}?after=not%20a%20cursor"), "invalid_cursor"),
        (format!("{users}?group=not%2Fan%2Fid"), "invalid_request"),
        (format!("{users}?limit=1&limit=2"), "invalid_request"),
        ("/users".to_string(), "invalid_request"),
        ("/users?username=bob".to_string(), "invalid_request"),
        (
            format!("/groups/{eng}/users?group={eng}"),
            "invalid_request",
        ),
        (
            format!("/users/{bob}/groups?state=active"),
            "invalid_request",
        ),
        ("/directories?limit=-1".to_string(), "invalid_request"),
    ];
    for (path, code) in &bad {
        let r = api.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        assert_eq!(error_code(&r), *code, "{path}");
        assert!(r.body["error"]["message"].is_string(), "{path}");
    }

    // A group or user of the directory is looked up in it; one of another directory is not.
    let second = create_directory(&server.db, "okta", "second");
    let second_id = second["id"].as_str().unwrap().to_string();
    let theirs = c.with_token(second["token"].as_str().unwrap());
    let twin = theirs
        .post("/Users", &user_with_email("alice", "alice@example.com"))
        .await
        .id();
    let their_group = theirs
        .post("/Groups", &group_body("Twins", &[&twin]))
        .await
        .id();
    for path in [
        format!("{users}?group={their_group}"),
        format!("/directories/{dir}/groups?user={twin}"),
        format!("/directories/{second_id}/users?group={eng}"),
    ] {
        let r = api.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
    }
    let by_email = api
        .get(&format!("/users?email={}", urlencode("alice@example.com")))
        .await;
    assert_eq!(
        ids(by_email.body["data"].as_array().unwrap()),
        sorted(&[&alice, &twin])
    );
});

both_backends!(
    a_lookup_by_email_stays_in_the_keys_tenants,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let email = "Pat@Example.com";
        let ours = server
            .client
            .post("/Users", &user_with_email("pat", email))
            .await
            .id();
        cli_json(&server.db, &["tenant", "create", "globex"]);
        let globex = cli_json(
            &server.db,
            &[
                "directory",
                "create",
                "--tenant",
                "globex",
                "--kind",
                "entra",
                "gx",
            ],
        );
        let theirs = server
            .client
            .with_token(globex["token"].as_str().unwrap())
            .post("/Users", &user_with_email("pat", "pat@example.COM"))
            .await
            .id();
        let acme = server.api(&app_key(&server.db, Some("acme")));
        let everyone = server.api(&app_key(&server.db, None));
        let globex_id = cli_json(&server.db, &["tenant", "list"])["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == json!("globex"))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let query = format!("/users?email={}", urlencode("PAT@example.com"));
        let cases = [
            (&acme, query.clone(), StatusCode::OK, sorted(&[&ours])),
            (
                &everyone,
                query.clone(),
                StatusCode::OK,
                sorted(&[&ours, &theirs]),
            ),
            (
                &everyone,
                format!("{query}&tenant_id={globex_id}"),
                StatusCode::OK,
                sorted(&[&theirs]),
            ),
            (
                &acme,
                format!("{query}&tenant_id={globex_id}"),
                StatusCode::NOT_FOUND,
                vec![],
            ),
        ];
        for (api, path, status, want) in cases {
            let r = api.get(&path).await;
            assert_eq!(r.status, status, "{path}: {}", r.body);
            if status == StatusCode::OK {
                assert_eq!(ids(r.body["data"].as_array().unwrap()), want, "{path}");
            }
        }
    }
);

both_backends!(a_directory_states_what_it_is, |backend| async move {
    let server = TestServer::start(backend).await;
    let api = server.api(&app_key(&server.db, Some("acme")));
    let quiet = create_directory(&server.db, "okta", "quiet");
    let quiet_id = quiet["id"].as_str().unwrap();
    let state = |body: &Value| body["state"].as_str().unwrap().to_string();
    let r = api.get(&format!("/directories/{quiet_id}")).await;
    assert_eq!(state(&r.body), "unlinked", "no request yet: {}", r.body);
    assert_eq!(r.body["user_count"], json!(0));
    assert_eq!(r.body["activated_at"], Value::Null);

    let answered = server
        .client
        .with_token(quiet["token"].as_str().unwrap())
        .get("/Users")
        .await;
    assert_eq!(answered.status, StatusCode::OK);
    let r = api.get(&format!("/directories/{quiet_id}")).await;
    assert_eq!(state(&r.body), "linked", "{}", r.body);

    let tokens = cli_json(&server.db, &["token", "list", "--directory", "quiet"]);
    let token_id = tokens["tokens"][0]["id"].as_str().unwrap();
    cli_json(&server.db, &["token", "revoke", token_id]);
    let r = api.get(&format!("/directories/{quiet_id}")).await;
    assert_eq!(state(&r.body), "unlinked", "no live token: {}", r.body);
    cli_json(&server.db, &["token", "issue", "--directory", "quiet"]);
    let r = api.get(&format!("/directories/{quiet_id}")).await;
    assert_eq!(state(&r.body), "linked", "a live token again: {}", r.body);
    // Each move of the state is an event; issuing the first token to a directory that never
    // answered moves nothing.
    let changes = api
        .get(&format!(
            "/events?directory_id={quiet_id}&types=directory.state_changed"
        ))
        .await;
    let moves: Vec<&Value> = changes.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["data"]["state"])
        .collect();
    assert_eq!(
        moves,
        [&json!("unlinked"), &json!("linked")],
        "{}",
        changes.body
    );
    let first = &changes.body["data"][0]["data"];
    assert_eq!(first["directory_id"], json!(quiet_id));
    assert_eq!(first["tenant_id"], r.body["tenant_id"]);

    // Both directories, a page at a time.
    let all = read_all(&api, "/directories", 1).await;
    let names: BTreeSet<&str> = all.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["main", "quiet"]));
});

/// Users in the large-group test: enough for several full pages, few enough to be quick.
const MEMBERS: usize = 2_500;

both_backends!(a_large_group_pages_to_its_end, |backend| async move {
    let server = TestServer::start(backend).await;
    let api = server.api(&app_key(&server.db, Some("acme")));
    let mut made = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let client = server.client.clone();
        made.spawn(async move {
            let mut ids = Vec::new();
            for i in (worker..MEMBERS).step_by(8) {
                let r = client
                    .post("/Users", &user_body(&format!("u{i}@example.com")))
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
                ids.push(r.id());
            }
            ids
        });
    }
    let mut members: Vec<String> = made.join_all().await.into_iter().flatten().collect();
    members.sort();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let created = server
        .client
        .post("/Groups", &group_body("Everyone", &refs))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let group = created.id();
    let dir = api.get("/directories").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    for (path, limit) in [
        (format!("/groups/{group}/users"), 1000),
        (format!("/groups/{group}/users"), 333),
        (format!("/directories/{dir}/users?group={group}"), 1000),
        (format!("/directories/{dir}/users"), 1000),
    ] {
        let all = ids(&read_all(&api, &path, limit).await);
        // In id order with no repeat is exactly equal to the sorted members: no gap either.
        assert_eq!(all.len(), MEMBERS, "{path}, limit={limit}");
        assert!(
            all == members,
            "{path}, limit={limit}: not every member once, in id order"
        );
    }
    let first = api.get(&format!("/groups/{group}/users")).await;
    assert_eq!(
        first.body["data"].as_array().unwrap().len(),
        100,
        "the default limit"
    );
    let groups = api.get(&format!("/users/{}/groups", members[0])).await;
    assert_eq!(ids(groups.body["data"].as_array().unwrap()), [group]);
});
