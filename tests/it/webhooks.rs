//! Webhooks to a real local receiver, on both backends: Standard Webhooks signatures checked
//! independently, per-directory order, a receiver that goes down, Roster killed mid-delivery,
//! secret rotation, test events, the delivery log, replays, 410, target checks, tenant
//! isolation, and two instances on one PostgreSQL.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::both_backends;
use crate::events::{app_key, read_all};
use crate::receiver::{Received, Receiver};
use crate::support::*;

/// Lets webhooks reach the receiver on 127.0.0.1 over plain HTTP.
const LOCAL: [(&str, &str); 2] = [
    ("ROSTER_ALLOW_HTTP_WEBHOOKS", "1"),
    ("ROSTER_ALLOW_PRIVATE_WEBHOOK_TARGETS", "1"),
];

fn create_endpoint(db: &TestDb, url: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--json", "webhook", "create", "--url", url];
    args.extend_from_slice(extra);
    let out = std::process::Command::new(roster_bin())
        .args(&args)
        .env("ROSTER_DATABASE_URL", &db.url)
        .envs(LOCAL)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn roster(db: &TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(roster_bin())
        .args(args)
        .env("ROSTER_DATABASE_URL", &db.url)
        .envs(LOCAL)
        .output()
        .unwrap()
}

/// The signatures of `r` that verify with `secret`, computed here with hmac and base64 alone.
fn verifies(r: &Received, secret: &str) -> usize {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    r.signature.split(' ').filter(|s| *s == expected).count()
}

/// Per directory, the cursors of accepted deliveries in arrival order, first arrival only.
fn per_directory(accepted: &[Received]) -> BTreeMap<String, Vec<u64>> {
    let mut seen = HashSet::new();
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in accepted {
        if !seen.insert(r.id.clone()) {
            continue;
        }
        let e = r.json();
        if e["type"] == json!("webhook.test") {
            continue;
        }
        let cursor: u64 = e["cursor"].as_str().unwrap().parse().unwrap();
        out.entry(e["directory_id"].as_str().unwrap().to_string())
            .or_default()
            .push(cursor);
    }
    out
}

fn assert_in_cursor_order(accepted: &[Received]) {
    for (directory, cursors) in per_directory(accepted) {
        assert!(
            cursors.windows(2).all(|w| w[0] < w[1]),
            "directory {directory} got its events out of order: {cursors:?}"
        );
    }
}

async fn some_writes(c: &Client, prefix: &str, n: usize) {
    for i in 0..n {
        let r = c
            .post("/Users", &user_body(&format!("{prefix}{i}@example.com")))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        c.patch(
            &format!("/Users/{}", r.id()),
            &patch_body(json!([{"op": "replace", "path": "title", "value": "x"}])),
        )
        .await;
    }
}

async fn event_ids(api: &Api) -> HashSet<String> {
    read_all(api, None, "")
        .await
        .0
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// The endpoint's secret columns as stored: (current, previous).
fn stored_secrets(db: &TestDb, id: &str) -> (String, Option<String>) {
    use diesel::prelude::*;
    use roster::store::schema::webhook_endpoints::dsl as e;
    let store = roster::store::Store::open(&db.url).unwrap();
    let mut conn = store.conn().unwrap();
    e::webhook_endpoints
        .filter(e::id.eq(id))
        .select((e::secret, e::previous_secret))
        .first(&mut *conn)
        .unwrap()
}

const SERVER_KEY: &str = "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9";

both_backends!(signing_secrets_are_sealed_at_rest, |backend| async move {
    let receiver = Receiver::start();
    let db = TestDb::new(backend);
    assert!(cli(&db, &["migrate"]).status.success());
    cli_json(&db, &["tenant", "create", "acme"]);
    let token = create_directory(&db, "generic", "main")["token"]
        .as_str()
        .unwrap()
        .to_string();
    // Without ROSTER_SECRET_KEY: SQLite seals with the key file beside the database,
    // PostgreSQL (whose instances would each need that file) keeps it in clear.
    let endpoint = create_endpoint(&db, &receiver.url(), &[]);
    let (id, secret) = (
        endpoint["id"].as_str().unwrap(),
        endpoint["secret"].as_str().unwrap(),
    );
    let rotated: Value =
        serde_json::from_slice(&roster(&db, &["--json", "webhook", "rotate-secret", id]).stdout)
            .unwrap();
    let new_secret = rotated["secret"].as_str().unwrap();
    let (current, previous) = stored_secrets(&db, id);
    match backend {
        Backend::Sqlite => {
            assert!(current.starts_with("sealed:") && !current.contains(new_secret));
            assert!(previous.as_deref().unwrap().starts_with("sealed:"));
        }
        Backend::Postgres => assert_eq!(
            (current.as_str(), previous.as_deref()),
            (new_secret, Some(secret))
        ),
    }
    // A key configured later seals what was kept in clear, at start; both secrets still sign.
    let mut env: Vec<(&str, &str)> = LOCAL.to_vec();
    if backend == Backend::Postgres {
        env.push(("ROSTER_SECRET_KEY", SERVER_KEY));
    }
    let server = TestServer::start_on(db, token, &env).await;
    let (current, previous) = stored_secrets(&server.db, id);
    for stored in [current.as_str(), previous.as_deref().unwrap()] {
        assert!(stored.starts_with("sealed:"), "{stored}");
        assert!(!stored.contains(secret) && !stored.contains(new_secret));
    }
    let created = server
        .client
        .post("/Users", &user_body("sealed@example.com"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let api = server.api(&app_key(&server.db, None));
    receiver
        .wait_for_ids(&event_ids(&api).await, Duration::from_secs(20))
        .await;
    for r in receiver.accepted() {
        assert_eq!(
            verifies(&r, secret) + verifies(&r, new_secret),
            2,
            "{}",
            r.id
        );
    }
});

both_backends!(
    deliveries_are_signed_and_match_the_feed,
    |backend| async move {
        let receiver = Receiver::start();
        let server = TestServer::start_with_env(backend, &LOCAL).await;
        let endpoint = create_endpoint(&server.db, &receiver.url(), &[]);
        let secret = endpoint["secret"].as_str().unwrap().to_string();
        let other = create_directory(&server.db, "okta", "second");
        let second = server.client.with_token(other["token"].as_str().unwrap());
        let (a, b) = tokio::join!(
            some_writes(&server.client, "a", 5),
            some_writes(&second, "b", 5)
        );
        let _ = (a, b);
        let api = server.api(&app_key(&server.db, None));
        let (events, _) = read_all(&api, None, "").await;
        let ids: HashSet<String> = events
            .iter()
            .map(|e| e["id"].as_str().unwrap().into())
            .collect();
        receiver.wait_for_ids(&ids, Duration::from_secs(20)).await;
        let accepted = receiver.accepted();
        let by_id: BTreeMap<String, &Value> = events
            .iter()
            .map(|e| (e["id"].as_str().unwrap().to_string(), e))
            .collect();
        let now = chrono::Utc::now().timestamp();
        for r in &accepted {
            assert_eq!(verifies(r, &secret), 1, "signature of {}", r.id);
            let ts: i64 = r.timestamp.parse().unwrap();
            assert!((now - ts).abs() < 120, "webhook-timestamp in seconds: {ts}");
            let body = r.json();
            assert_eq!(body["id"], json!(r.id), "webhook-id is the event id");
            assert_eq!(&body, by_id[&r.id], "the body is the events API's object");
        }
        assert_in_cursor_order(&accepted);

        // The delivery log has each attempt: the dispatcher's next round (20 ms on) writes
        // what a turn sent, so it may trail the receiver by a moment.
        let id = endpoint["id"].as_str().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let log = loop {
            let log = cli_json(
                &server.db,
                &["webhook", "deliveries", id, "--limit", "1000"],
            );
            let log = log["deliveries"].as_array().unwrap().clone();
            if log.len() >= ids.len() || std::time::Instant::now() > deadline {
                break log;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(
            log.len() >= ids.len(),
            "{} logged of {}",
            log.len(),
            ids.len()
        );
        assert!(log.iter().all(|d| d["status"] == json!("succeeded")));
        assert!(log[0]["response_code"] == json!(200) && log[0]["latency_ms"].is_number());
    }
);

both_backends!(
    a_receiver_that_was_down_gets_every_event_in_order,
    |backend| async move {
        let receiver = Receiver::start();
        let server = TestServer::start_with_env(backend, &LOCAL).await;
        create_endpoint(&server.db, &receiver.url(), &[]);
        let stopped = receiver.stop();
        some_writes(&server.client, "down", 4).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let receiver = Receiver::restart(stopped);
        some_writes(&server.client, "up", 2).await;
        let api = server.api(&app_key(&server.db, None));
        let ids = event_ids(&api).await;
        receiver.wait_for_ids(&ids, Duration::from_secs(40)).await;
        assert_in_cursor_order(&receiver.accepted());
    }
);

both_backends!(
    a_killed_roster_delivers_again_with_the_same_id,
    |backend| async move {
        let receiver = Receiver::start();
        let server = TestServer::start_with_env(backend, &LOCAL).await;
        let token = server.client.token.clone();
        create_endpoint(&server.db, &receiver.url(), &[]);
        receiver.set_delay(Duration::from_secs(3));
        server
            .client
            .post("/Users", &user_body("first@example.com"))
            .await;
        server
            .client
            .post("/Users", &user_body("second@example.com"))
            .await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while receiver.received().is_empty() {
            assert!(std::time::Instant::now() < deadline, "no delivery started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let in_flight = receiver.received()[0].id.clone();
        let db = server.stop();
        receiver.set_delay(Duration::ZERO);
        let server = TestServer::start_on(db, token, &LOCAL).await;
        let api = server.api(&app_key(&server.db, None));
        let ids = event_ids(&api).await;
        receiver.wait_for_ids(&ids, Duration::from_secs(60)).await;
        let again = receiver
            .received()
            .iter()
            .filter(|r| r.id == in_flight)
            .count();
        assert!(
            again >= 2,
            "the delivery cut short was sent again with the same webhook-id"
        );
        assert_in_cursor_order(&receiver.accepted());
    }
);

both_backends!(
    rotation_signs_with_both_secrets_until_the_overlap_ends,
    |backend| async move {
        let receiver = Receiver::start();
        let server = TestServer::start_with_env(backend, &LOCAL).await;
        let endpoint = create_endpoint(&server.db, &receiver.url(), &[]);
        let id = endpoint["id"].as_str().unwrap();
        let old = endpoint["secret"].as_str().unwrap().to_string();
        let rotated = cli_json(
            &server.db,
            &["webhook", "rotate-secret", id, "--overlap", "1h"],
        );
        let new = rotated["secret"].as_str().unwrap().to_string();
        assert_ne!(old, new);
        server
            .client
            .post("/Users", &user_body("rotated@example.com"))
            .await;
        let api = server.api(&app_key(&server.db, None));
        receiver
            .wait_for_ids(&event_ids(&api).await, Duration::from_secs(20))
            .await;
        let r = receiver.accepted().pop().unwrap();
        assert_eq!(r.signature.split(' ').count(), 2, "{}", r.signature);
        assert_eq!((verifies(&r, &old), verifies(&r, &new)), (1, 1));

        cli_json(
            &server.db,
            &["webhook", "rotate-secret", id, "--overlap", "0s"],
        );
        let newest = cli_json(
            &server.db,
            &["webhook", "rotate-secret", id, "--overlap", "0s"],
        );
        let newest = newest["secret"].as_str().unwrap();
        let out = roster(&server.db, &["--json", "webhook", "test", id]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let test = receiver.accepted().pop().unwrap();
        assert_eq!(test.json()["type"], json!("webhook.test"));
        assert_eq!(
            test.signature.split(' ').count(),
            1,
            "the overlap has ended"
        );
        assert_eq!(verifies(&test, newest), 1);
    }
);

both_backends!(test_events_replays_and_gone, |backend| async move {
    let receiver = Receiver::start();
    let server = TestServer::start_with_env(backend, &LOCAL).await;
    let key = app_key(&server.db, None);
    let api = server.api(&key);
    let (_, start) = read_all(&api, None, "").await;
    let created = reqwest::Client::new()
        .post(format!("{}/webhooks", api.base))
        .bearer_auth(&key)
        .json(&json!({"url": receiver.url(), "types": ["user.created"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let endpoint: Value = created.json().await.unwrap();
    let id = endpoint["id"].as_str().unwrap().to_string();
    assert!(endpoint["secret"].as_str().unwrap().starts_with("whsec_"));
    some_writes(&server.client, "r", 3).await;
    let (users, _) = read_all(&api, None, "&types=user.created").await;
    let created_ids: HashSet<String> = users
        .iter()
        .map(|e| e["id"].as_str().unwrap().into())
        .collect();
    receiver
        .wait_for_ids(&created_ids, Duration::from_secs(20))
        .await;
    assert!(
        receiver
            .accepted()
            .iter()
            .all(|r| r.json()["type"] == json!("user.created")),
        "only the endpoint's types"
    );

    let post = |path: String, body: Value| {
        let key = key.clone();
        async move {
            reqwest::Client::new()
                .post(path)
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let test = post(format!("{}/webhooks/{id}/test", api.base), json!({})).await;
    assert_eq!(test.status(), StatusCode::OK);
    let before = receiver.accepted().len();
    let replay = post(
        format!("{}/webhooks/{id}/replay", api.base),
        json!({"from": start}),
    )
    .await;
    assert_eq!(replay.status(), StatusCode::OK);
    let done: Value = replay.json().await.unwrap();
    assert_eq!(done["sent"], json!(3), "{done}");
    let again: Vec<String> = receiver.accepted()[before..]
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(again.iter().cloned().collect::<HashSet<_>>(), created_ids);
    let log = api.get(&format!("/webhooks/{id}/deliveries")).await;
    assert!(
        log.body["data"].as_array().unwrap().len() >= 7,
        "{}",
        log.body
    );

    receiver.set_status(410);
    server
        .client
        .post("/Users", &user_body("gone@example.com"))
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let e = api.get(&format!("/webhooks/{id}")).await;
        if e.body["enabled"] == json!(false) {
            assert!(e.body["disabled_reason"].as_str().unwrap().contains("410"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "410 did not disable: {}",
            e.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failed = api
        .get(&format!("/webhooks/{id}/deliveries?failed=true"))
        .await;
    assert_eq!(failed.body["data"][0]["response_code"], json!(410));
    // The application hears of it in the feed, with the endpoint as listings show it.
    let (disabled, _) = read_all(&api, None, "&types=webhook.disabled").await;
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    let data = &disabled[0]["data"];
    assert_eq!(data["endpoint"]["id"], json!(id));
    assert_eq!(data["endpoint"]["enabled"], json!(false));
    assert!(data["endpoint"].get("secret").is_none());
    assert!(data["reason"].as_str().unwrap().contains("410"));
});

both_backends!(
    targets_outside_the_policy_are_refused,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let key = app_key(&server.db, None);
        for url in [
            "http://hooks.example.com/x",
            "https://127.0.0.1/x",
            "https://10.0.0.8/x",
            "https://[::1]/x",
            "https://169.254.169.254/latest",
            "ftp://hooks.example.com/",
        ] {
            let r = reqwest::Client::new()
                .post(format!("{}/api/v1/webhooks", server.origin()))
                .bearer_auth(&key)
                .json(&json!({"url": url}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{url}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], json!("invalid_url"), "{url}");
            let out = cli(&server.db, &["webhook", "create", "--url", url]);
            assert!(!out.status.success(), "the CLI took {url}");
        }
        // A name that resolves to loopback is refused when the request is made.
        let allowed_http = [("ROSTER_ALLOW_HTTP_WEBHOOKS", "1")];
        let out = std::process::Command::new(roster_bin())
            .args([
                "--json",
                "webhook",
                "create",
                "--url",
                "http://localhost:9/x",
            ])
            .env("ROSTER_DATABASE_URL", &server.db.url)
            .envs(allowed_http)
            .output()
            .unwrap();
        assert!(out.status.success());
        let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let test = std::process::Command::new(roster_bin())
            .args(["--json", "webhook", "test", &id])
            .env("ROSTER_DATABASE_URL", &server.db.url)
            .envs(allowed_http)
            .output()
            .unwrap();
        assert!(!test.status.success());
        let text = String::from_utf8_lossy(&test.stdout);
        assert!(text.contains("non-public"), "{text}");
    }
);

both_backends!(
    a_tenants_key_manages_only_its_endpoints,
    |backend| async move {
        let server = TestServer::start_with_env(backend, &LOCAL).await;
        cli_json(&server.db, &["tenant", "create", "globex"]);
        let global = create_endpoint(&server.db, "https://hooks.example.com/all", &[]);
        let theirs = create_endpoint(
            &server.db,
            "https://hooks.example.com/globex",
            &["--tenant", "globex"],
        );
        let acme = server.api(&app_key(&server.db, Some("acme")));
        let list = acme.get("/webhooks").await;
        assert_eq!(list.body["data"], json!([]));
        for id in [&global["id"], &theirs["id"]] {
            let id = id.as_str().unwrap();
            for path in [
                format!("/webhooks/{id}"),
                format!("/webhooks/{id}/deliveries"),
            ] {
                let r = acme.get(&path).await;
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            }
            let r = reqwest::Client::new()
                .delete(format!("{}/webhooks/{id}", acme.base))
                .bearer_auth(&acme.key)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
        }
        let everyone = server.api(&app_key(&server.db, None));
        assert_eq!(
            everyone.get("/webhooks").await.body["data"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
);

#[tokio::test]
async fn two_instances_never_send_one_delivery_twice_at_once() {
    let receiver = Receiver::start();
    receiver.set_delay(Duration::from_millis(20));
    let server = TestServer::start_with_env(Backend::Postgres, &LOCAL).await;
    let second = server.another_instance(&LOCAL);
    create_endpoint(&server.db, &receiver.url(), &[]);
    let mut writers = Vec::new();
    for d in 0..6 {
        let dir = create_directory(&server.db, "generic", &format!("x{d}"));
        let token = dir["token"].as_str().unwrap().to_string();
        let c = if d % 2 == 0 {
            server.client.with_token(&token)
        } else {
            second.scim(&token)
        };
        writers.push(tokio::spawn(async move {
            some_writes(&c, &format!("d{d}-"), 5).await
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let api = server.api(&app_key(&server.db, None));
    let ids = event_ids(&api).await;
    receiver.wait_for_ids(&ids, Duration::from_secs(40)).await;
    assert_eq!(receiver.concurrent_duplicates(), Vec::<String>::new());
    let accepted = receiver.accepted();
    let distinct: HashSet<&String> = accepted.iter().map(|r| &r.id).collect();
    assert_eq!(
        distinct.len(),
        accepted.len(),
        "an event was delivered twice"
    );
    assert_in_cursor_order(&accepted);
}

#[test]
fn published_test_vectors_verify() {
    let doc = include_str!("../../docs/webhooks.md");
    let block = doc
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/webhooks.md has its test vectors");
    let mut checked = 0;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let [secret, id, timestamp, body, expected] = line.split('\t').collect::<Vec<_>>()[..]
        else {
            panic!("a vector has five tab-separated fields: {line}");
        };
        let received = Received {
            id: id.into(),
            timestamp: timestamp.into(),
            signature: expected.into(),
            body: body.as_bytes().to_vec(),
            status: 200,
        };
        assert_eq!(verifies(&received, secret), 1, "independent HMAC: {line}");
        let ours = roster::delivery::sign::signature(
            secret,
            id,
            timestamp.parse().unwrap(),
            body.as_bytes(),
        );
        assert_eq!(ours.as_deref(), Some(expected), "Roster's signer: {line}");
        checked += 1;
    }
    assert_eq!(checked, 2);
}
