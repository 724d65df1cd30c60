//! Custom attributes end to end on both backends: mappings administered over the admin API and
//! the CLI, values derived on SCIM and Google writes into the record and its events, the read
//! API's filter, and the background re-derivation after a mapping change.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::events::{app_key, read_all};
use crate::fake_google::{ADMIN, FakeGoogle, user};
use crate::support::*;
use crate::users::urlencode;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

/// A schema directory with one User extension, removed when dropped.
struct SchemaDir(std::path::PathBuf);

impl SchemaDir {
    fn acme() -> SchemaDir {
        let dir =
            std::env::temp_dir().join(format!("roster-attrs-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).unwrap();
        let schema = json!({
            "id": ACME,
            "name": "AcmeUser",
            "x-roster-extends": {"resourceType": "User", "required": false},
            "attributes": [{"name": "badgeNumber", "type": "string", "caseExact": true}]
        });
        std::fs::write(dir.join("acme.json"), schema.to_string()).unwrap();
        SchemaDir(dir)
    }
}

impl Drop for SchemaDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server (loading `env`), an admin client, an application client and directory `main`'s id.
async fn start(backend: Backend, env: &[(&str, &str)]) -> (TestServer, Api, Api, String) {
    let server = TestServer::start_with_env(backend, env).await;
    let admin = server.api(
        cli_json(&server.db, &["admin-key", "issue"])["key"]
            .as_str()
            .unwrap(),
    );
    let app = server.api(&app_key(&server.db, None));
    let dir = admin.get("/admin/directories").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (server, admin, app, dir)
}

/// Waits until the directory's re-derivation has finished; its state then.
async fn finished(admin: &Api, dir: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = admin
            .get(&format!("/admin/directories/{dir}/attributes"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body["rederive"]["state"] == json!("finished") {
            return r.body["rederive"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "re-derivation never finished: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn map(admin: &Api, dir: &str, name: &str, source: &str) -> Response {
    admin
        .send(
            Method::POST,
            &format!("/admin/directories/{dir}/attributes"),
            Some(&json!({"name": name, "source": source})),
        )
        .await
}

fn full_user(user_name: &str, cost: &str) -> Value {
    let mut body = user_body(user_name);
    body["schemas"] = json!([
        "urn:ietf:params:scim:schemas:core:2.0:User",
        ENTERPRISE,
        ACME
    ]);
    body[ENTERPRISE] = json!({"costCenter": cost, "manager": {"value": "m-1"}});
    body[ACME] = json!({"badgeNumber": "B-7"});
    body["addresses"] = json!([
        {"type": "home", "locality": "Bonn"},
        {"type": "work", "locality": "Köln"}
    ]);
    body["phoneNumbers"] = json!([
        {"type": "work", "value": "+49 2"},
        {"type": "mobile", "value": "+49 1"}
    ]);
    body
}

/// The user events of the directory, oldest first.
async fn user_events(app: &Api, dir: &str) -> Vec<Value> {
    read_all(app, None, &format!("&directory_id={dir}"))
        .await
        .0
        .into_iter()
        .filter(|e| e["type"].as_str().is_some_and(|t| t.starts_with("user.")))
        .collect()
}

both_backends!(
    source_paths_give_values_in_records_events_and_filters,
    |backend| async move {
        let schemas = SchemaDir::acme();
        let env = [("ROSTER_SCHEMA_DIR", schemas.0.to_str().unwrap())];
        let (server, admin, app, dir) = start(backend, &env).await;
        let scim = &server.client;

        // Nothing mapped: the record flattens the custom extension, as it always did.
        let early = scim
            .post("/Users", &full_user("early@example.com", "4130"))
            .await
            .id();
        let record = app.get(&format!("/users/{early}")).await;
        assert_eq!(
            record.body["custom_attributes"],
            json!({"badgeNumber": "B-7"})
        );

        let cases = [
            (
                "costCenter",
                format!("{ENTERPRISE}:costCenter"),
                json!("4130"),
            ),
            (
                "manager",
                format!("{ENTERPRISE}:manager.value"),
                json!("m-1"),
            ),
            (
                "city",
                r#"addresses[type eq "work"].locality"#.to_string(),
                json!("Köln"),
            ),
            (
                "mobile",
                r#"phoneNumbers[type eq "mobile"].value"#.to_string(),
                json!("+49 1"),
            ),
            ("badge", format!("{ACME}:badgeNumber"), json!("B-7")),
            ("nick", "nickName".to_string(), Value::Null),
        ];
        for (name, source, _) in &cases {
            let r = map(&admin, &dir, name, source).await;
            assert_eq!(r.status, StatusCode::CREATED, "{source}: {}", r.body);
            assert_eq!(r.body["source"], json!(source));
            assert_eq!(r.body["kind"], json!("scim"));
            assert!(r.body["rederive"]["total"].is_number(), "{}", r.body);
        }
        let expected: serde_json::Map<String, Value> = cases
            .iter()
            .map(|(name, _, value)| (name.to_string(), value.clone()))
            .collect();
        let expected = Value::Object(expected);
        let listed = admin
            .get(&format!("/admin/directories/{dir}/attributes"))
            .await;
        assert_eq!(listed.body["data"].as_array().unwrap().len(), cases.len());
        let done = finished(&admin, &dir).await;
        assert_eq!(
            (done["checked"].clone(), done["total"].clone()),
            (json!(1), json!(1))
        );

        // The user written before the mappings was re-derived.
        let record = app.get(&format!("/users/{early}")).await;
        assert_eq!(record.body["custom_attributes"], expected);

        // A new user gets them in its write, in its record and in its event.
        let late = scim
            .post("/Users", &full_user("late@example.com", "5200"))
            .await
            .id();
        let mut late_expected = expected.clone();
        late_expected["costCenter"] = json!("5200");
        let record = app.get(&format!("/users/{late}")).await;
        assert_eq!(record.body["custom_attributes"], late_expected);
        let events = user_events(&app, &dir).await;
        let created = events
            .iter()
            .find(|e| e["type"] == json!("user.created") && e["data"]["id"] == json!(late))
            .expect("user.created");
        assert_eq!(created["data"]["custom_attributes"], late_expected);

        // A PATCH re-derives in its own write; the event names what changed.
        let patched = scim
            .patch(
                &format!("/Users/{late}"),
                &patch_body(json!([{"op": "replace",
                    "path": format!("{ENTERPRISE}:costCenter"), "value": "4130"}])),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        let events = user_events(&app, &dir).await;
        let updated = events.last().unwrap();
        assert_eq!(updated["type"], json!("user.updated"));
        assert_eq!(
            updated["data"]["custom_attributes"]["costCenter"],
            json!("4130")
        );
        assert_eq!(
            updated["previous"]["custom_attributes"]["costCenter"],
            json!("5200")
        );

        // The read API filters on them, exactly and through an index.
        let ids = |r: &Response| -> Vec<String> {
            let mut ids: Vec<String> = r.body["data"]
                .as_array()
                .unwrap_or_else(|| panic!("{}", r.body))
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        };
        let mut both = vec![early.clone(), late.clone()];
        both.sort();
        let filters = [
            ("costCenter", "4130", both.clone()),
            ("costCenter", "5200", vec![]),
            ("city", "Köln", both.clone()),
            ("city", "köln", vec![]),
            ("mobile", "+49 1", both.clone()),
        ];
        for (name, value, want) in filters {
            let path = format!(
                "/directories/{dir}/users?{}={}",
                urlencode(&format!("custom_attributes[{name}]")),
                urlencode(value)
            );
            let r = app.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            assert_eq!(ids(&r), want, "{name}={value}");
        }
        let two = app
            .get(&format!(
                "/directories/{dir}/users?{}=4130&email=late%40example.com",
                urlencode("custom_attributes[costCenter]")
            ))
            .await;
        assert_eq!(ids(&two), vec![late.clone()]);
        let typo = app
            .get(&format!("/directories/{dir}/users?custom_attribute=1"))
            .await;
        assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    }
);

both_backends!(
    a_mapping_change_rederives_in_the_background_and_emits_only_real_changes,
    |backend| async move {
        let (server, admin, app, dir) = start(backend, &[]).await;
        // Three batches of 500; every fourth user's division equals its cost center.
        const N: usize = 1_200;
        for chunk in (0..N).collect::<Vec<_>>().chunks(600) {
            let ops: Vec<Value> = chunk
                .iter()
                .map(|i| {
                    let mut body = user_body(&format!("u{i}@example.com"));
                    let division = if i % 4 == 0 { "A" } else { "D" };
                    body[ENTERPRISE] = json!({"costCenter": "A", "division": division});
                    json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"), "data": body})
                })
                .collect();
            let r = server
                .client
                .post(
                    "/Bulk",
                    &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                        "Operations": ops}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let created = map(&admin, &dir, "cost", &format!("{ENTERPRISE}:costCenter")).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let first = finished(&admin, &dir).await;
        assert_eq!(
            (&first["checked"], &first["changed"], &first["total"]),
            (&json!(N), &json!(N), &json!(N))
        );
        let (_, cursor) = read_all(&app, None, &format!("&directory_id={dir}")).await;

        let changed = admin
            .send(
                Method::PATCH,
                &format!("/admin/directories/{dir}/attributes/cost"),
                Some(&json!({"source": format!("{ENTERPRISE}:division")})),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        assert_eq!(changed.body["rederive"]["total"], json!(N));
        // SCIM writes go on meanwhile.
        let meanwhile = server
            .client
            .post("/Users", &user_body("new@example.com"))
            .await;
        assert_eq!(meanwhile.status, StatusCode::CREATED);
        let second = finished(&admin, &dir).await;
        let after: Vec<Value> = read_all(&app, Some(&cursor), &format!("&directory_id={dir}"))
            .await
            .0
            .into_iter()
            .filter(|e| e["type"] == json!("user.updated"))
            .collect();
        // Only the three quarters whose division differs from their cost center changed.
        let want = N - N / 4;
        assert_eq!(second["changed"], json!(want), "{second}");
        assert_eq!(after.len(), want);
        for e in &after {
            assert_eq!(e["changed"], json!(["custom_attributes"]), "{e}");
            assert_eq!(e["data"]["custom_attributes"], json!({"cost": "D"}));
            assert_eq!(e["previous"]["custom_attributes"], json!({"cost": "A"}));
        }
        let d_users = app
            .get(&format!(
                "/directories/{dir}/users?limit=1000&{}=D",
                urlencode("custom_attributes[cost]")
            ))
            .await;
        assert_eq!(
            d_users.body["data"].as_array().unwrap().len(),
            want.min(1000)
        );
    }
);

both_backends!(
    bad_mappings_are_refused_with_the_reason,
    |backend| async move {
        let (server, admin, _app, dir) = start(backend, &[]).await;
        let attrs = format!("/admin/directories/{dir}/attributes");
        let cases = [
            (
                json!({"name": "a", "source": "noSuchAttribute"}),
                "invalid_path",
                "names no attribute",
            ),
            (
                json!({"name": "a", "source": "name"}),
                "invalid_path",
                "complex attribute 'name'",
            ),
            (
                json!({"name": "a", "source": "addresses[type co \"w\"].locality"}),
                "invalid_path",
                "'eq' tests joined by 'and'",
            ),
            (
                json!({"name": "a", "source": "emails["}),
                "invalid_path",
                "cannot parse",
            ),
            (
                json!({"name": "a", "source": "title[type eq \"x\"]"}),
                "invalid_path",
                "takes no [filter]",
            ),
            (
                json!({"name": "a", "source": "a..b", "kind": "google"}),
                "invalid_path",
                "not a field name",
            ),
            (
                json!({"name": "a", "source": "title", "kind": "ldap"}),
                "invalid_request",
                "'scim' or 'google'",
            ),
            (
                json!({"name": "2x", "source": "title"}),
                "invalid_request",
                "not a custom attribute name",
            ),
            (json!({"name": "a"}), "invalid_request", "source"),
        ];
        for (body, code, why) in cases {
            let r = admin.send(Method::POST, &attrs, Some(&body)).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
            assert_eq!(r.body["error"]["code"], json!(code), "{body}: {}", r.body);
            let message = r.body["error"]["message"].as_str().unwrap();
            assert!(message.contains(why), "{body}: {message}");
        }
        let ok = map(&admin, &dir, "title", "title").await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
        assert_eq!(
            map(&admin, &dir, "title", "nickName").await.status,
            StatusCode::CONFLICT
        );
        for (method, body) in [
            (Method::PATCH, Some(json!({"source": "nickName"}))),
            (Method::DELETE, None),
        ] {
            let r = admin
                .send(method.clone(), &format!("{attrs}/nope"), body.as_ref())
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method}: {}", r.body);
        }
        let removed = admin
            .send(Method::DELETE, &format!("{attrs}/title"), None)
            .await;
        assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
        assert_eq!(admin.get(&attrs).await.body["data"], json!([]));
        drop(server);
    }
);

const SECRET_KEY: &str = "4f1c2b7a9d0e3f5a6b8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a";

fn roster(db: &TestDb, fake: &FakeGoogle, args: &[&str]) -> Output {
    Command::new(roster_bin())
        .args(args)
        .env("ROSTER_DATABASE_URL", &db.url)
        .env("ROSTER_LOG", "warn")
        .env("ROSTER_SECRET_KEY", SECRET_KEY)
        .env("ROSTER_GOOGLE_API_URL", &fake.url)
        .env_remove("ROSTER_CONFIG")
        .output()
        .expect("run roster")
}

fn roster_json(db: &TestDb, fake: &FakeGoogle, args: &[&str]) -> Value {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let out = roster(db, fake, &full);
    assert!(
        out.status.success(),
        "roster {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

both_backends!(google_fields_and_the_cli, |backend| async move {
    let fake = FakeGoogle::start();
    let db = TestDb::new(backend);
    roster_json(&db, &fake, &["tenant", "create", "acme"]);
    let keys = std::env::temp_dir().join(format!("roster-attrs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&keys).unwrap();
    let key = fake.key_file(&keys);
    roster_json(
        &db,
        &fake,
        &[
            "directory",
            "create",
            "--tenant",
            "acme",
            "--kind",
            "google",
            "gw",
            "--service-account-key",
            key.to_str().unwrap(),
            "--admin",
            ADMIN,
            "--customer",
            "my_customer",
        ],
    );
    std::fs::remove_dir_all(&keys).unwrap();
    let mut ada = user("1001", "ada@example.com", "Ada", "Lovelace");
    ada["organizations"] = json!([
        {"costCenter": "9", "primary": false},
        {"costCenter": "4130", "primary": true}
    ]);
    ada["customSchemas"] = json!({"HR": {"badge": "42"}});
    fake.put_user(ada);
    fake.put_user(user("1002", "bob@example.com", "Bob", "Builder"));

    let added = roster_json(
        &db,
        &fake,
        &[
            "directory",
            "attribute",
            "add",
            "gw",
            "badge",
            "--google",
            "--source",
            "customSchemas.HR.badge",
        ],
    );
    assert_eq!(added["attribute"]["kind"], json!("google"));
    assert_eq!(added["rederive"]["state"], json!("finished"));
    roster_json(
        &db,
        &fake,
        &[
            "directory",
            "attribute",
            "add",
            "gw",
            "cost",
            "--google",
            "--source",
            "organizations[primary eq true].costCenter",
        ],
    );
    roster_json(&db, &fake, &["google", "sync", "--directory", "gw"]);
    let app = roster_json(&db, &fake, &["app-key", "issue"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    // `serve` needs a SCIM directory's token to start with.
    let main = roster_json(
        &db,
        &fake,
        &[
            "directory",
            "create",
            "--tenant",
            "acme",
            "--kind",
            "generic",
            "main",
        ],
    );
    let serve = TestServer::start_on(db, main["token"].as_str().unwrap().to_string(), &[]).await;
    let api = serve.api(&app);
    let gw = api.get("/directories").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == json!("gw"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let users = api.get(&format!("/directories/{gw}/users")).await;
    let mut by_name: Vec<(String, Value)> = users.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["username"].as_str().unwrap().to_string(),
                u["custom_attributes"].clone(),
            )
        })
        .collect();
    by_name.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        by_name,
        vec![
            (
                "ada@example.com".to_string(),
                json!({"badge": "42", "cost": "4130"})
            ),
            (
                "bob@example.com".to_string(),
                json!({"badge": null, "cost": null})
            ),
        ]
    );
    let created: Vec<Value> = read_all(&api, None, &format!("&directory_id={gw}"))
        .await
        .0
        .into_iter()
        .filter(|e| e["type"] == json!("user.created"))
        .map(|e| e["data"]["custom_attributes"].clone())
        .collect();
    assert!(
        created.contains(&json!({"badge": "42", "cost": "4130"})),
        "{created:?}"
    );

    // The CLI lists them; a changed mapping re-derives with progress on stderr, changing only
    // the user whose value differs, and removing one takes it out of every record.
    let db = serve.stop();
    let listed = roster_json(&db, &fake, &["directory", "attribute", "list", "gw"]);
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    let steps: [(&[&str], &str); 2] = [
        (
            &[
                "update",
                "gw",
                "cost",
                "--google",
                "--source",
                "organizations[primary eq false].costCenter",
            ],
            "re-derived 2 of 2 users, 1 changed (finished)",
        ),
        (
            &["remove", "gw", "cost"],
            "re-derived 2 of 2 users, 2 changed (finished)",
        ),
    ];
    for (args, progress) in steps {
        let mut full = vec!["directory", "attribute"];
        full.extend_from_slice(args);
        let out = roster(&db, &fake, &full);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = String::from_utf8_lossy(&out.stderr);
        assert!(printed.contains(progress), "{args:?}: {printed}");
    }
    let listed = roster_json(&db, &fake, &["directory", "attribute", "list", "gw"]);
    assert_eq!(listed["data"][0]["name"], json!("badge"));
    assert_eq!(listed["rederive"]["changed"], json!(2));
});

/// 5,000 users each changed by a new mapping, re-derived by the CLI in the foreground; prints
/// the figure in docs/performance.md (`cargo test --test it custom_attributes::rederive_figure
/// -- --nocapture`, on a release build with `--release`).
#[tokio::test]
async fn rederive_figure() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (server, _admin, _app, dir) = start(backend, &[]).await;
        const N: usize = 5_000;
        for chunk in (0..N).collect::<Vec<_>>().chunks(1000) {
            let ops: Vec<Value> = chunk
                .iter()
                .map(|i| {
                    let mut body = user_body(&format!("u{i}@example.com"));
                    body[ENTERPRISE] = json!({"costCenter": format!("c{}", i % 50)});
                    json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"), "data": body})
                })
                .collect();
            let r = server
                .client
                .post(
                    "/Bulk",
                    &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                        "Operations": ops}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK);
        }
        let source = format!("{ENTERPRISE}:costCenter");
        let started = Instant::now();
        let out = cli_json(
            &server.db,
            &[
                "directory",
                "attribute",
                "add",
                &dir,
                "cost",
                "--source",
                &source,
            ],
        );
        let took = started.elapsed();
        assert_eq!(out["rederive"]["changed"], json!(N));
        println!(
            "{backend:?}: re-derived {N} users (each changed, one user.updated each) in {:.2} s, {:.0} users/s",
            took.as_secs_f64(),
            N as f64 / took.as_secs_f64()
        );
    }
}

both_backends!(
    serve_resumes_an_unfinished_rederivation,
    |backend| async move {
        let (server, admin, _app, dir) = start(backend, &[]).await;
        for i in 0..3 {
            let mut body = user_body(&format!("u{i}@example.com"));
            body[ENTERPRISE] = json!({"costCenter": format!("c{i}")});
            assert_eq!(
                server.client.post("/Users", &body).await.status,
                StatusCode::CREATED
            );
        }
        map(&admin, &dir, "cost", &format!("{ENTERPRISE}:costCenter")).await;
        finished(&admin, &dir).await;
        let token = server.client.token.clone();
        let db = server.stop();
        // As if the server had stopped right after the mapping was saved: no user derived yet.
        {
            use diesel::prelude::*;
            let store = roster::store::Store::open(&db.url).unwrap();
            let mut conn = store.conn().unwrap();
            for sql in [
                "UPDATE directory_users SET custom_attributes = NULL",
                "DELETE FROM custom_attribute_values",
                "UPDATE custom_attribute_rederive SET after_id = NULL, checked = 0, changed = 0, finished_at = NULL",
            ] {
                diesel::sql_query(sql).execute(&mut *conn).unwrap();
            }
        }
        let server = TestServer::start_on(db, token, &[]).await;
        let admin = server.api(
            cli_json(&server.db, &["admin-key", "issue"])["key"]
                .as_str()
                .unwrap(),
        );
        let done = finished(&admin, &dir).await;
        assert_eq!(
            (&done["checked"], &done["changed"]),
            (&json!(3), &json!(3)),
            "{done}"
        );
        let app = server.api(&app_key(&server.db, None));
        let found = app
            .get(&format!(
                "/directories/{dir}/users?{}=c1",
                urlencode("custom_attributes[cost]")
            ))
            .await;
        assert_eq!(
            found.body["data"][0]["username"],
            json!("u1@example.com"),
            "{}",
            found.body
        );
    }
);
