//! A Google directory made before its credentials exist, and its settings changed afterwards:
//! over the admin API's PATCH and `roster directory update`, against the fake Google, on both
//! backends.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::fake_google::{ADMIN, FakeGoogle, group, member, user};
use crate::support::*;

pub const SECRET_KEY: &str = "9a1c2b7a9d0e3f5a6b8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2b";

/// The fake's service-account key file as JSON (the file itself is removed at once).
pub fn key_json(fake: &FakeGoogle) -> Value {
    let dir = std::env::temp_dir().join(format!("roster-gset-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = serde_json::from_slice(&std::fs::read(fake.key_file(&dir)).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    key
}

/// A Workspace of two users, ada in group eng.
pub fn seed(fake: &FakeGoogle) {
    fake.put_user(user("2001", "ada@example.com", "Ada", "Lovelace"));
    fake.put_user(user("2002", "bob@example.com", "Bob", "Builder"));
    fake.put_group(
        group("g-eng", "eng@example.com", "Engineering"),
        vec![member("2001", "USER")],
    );
}

/// The server's environment: a server key, and Google is the fake.
pub fn google_env(fake: &FakeGoogle) -> Vec<(&'static str, String)> {
    vec![
        ("ROSTER_SECRET_KEY", SECRET_KEY.to_string()),
        ("ROSTER_GOOGLE_API_URL", fake.url.clone()),
        ("ROSTER_GOOGLE_BACKOFF_MS", "5".to_string()),
    ]
}

/// Polls the directory's Google settings until `done` holds (20 s at most).
async fn settings_when(admin: &Api, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = admin
            .get(&format!("/admin/directories/{id}/google"))
            .await
            .body;
        if done(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both_backends!(
    google_settings_change_over_the_admin_api,
    |backend| async move {
        let fake = FakeGoogle::start();
        seed(&fake);
        let env = google_env(&fake);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let server = TestServer::start_with_env(backend, &env).await;
        let key = cli_json(&server.db, &["admin-key", "issue"])["key"]
            .as_str()
            .unwrap()
            .to_string();
        let admin = server.api(&key);
        let tenant = admin.get("/admin/tenants").await.body["data"][0]["id"].clone();
        let made = admin
            .send(
                Method::POST,
                "/admin/directories",
                Some(&json!({"tenant_id": tenant, "name": "gw", "kind": "google"})),
            )
            .await;
        assert_eq!(made.status.as_u16(), 201, "{}", made.body);
        assert_eq!(made.body["google"]["status"], json!("awaiting_credentials"));
        assert_eq!(made.body["google"]["admin_email"], Value::Null);
        let id = made.body["id"].as_str().unwrap().to_string();
        let path = format!("/admin/directories/{id}/google");
        let tested = admin
            .send(Method::POST, &format!("{path}/test"), None)
            .await;
        assert_eq!(tested.status.as_u16(), 409, "{}", tested.body);
        assert_eq!(tested.body["error"]["code"], json!("awaiting_credentials"));

        let key_file = key_json(&fake);
        let private_key = key_file["private_key"].as_str().unwrap().to_string();
        let cases = [
            (
                json!({"interval": "5 minutes"}),
                400,
                "awaiting_credentials",
            ),
            (json!({"interval": "0s"}), 400, "awaiting_credentials"),
            (json!({"admin": "nobody"}), 400, "awaiting_credentials"),
            (
                json!({"service_account_key": {"type": "service_account"}}),
                400,
                "awaiting_credentials",
            ),
            (
                json!({"service_account_key": "not a key file"}),
                400,
                "awaiting_credentials",
            ),
            (
                json!({"customer": "C1", "domain": "example.com"}),
                400,
                "awaiting_credentials",
            ),
            (json!({"domain": " "}), 400, "awaiting_credentials"),
            (json!({"nonsense": 1}), 400, "awaiting_credentials"),
            (
                json!({"admin": ADMIN, "groups": [], "interval": "10m"}),
                200,
                "awaiting_credentials",
            ),
            (
                json!({"service_account_key": key_file}),
                200,
                "never_synced",
            ),
        ];
        for (body, status, after) in cases {
            let r = admin.send(Method::PATCH, &path, Some(&body)).await;
            assert_eq!(r.status.as_u16(), status, "{body}: {}", r.body);
            let now = admin.get(&path).await.body;
            assert!(
                now["status"] == json!(after) || now["status"] == json!("ok"),
                "after {body}: {now}"
            );
            assert!(
                !r.body.to_string().contains(&private_key[40..80]),
                "the key is never shown"
            );
        }
        let stored = admin.get(&path).await.body;
        assert_eq!(stored["admin_email"], json!(ADMIN));
        assert_eq!(stored["interval_secs"], json!(600));
        assert_eq!(stored["groups"], Value::Null);
        let synced = settings_when(&admin, &id, "the first sync", |s| {
            s["status"] == json!("ok")
        })
        .await;
        assert_eq!(
            synced["last_created"],
            json!(3),
            "two users and a group: {synced}"
        );

        // Credentials Google refuses, then good ones again: each change resets the state and
        // the server syncs at once, though the interval is ten minutes.
        let wrong = admin
            .send(
                Method::PATCH,
                &path,
                Some(&json!({"admin": "intern@example.com"})),
            )
            .await;
        assert_eq!(wrong.status.as_u16(), 200, "{}", wrong.body);
        assert_eq!(wrong.body["status"], json!("never_synced"));
        let refused = settings_when(&admin, &id, "the refusal", |s| {
            s["status"] == json!("invalid_credentials")
        })
        .await;
        assert!(refused["last_error"].is_string(), "{refused}");
        let fixed = admin
            .send(
                Method::PATCH,
                &path,
                Some(&json!({"admin": ADMIN, "groups": ["ENG@example.com"], "domain": "example.com"})),
            )
            .await;
        assert_eq!(fixed.status.as_u16(), 200, "{}", fixed.body);
        assert_eq!(fixed.body["status"], json!("never_synced"));
        assert_eq!(fixed.body["last_error"], Value::Null);
        assert_eq!(fixed.body["groups"], json!(["eng@example.com"]));
        assert_eq!(fixed.body["domain"], json!("example.com"));
        assert_eq!(fixed.body["customer"], Value::Null);
        settings_when(&admin, &id, "a sync with the fixed admin", |s| {
            s["status"] == json!("ok")
        })
        .await;

        // Whose directory, and which kind: another tenant's key, a SCIM directory, no directory.
        cli_json(&server.db, &["tenant", "create", "globex"]);
        let globex_key = cli_json(&server.db, &["admin-key", "issue", "--tenant", "globex"])["key"]
            .as_str()
            .unwrap()
            .to_string();
        let main = admin.get("/admin/directories").await.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == json!("main"))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let body = json!({"interval": "1h"});
        for (api, target) in [
            (server.api(&globex_key), path.clone()),
            (
                server.api(&key),
                format!("/admin/directories/{main}/google"),
            ),
            (
                server.api(&key),
                "/admin/directories/nope/google".to_string(),
            ),
        ] {
            let r = api.send(Method::PATCH, &target, Some(&body)).await;
            assert_eq!(r.status.as_u16(), 404, "{target}: {}", r.body);
        }
        assert_eq!(admin.get(&path).await.body["interval_secs"], json!(600));

        // PostgreSQL has no key file beside the database: an instance without a server key
        // cannot seal a new key (SQLite instances always find or make `<db>.key`).
        if backend == Backend::Postgres {
            let keyless = server.another_instance(&[("ROSTER_GOOGLE_API_URL", &fake.url)]);
            let r = keyless
                .api(&key)
                .send(
                    Method::PATCH,
                    &path,
                    Some(&json!({"service_account_key": key_json(&fake)})),
                )
                .await;
            assert_eq!(r.status.as_u16(), 409, "{}", r.body);
            assert_eq!(r.body["error"]["code"], json!("server_key_missing"));
        }
    }
);

/// `roster ARGS` with the server key and the fake Google.
fn roster(db: &TestDb, fake: &FakeGoogle, args: &[&str]) -> Output {
    let mut cmd = Command::new(roster_bin());
    cmd.arg("--json")
        .args(args)
        .env("ROSTER_DATABASE_URL", &db.url)
        .env("ROSTER_LOG", "warn")
        .env_remove("ROSTER_CONFIG");
    for (k, v) in google_env(fake) {
        cmd.env(k, v);
    }
    cmd.output().expect("run roster")
}

both_backends!(google_settings_change_with_the_cli, |backend| async move {
    let fake = FakeGoogle::start();
    seed(&fake);
    let db = TestDb::new(backend);
    let dir = std::env::temp_dir().join(format!("roster-gcli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_path = fake.key_file(&dir);
    let key = key_path.to_str().unwrap();
    let not_a_key = dir.join("not-a-key.json");
    std::fs::write(&not_a_key, "{\"type\": \"authorized_user\"}").unwrap();
    let not_a_key = not_a_key.to_str().unwrap();
    let steps: [(&[&str], Option<&str>); 9] = [
        (&["tenant", "create", "acme"], None),
        (
            &[
                "directory",
                "create",
                "--tenant",
                "acme",
                "--kind",
                "okta",
                "scim",
            ],
            None,
        ),
        (
            &[
                "directory",
                "create",
                "--tenant",
                "acme",
                "--kind",
                "google",
                "gw",
            ],
            None,
        ),
        (
            &["google", "test", "--directory", "gw"],
            Some("no service-account key or admin yet"),
        ),
        (
            &["directory", "update", "gw", "--admin", "nobody"],
            Some("must be the email"),
        ),
        (
            &[
                "directory",
                "update",
                "gw",
                "--service-account-key",
                not_a_key,
            ],
            Some("service-account key file"),
        ),
        (
            &["directory", "update", "gw", "--interval", "soon"],
            Some("interval"),
        ),
        (
            &["directory", "update", "scim", "--admin", ADMIN],
            Some("not a Google directory"),
        ),
        (
            &[
                "directory",
                "update",
                "gw",
                "--service-account-key",
                key,
                "--admin",
                ADMIN,
                "--groups",
                "",
                "--interval",
                "10m",
            ],
            None,
        ),
    ];
    for (args, refusal) in steps {
        let out = roster(&db, &fake, args);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        match refusal {
            None => assert!(out.status.success(), "roster {args:?}: {said}"),
            Some(words) => {
                assert!(
                    !out.status.success(),
                    "roster {args:?} was accepted: {said}"
                );
                assert!(said.contains(words), "roster {args:?} said: {said}");
            }
        }
        if args[1] == "create" && args.contains(&"google") {
            let status: Value =
                serde_json::from_slice(&roster(&db, &fake, &["directory", "status", "gw"]).stdout)
                    .unwrap();
            assert_eq!(status["status"], json!("awaiting_credentials"), "{status}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let status: Value =
        serde_json::from_slice(&roster(&db, &fake, &["directory", "status", "gw"]).stdout).unwrap();
    assert_eq!(status["status"], json!("never_synced"), "{status}");
    assert_eq!(status["admin"], json!(ADMIN));
    assert_eq!(status["interval_secs"], json!(600));
    let synced = roster(&db, &fake, &["google", "sync", "--directory", "gw"]);
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    let summary: Value = serde_json::from_slice(&synced.stdout).unwrap();
    assert_eq!(summary["users_created"], json!(2), "{summary}");
});

// A sync that ends after the operator changed the settings judged the old ones: its outcome
// must not overwrite what the change set, above all the next sync being due now. Sync 2 is
// slowed by the fake; the settings change while it runs; sync 3 must follow it at once,
// though the interval is an hour.
both_backends!(
    a_settings_change_during_a_sync_is_not_undone_by_it,
    |backend| async move {
        let fake = FakeGoogle::start();
        seed(&fake);
        let env = google_env(&fake);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let server = TestServer::start_with_env(backend, &env).await;
        let key = cli_json(&server.db, &["admin-key", "issue"])["key"]
            .as_str()
            .unwrap()
            .to_string();
        let admin = server.api(&key);
        let tenant = admin.get("/admin/tenants").await.body["data"][0]["id"].clone();
        let google =
            json!({"service_account_key": key_json(&fake), "admin": ADMIN, "interval": "1h"});
        let made = admin
            .send(
                Method::POST,
                "/admin/directories",
                Some(
                    &json!({"tenant_id": tenant, "name": "gw", "kind": "google", "google": google}),
                ),
            )
            .await;
        assert_eq!(made.status.as_u16(), 201, "{}", made.body);
        let id = made.body["id"].as_str().unwrap().to_string();
        let path = format!("/admin/directories/{id}/google");
        let first = settings_when(&admin, &id, "the first sync", |s| {
            s["status"] == json!("ok")
        })
        .await["last_sync_started_at"]
            .clone();

        fake.with(|st| st.delay = Duration::from_millis(3000));
        let narrowed = admin
            .send(
                Method::PATCH,
                &path,
                Some(&json!({"groups": ["eng@example.com"]})),
            )
            .await;
        assert_eq!(narrowed.status.as_u16(), 200, "{}", narrowed.body);
        let second = settings_when(&admin, &id, "sync 2 to start", |s| {
            s["last_sync_started_at"] != first
        })
        .await;
        let running = admin
            .send(Method::PATCH, &path, Some(&json!({"groups": []})))
            .await;
        assert_eq!(running.status.as_u16(), 200, "{}", running.body);
        assert_eq!(
            admin.get(&path).await.body["last_sync_finished_at"],
            second["last_sync_finished_at"],
            "the change came while sync 2 ran"
        );
        fake.with(|st| st.delay = Duration::ZERO);
        let third = settings_when(&admin, &id, "sync 3, due at once after the change", |s| {
            s["last_sync_started_at"] != second["last_sync_started_at"]
        })
        .await;
        assert_eq!(third["groups"], Value::Null, "{third}");
    }
);
