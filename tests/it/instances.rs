//! Several `roster serve` instances on one database, with writers spread over them: no
//! acknowledged write lost, a revoked token refused by every instance within the documented
//! bound, one Google sync per directory at a time, one event feed, migrations applied once.
//!
//! PostgreSQL only, by nature: several instances on one database is what PostgreSQL is for
//! (`docs/operations.md`, "Several instances"); a SQLite database has one process, whose
//! writer owns the file.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::events::{app_key, directories_and_writers, sixteen_writers_and_readers};
use crate::google;
use crate::support::*;

/// The version a response's weak ETag (`W/"N"`) names.
fn version(r: &Response) -> i64 {
    let tag = r.header("etag").expect("an ETag");
    tag.trim_start_matches("W/\"")
        .trim_end_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("ETag {tag}"))
}

fn phone_numbers(user: &Value) -> Vec<String> {
    let mut numbers: Vec<String> = user["phoneNumbers"]
        .as_array()
        .map(|phones| {
            phones
                .iter()
                .map(|p| p["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    numbers.sort();
    numbers
}

fn add_phone(number: &str) -> Value {
    patch_body(
        json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": number, "type": "work"}]}]),
    )
}

/// The main server and a second instance on its database, and a SCIM client of each.
async fn two_instances() -> (TestServer, Instance, [Client; 2]) {
    let server = TestServer::start(Backend::Postgres).await;
    let second = server.another_instance(&[]);
    let clients = [server.client.clone(), second.scim(&server.client.token)];
    (server, second, clients)
}

/// Reads the user and PATCHes it with `If-Match` until `writes` PATCHes were acknowledged,
/// each attempt adding a number of its own; the acknowledged numbers and the 412s met. A 412
/// must be a real conflict: the version it was refused against is gone when read again.
async fn write_if_match(
    c: Client,
    path: String,
    writer: usize,
    writes: usize,
) -> (Vec<String>, usize) {
    let (mut acknowledged, mut conflicts) = (Vec::new(), 0);
    for attempt in 0..500 {
        if acknowledged.len() == writes {
            return (acknowledged, conflicts);
        }
        let current = c.get(&path).await;
        assert_eq!(current.status, StatusCode::OK, "{}", current.body);
        let etag = current.header("etag").unwrap().to_string();
        let number = format!("+1-555-{writer:02}{attempt:03}");
        let r = c
            .send(
                Method::PATCH,
                &path,
                Some(&add_phone(&number)),
                &[("if-match", &etag)],
            )
            .await;
        match r.status {
            StatusCode::OK => {
                assert!(version(&r) > version(&current), "{}", r.body);
                acknowledged.push(number);
            }
            StatusCode::PRECONDITION_FAILED => {
                conflicts += 1;
                let now = c.get(&path).await;
                assert_ne!(
                    now.header("etag"),
                    Some(etag.as_str()),
                    "412 while {etag} was still the current version"
                );
            }
            other => panic!("PATCH with If-Match answered {other}: {}", r.body),
        }
    }
    panic!("writer {writer}: {writes} writes not acknowledged in 500 attempts");
}

#[tokio::test]
async fn if_match_patches_through_both_instances_keep_every_acknowledged_write() {
    let (_server, _second, clients) = two_instances().await;
    let created = clients[0]
        .post("/Users", &user_body("contested@example.com"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let path = format!("/Users/{}", created.id());
    let (writers, writes) = (8, 3);
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            tokio::spawn(write_if_match(
                clients[w % 2].clone(),
                path.clone(),
                w,
                writes,
            ))
        })
        .collect();
    let (mut acknowledged, mut conflicts) = (Vec::new(), 0);
    for t in tasks {
        let (numbers, met) = t.await.unwrap();
        acknowledged.extend(numbers);
        conflicts += met;
    }
    acknowledged.sort();
    assert_eq!(acknowledged.len(), writers * writes);
    for c in &clients {
        let user = c.get(&path).await;
        assert_eq!(
            phone_numbers(&user.body),
            acknowledged,
            "exactly the acknowledged writes, none refused with 412"
        );
        assert_eq!(
            version(&user),
            version(&created) + (writers * writes) as i64,
            "one version per acknowledged write"
        );
    }
    assert!(
        conflicts > 0,
        "{writers} writers on one user never met a conflict: the test did not contend"
    );
}

#[tokio::test]
async fn patches_without_if_match_through_both_instances_lose_nothing() {
    let (_server, _second, clients) = two_instances().await;
    let mut members = Vec::new();
    for i in 0..16 {
        let user = clients[i % 2]
            .post("/Users", &user_body(&format!("m{i}@example.com")))
            .await;
        assert_eq!(user.status, StatusCode::CREATED);
        members.push(user.id());
    }
    let group = clients[0].post("/Groups", &group_body("Busy", &[])).await;
    let group = format!("/Groups/{}", group.id());
    // Not a member: joining a group moves a user's version too.
    let user = clients[1]
        .post("/Users", &user_body("phones@example.com"))
        .await;
    let user = format!("/Users/{}", user.id());
    // (path, body) per PATCH: a distinct member each into one group, a distinct phone number
    // each onto one user; every other one through the second instance.
    let mut patches: Vec<(String, Value)> = members
        .iter()
        .map(|m| {
            let add = json!([{"op": "add", "path": "members", "value": [{"value": m}]}]);
            (group.clone(), patch_body(add))
        })
        .collect();
    let numbers: Vec<String> = (0..12).map(|i| format!("+1-555-01{i:02}")).collect();
    patches.extend(numbers.iter().map(|n| (user.clone(), add_phone(n))));
    let tasks: Vec<_> = patches
        .into_iter()
        .enumerate()
        .map(|(i, (path, body))| {
            let c = clients[i % 2].clone();
            tokio::spawn(async move { c.patch(&path, &body).await.status })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().is_success());
    }
    for c in &clients {
        let g = c.get(&group).await;
        let mut listed: Vec<&str> = g.body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap())
            .collect();
        listed.sort();
        let mut expected: Vec<&str> = members.iter().map(String::as_str).collect();
        expected.sort();
        assert_eq!(listed, expected, "every member added is there");
        assert_eq!(version(&g), 17, "one version per change");
        let u = c.get(&user).await;
        assert_eq!(phone_numbers(&u.body), numbers, "no PATCH was lost");
        assert_eq!(version(&u), 13);
    }
}

/// How a test revokes a SCIM token.
#[derive(Debug, Clone, Copy)]
enum Revocation {
    Cli,
    AdminApi,
}

#[tokio::test]
async fn a_revoked_token_is_refused_by_both_instances_within_a_second() {
    let (server, second, _) = two_instances().await;
    let admin = cli_json(&server.db, &["admin-key", "issue"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    // `domain::token::RECHECK_AFTER`, as docs/operations.md states it, plus the time a
    // request takes here.
    let bound = Duration::from_secs(1) + Duration::from_millis(250);
    for how in [Revocation::Cli, Revocation::AdminApi] {
        let issued = cli_json(&server.db, &["token", "issue", "--directory", "main"]);
        let (id, token) = (
            issued["id"].as_str().unwrap(),
            issued["token"].as_str().unwrap(),
        );
        let clients = [server.client.with_token(token), second.scim(token)];
        // Each instance has found the token live and trusts it now.
        for c in &clients {
            assert_eq!(c.get("/Users?count=1").await.status, StatusCode::OK);
        }
        match how {
            Revocation::Cli => {
                cli_json(&server.db, &["token", "revoke", id]);
            }
            Revocation::AdminApi => {
                let r = Api::new(&second.origin, &admin)
                    .send(Method::DELETE, &format!("/admin/tokens/{id}"), None)
                    .await;
                assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
            }
        }
        let revoked = Instant::now();
        for (i, c) in clients.iter().enumerate() {
            loop {
                let status = c.get("/Users?count=1").await.status;
                if status == StatusCode::UNAUTHORIZED {
                    break;
                }
                assert_eq!(status, StatusCode::OK);
                assert!(
                    revoked.elapsed() < bound,
                    "{how:?}: instance {i} still took the token {:?} after it was revoked",
                    revoked.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(1100)).await;
        for c in &clients {
            assert_eq!(
                c.get("/Users?count=1").await.status,
                StatusCode::UNAUTHORIZED,
                "{how:?}: refused for good"
            );
        }
    }
}

/// Starts an instance on `db` per `env`, all at the same moment.
fn start_at_once(db: &TestDb, envs: [&[(&str, &str)]; 2]) -> [Instance; 2] {
    std::thread::scope(|s| {
        let started = envs.map(|env| s.spawn(move || Instance::start(db, env)));
        started.map(|t| t.join().expect("roster serve starts"))
    })
}

/// `name{labels} value` summed over every series of `name` whose labels contain `labels`.
async fn scrape(origin: &str, name: &str, labels: &str) -> f64 {
    let text = reqwest::get(format!("{origin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(labels))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// The directory's sync lease holder and its next sync, as stored.
fn lease(db: &TestDb) -> (Option<String>, chrono::NaiveDateTime) {
    use roster::store::schema::google_directories::dsl as gd;
    let mut conn = PgConnection::establish(&db.url).unwrap();
    gd::google_directories
        .select((gd::lease_owner, gd::next_sync_at))
        .get_result(&mut conn)
        .unwrap()
}

async fn eventually(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn one_google_sync_per_directory_across_instances() {
    let s = google::setup(Backend::Postgres, &["--interval", "4s"]);
    s.fake.populate(30, 2);
    // A sync lists users, groups and each group's members: about 2 s at this pace, so an
    // instance that syncs beside another would overlap its listings.
    s.fake.with(|st| st.delay = Duration::from_millis(500));
    let env = s.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Both see the directory due at start and race for its lease.
    let instances = start_at_once(&s.db, [&env, &env]);
    let runs = async |i: &Instance| {
        scrape(&i.origin, "roster_google_sync_runs_total", "outcome=\"ok\"").await
    };
    eventually("a first sync", Duration::from_secs(30), async || {
        runs(&instances[0]).await + runs(&instances[1]).await >= 1.0
    })
    .await;
    let [a, b] = instances;
    let (first, other) = if runs(&a).await >= 1.0 {
        (a, b)
    } else {
        (b, a)
    };
    // Stopped between syncs, so it holds no lease: the other instance, which tried all along,
    // must take the directory over.
    eventually(
        "the lease given back",
        Duration::from_secs(10),
        async || {
            let (owner, next) = lease(&s.db);
            owner.is_none() && next > chrono::Utc::now().naive_utc() + chrono::Duration::seconds(1)
        },
    )
    .await;
    drop(first);
    eventually(
        "a sync by the other instance",
        Duration::from_secs(30),
        async || runs(&other).await >= 1.0,
    )
    .await;
    assert_eq!(
        s.fake.with(|st| st.listings_at_once),
        1,
        "two syncs of one directory overlapped"
    );
    assert_eq!(
        scrape(
            &other.origin,
            "roster_google_sync_runs_total",
            "outcome=\"error\""
        )
        .await,
        0.0
    );
}

#[tokio::test]
async fn instances_started_at_once_on_an_empty_database_both_come_up_migrated() {
    let db = TestDb::new(Backend::Postgres);
    let instances = start_at_once(&db, [&[], &[]]);
    for i in &instances {
        let ready = reqwest::get(format!("{}/readyz", i.origin)).await.unwrap();
        assert_eq!(ready.status(), StatusCode::OK);
    }
    let shipped = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    #[derive(QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = PgConnection::establish(&db.url).unwrap();
    let applied: Applied =
        diesel::sql_query("SELECT count(*) AS n FROM __diesel_schema_migrations")
            .get_result(&mut conn)
            .unwrap();
    assert_eq!(applied.n, shipped as i64);
    // And the database works through either: a tenant made by one is seen by the other.
    cli_json(&db, &["tenant", "create", "acme"]);
    let dir = create_directory(&db, "generic", "main");
    let token = dir["token"].as_str().unwrap();
    let created = instances[0]
        .scim(token)
        .post("/Users", &user_body("first@example.com"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let read = instances[1]
        .scim(token)
        .get(&format!("/Users/{}", created.id()))
        .await;
    assert_eq!(read.status, StatusCode::OK);
}

#[tokio::test]
async fn readers_on_either_instance_see_one_gap_free_feed() {
    let server = TestServer::start(Backend::Postgres).await;
    let key = app_key(&server.db, None);
    let second = server.another_instance(&[]);
    let writers = directories_and_writers(&server)
        .await
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            if i % 2 == 0 {
                server.client.with_token(&t)
            } else {
                second.scim(&t)
            }
        })
        .collect();
    let readers = vec![
        server.api(&key),
        second.api(&key),
        server.api(&key),
        second.api(&key),
    ];
    sixteen_writers_and_readers(writers, readers, second.api(&key)).await;
}
