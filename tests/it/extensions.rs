//! Operator schema extensions (`ROSTER_SCHEMA_DIR`, `--schema-dir`, `schema_dir`): a document
//! dropped in a directory is validated, stored, filtered in SQL, patched and served by discovery
//! like the built-in enterprise extension; a broken one stops `roster serve` and nothing else.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;
use crate::users::urlencode;

const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";
const ACME_GROUP: &str = "urn:example:params:scim:schemas:extension:acme:2.0:Group";

/// A directory of its own under the system temp dir, removed when dropped.
struct SchemaDir(PathBuf);

impl SchemaDir {
    fn with_files(files: &[(&str, String)]) -> SchemaDir {
        let dir =
            std::env::temp_dir().join(format!("roster-schemas-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).expect("create schema dir");
        for (name, text) in files {
            std::fs::write(dir.join(name), text).expect("write schema file");
        }
        SchemaDir(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("temp dir is UTF-8")
    }
}

impl Drop for SchemaDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn acme_user_schema() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": ACME,
        "name": "AcmeUser",
        "description": "Acme badge and site data",
        "x-roster-extends": {"resourceType": "User", "required": false},
        "attributes": [
            {"name": "badgeNumber", "type": "string", "caseExact": true},
            {"name": "clearanceLevel", "type": "integer"},
            {"name": "contractor", "type": "boolean"},
            {"name": "sites", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "name", "type": "string"},
                {"name": "primary", "type": "boolean"}
            ]},
            {"name": "hiredOn", "type": "string", "mutability": "immutable"},
            {"name": "reviewedAt", "type": "dateTime"}
        ]
    })
}

fn acme_group_schema() -> Value {
    json!({
        "id": ACME_GROUP,
        "x-roster-extends": {"resourceType": "Group", "required": true},
        "attributes": [{"name": "costCenter", "type": "string"}]
    })
}

/// A server over a fresh database with tenant `acme`/directory `main`, loading `schemas` through
/// `ROSTER_SCHEMA_DIR`.
async fn start_with_schemas(backend: Backend, schemas: &SchemaDir) -> TestServer {
    TestServer::start_with_env(backend, &[("ROSTER_SCHEMA_DIR", schemas.path())]).await
}

fn acme_user(user_name: &str, ext: Value) -> Value {
    let mut body = user_body(user_name);
    body["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", ACME]);
    body[ACME] = ext;
    body
}

/// The ids a filter finds, sorted.
async fn found(c: &Client, endpoint: &str, filter: &str) -> Vec<String> {
    let r = c
        .get(&format!("/{endpoint}?filter={}", urlencode(filter)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.body);
    let mut ids: Vec<String> = r.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

both_backends!(
    a_custom_user_extension_works_end_to_end,
    |backend| async move {
        let schemas = SchemaDir::with_files(&[
            ("acme-user.json", acme_user_schema().to_string()),
            ("acme-group.json", acme_group_schema().to_string()),
        ]);
        let server = start_with_schemas(backend, &schemas).await;
        let c = &server.client;

        // Validated and stored: returned as sent, and listed in `schemas`.
        let a = c
            .post(
                "/Users",
                &acme_user(
                    "a@example.com",
                    json!({"badgeNumber": "B-1", "clearanceLevel": 3, "contractor": true,
                       "sites": [{"name": "Oslo", "primary": true}, {"name": "Bergen"}],
                       "reviewedAt": "2026-03-01T09:00:00+01:00"}),
                ),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        assert_eq!(
            a.body[ACME],
            json!({"badgeNumber": "B-1", "clearanceLevel": 3, "contractor": true,
               "sites": [{"name": "Oslo", "primary": true}, {"name": "Bergen"}],
               "reviewedAt": "2026-03-01T09:00:00+01:00"})
        );
        assert!(
            a.body["schemas"].as_array().unwrap().contains(&json!(ACME)),
            "{}",
            a.body
        );
        let fetched = c.get(&format!("/Users/{}", a.id())).await;
        assert_eq!(fetched.body[ACME]["badgeNumber"], json!("B-1"));
        // A URN-qualified top-level key lands in the extension object too.
        let mut b_body = acme_user(
            "b@example.com",
            json!({"badgeNumber": "B-2", "clearanceLevel": 1, "sites": [{"name": "Bergen"}],
                   "reviewedAt": "2026-03-01T08:30:00Z"}),
        );
        b_body[format!("{ACME}:contractor")] = json!(false);
        let b = c.post("/Users", &b_body).await;
        assert_eq!(b.status, StatusCode::CREATED, "{}", b.body);
        assert_eq!(b.body[ACME]["contractor"], json!(false));
        let plain = c.post("/Users", &user_body("plain@example.com")).await;
        assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.body);
        assert!(
            !plain.body["schemas"]
                .as_array()
                .unwrap()
                .contains(&json!(ACME)),
            "{}",
            plain.body
        );
        let (a, b, plain) = (a.id(), b.id(), plain.id());

        // Wrong types are invalidValue, naming the attribute.
        for (ext, attribute) in [
            (json!({"clearanceLevel": "three"}), "clearanceLevel"),
            (json!({"clearanceLevel": 2.5}), "clearanceLevel"),
            (json!({"contractor": "yes"}), "contractor"),
            (json!({"badgeNumber": 7}), "badgeNumber"),
            (json!({"sites": {"name": "Oslo"}}), "sites"),
            (json!({"sites": [{"primary": "yes"}]}), "sites.primary"),
        ] {
            let r = c
                .post("/Users", &acme_user("bad@example.com", ext.clone()))
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{ext}: {}", r.body);
            assert_eq!(r.body["scimType"], json!("invalidValue"), "{ext}");
            let detail = r.body["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(attribute), "{ext}: {detail}");
        }

        // Filterable, with each attribute's type and caseExact.
        let cases: Vec<(String, Vec<String>)> = vec![
            (format!(r#"{ACME}:badgeNumber eq "B-1""#), sorted(&[&a])),
            // badgeNumber is caseExact.
            (format!(r#"{ACME}:badgeNumber eq "b-1""#), vec![]),
            (
                format!(r#"{ACME}:badgeNumber ne "b-1""#),
                sorted(&[&a, &b, &plain]),
            ),
            (format!(r#"{ACME}:badgeNumber gt "B-1""#), sorted(&[&b])),
            (format!(r#"{ACME}:badgeNumber sw "B""#), sorted(&[&a, &b])),
            (format!(r#"{ACME}:badgeNumber sw "b""#), vec![]),
            // dateTimes compare as instants, whatever offset they were sent with.
            (
                format!(r#"{ACME}:reviewedAt eq "2026-03-01T08:00:00Z""#),
                sorted(&[&a]),
            ),
            (
                format!(r#"{ACME}:reviewedAt gt "2026-03-01T09:15:00+01:00""#),
                sorted(&[&b]),
            ),
            (
                format!(r#"{ACME}:reviewedAt le "2026-03-01T08:30:00Z""#),
                sorted(&[&a, &b]),
            ),
            (format!("{ACME}:clearanceLevel gt 2"), sorted(&[&a])),
            (format!("{ACME}:clearanceLevel le 3"), sorted(&[&a, &b])),
            (format!("{ACME}:contractor eq false"), sorted(&[&b])),
            (format!(r#"{ACME}:sites[name eq "Oslo"]"#), sorted(&[&a])),
            (
                format!(r#"{ACME}:sites[name eq "Bergen" and primary eq true]"#),
                vec![],
            ),
            (
                format!(r#"{ACME}:sites.name eq "Bergen""#),
                sorted(&[&a, &b]),
            ),
            (format!("{ACME}:badgeNumber pr"), sorted(&[&a, &b])),
            (format!("not ({ACME}:badgeNumber pr)"), sorted(&[&plain])),
            (
                format!(r#"userName sw "a" and {ACME}:clearanceLevel ge 3"#),
                sorted(&[&a]),
            ),
        ];
        for (filter, want) in &cases {
            assert_eq!(&found(c, "Users", filter).await, want, "{filter}");
        }

        // PATCH with URN-qualified paths; the filters follow.
        let r = c
            .patch(
                &format!("/Users/{b}"),
                &patch_body(json!([
                    {"op": "replace", "path": format!("{ACME}:clearanceLevel"), "value": 5},
                    {"op": "replace", "path": format!(r#"{ACME}:sites[name eq "Bergen"].name"#),
                     "value": "Oslo"}
                ])),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body[ACME]["clearanceLevel"], json!(5));
        assert_eq!(r.body[ACME]["sites"], json!([{"name": "Oslo"}]));
        assert_eq!(
            found(c, "Users", &format!("{ACME}:clearanceLevel gt 2")).await,
            sorted(&[&a, &b])
        );
        assert_eq!(
            found(c, "Users", &format!(r#"{ACME}:sites[name eq "Oslo"]"#)).await,
            sorted(&[&a, &b])
        );
        assert_eq!(
            found(c, "Users", &format!(r#"{ACME}:sites.name eq "Bergen""#)).await,
            sorted(&[&a])
        );
        let r = c
            .patch(
                &format!("/Users/{plain}"),
                &patch_body(json!([
                    {"op": "add", "path": format!("{ACME}:badgeNumber"), "value": "P-9"}
                ])),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body["schemas"].as_array().unwrap().contains(&json!(ACME)),
            "{}",
            r.body
        );
        assert_eq!(
            found(c, "Users", &format!(r#"{ACME}:badgeNumber eq "P-9""#)).await,
            sorted(&[&plain])
        );
        let r = c
            .patch(
                &format!("/Users/{a}"),
                &patch_body(json!([{"op": "remove", "path": ACME}])),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.get(ACME).is_none(), "{}", r.body);
        assert_eq!(
            found(c, "Users", &format!("{ACME}:badgeNumber pr")).await,
            sorted(&[&b, &plain])
        );
        let r = c
            .patch(
                &format!("/Users/{b}"),
                &patch_body(json!([
                    {"op": "replace", "path": format!("{ACME}:contractor"), "value": "no"}
                ])),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.body["scimType"], json!("invalidValue"));

        // Projection by URN-qualified name.
        let r = c
            .get(&format!(
                "/Users/{b}?attributes={}",
                urlencode(&format!("{ACME}:badgeNumber"))
            ))
            .await;
        assert_eq!(r.body[ACME], json!({"badgeNumber": "B-2"}), "{}", r.body);
        assert!(r.body.get("emails").is_none(), "{}", r.body);

        // Sortable by an extension attribute, numerically.
        let r = c
            .get(&format!(
                "/Users?sortBy={}&sortOrder=descending&attributes=id",
                urlencode(&format!("{ACME}:clearanceLevel"))
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let order: Vec<&str> = r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap())
            .collect();
        assert_eq!(order[0], b, "{}", r.body);

        // A required Group extension: refused when absent, filterable when present.
        let r = c.post("/Groups", &group_body("no-cost", &[])).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.body["scimType"], json!("invalidValue"));
        let mut g = group_body("platform", &[]);
        g[ACME_GROUP] = json!({"costCenter": "CC-7"});
        let g = c.post("/Groups", &g).await;
        assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
        assert_eq!(
            found(
                c,
                "Groups",
                &format!(r#"{ACME_GROUP}:costCenter eq "CC-7""#)
            )
            .await,
            vec![g.id()]
        );
        let r = c
            .patch(
                &format!("/Groups/{}", g.id()),
                &patch_body(json!([{"op": "remove", "path": ACME_GROUP}])),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.body["scimType"], json!("invalidValue"));

        // Discovery serves the documents, without the Roster-only member.
        let all = c.get("/Schemas").await;
        assert_eq!(all.body["totalResults"], json!(5));
        let doc = c.get(&format!("/Schemas/{ACME}")).await;
        assert_eq!(doc.status, StatusCode::OK);
        assert_eq!(doc.body["id"], json!(ACME));
        assert_eq!(doc.body["name"], json!("AcmeUser"));
        assert!(doc.body.get("x-roster-extends").is_none(), "{}", doc.body);
        assert_eq!(
            doc.body["meta"]["location"],
            json!(format!("{}/Schemas/{ACME}", c.base))
        );
        let names: Vec<&str> = doc.body["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "badgeNumber",
                "clearanceLevel",
                "contractor",
                "sites",
                "hiredOn",
                "reviewedAt"
            ]
        );
        assert_eq!(
            doc.body["attributes"][3]["subAttributes"][0]["name"],
            json!("name")
        );
        let user_type = c.get("/ResourceTypes/User").await;
        assert_eq!(
            user_type.body["schemaExtensions"],
            json!([
                {"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false},
                {"schema": ACME, "required": false}
            ])
        );
        let group_type = c.get("/ResourceTypes/Group").await;
        assert_eq!(
            group_type.body["schemaExtensions"],
            json!([{"schema": ACME_GROUP, "required": true}])
        );
    }
);

/// Runs `roster serve` expecting it to fail at start; its stderr.
fn serve_fails(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(roster_bin());
    command
        .arg("serve")
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .env("ROSTER_DATABASE_URL", &db.url)
        .env_remove("ROSTER_CONFIG")
        .env_remove("ROSTER_SCHEMA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start roster serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait for roster").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("roster serve {args:?} started despite a broken schema directory");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("roster output");
    assert!(!out.status.success(), "roster serve {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn a_broken_schema_dir_stops_serve_and_nothing_else() {
    let mut bad = acme_user_schema();
    bad["attributes"][3]["subAttributes"][0] =
        json!({"name": "address", "type": "complex", "subAttributes": [{"name": "city"}]});
    let schemas = SchemaDir::with_files(&[
        ("acme-user.json", bad.to_string()),
        ("notes.txt", "not a schema".to_string()),
    ]);
    let db = TestDb::new(Backend::Sqlite);

    // By flag, and by the config file; the message names the file and the problem.
    let config = schemas.0.join("roster.toml");
    std::fs::write(
        &config,
        format!("schema_dir = {}", Value::String(schemas.path().to_string())),
    )
    .unwrap();
    for args in [
        vec!["--schema-dir", schemas.path()],
        vec!["--config", config.to_str().unwrap()],
    ] {
        let stderr = serve_fails(&db, &args, &[]);
        assert!(stderr.contains("acme-user.json"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("'sites.address' is complex inside a complex attribute"),
            "{args:?}: {stderr}"
        );
    }
    // Refused before the database is touched.
    let file = db.url.strip_prefix("sqlite://").unwrap();
    assert!(!Path::new(file).exists(), "serve created {file}");

    let missing = schemas.0.join("nope");
    let stderr = serve_fails(
        &db,
        &[],
        &[("ROSTER_SCHEMA_DIR", missing.to_str().unwrap())],
    );
    assert!(
        stderr.contains("cannot read schema directory") && stderr.contains("nope"),
        "{stderr}"
    );

    // Migrations and administration never load schemas.
    for args in [vec!["--json", "migrate"], vec!["--json", "tenant", "list"]] {
        let out = Command::new(roster_bin())
            .args(&args)
            .env("ROSTER_DATABASE_URL", &db.url)
            .env("ROSTER_SCHEMA_DIR", schemas.path())
            .env("ROSTER_CONFIG", &config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

both_backends!(
    put_keeps_and_enforces_immutable_attributes,
    |backend| async move {
        let schemas = SchemaDir::with_files(&[("acme-user.json", acme_user_schema().to_string())]);
        let server = start_with_schemas(backend, &schemas).await;
        let c = &server.client;
        let id = c
            .post(
                "/Users",
                &acme_user("imm@example.com", json!({"badgeNumber": "B-9"})),
            )
            .await
            .id();
        let path = format!("/Users/{id}");

        let set = c
            .put(
                &path,
                &acme_user("imm@example.com", json!({"hiredOn": "2020-01-01"})),
            )
            .await;
        assert_eq!(
            set.status,
            StatusCode::OK,
            "unset: may be set once: {}",
            set.body
        );

        let changed = c
            .put(
                &path,
                &acme_user("imm@example.com", json!({"hiredOn": "2021-06-01"})),
            )
            .await;
        assert_eq!(changed.status, StatusCode::BAD_REQUEST);
        assert_eq!(changed.body["scimType"], json!("mutability"));
        assert!(
            changed.body["detail"].as_str().unwrap().contains("hiredOn"),
            "{}",
            changed.body
        );

        let same = c
            .put(
                &path,
                &acme_user(
                    "imm@example.com",
                    json!({"hiredOn": "2020-01-01", "badgeNumber": "B-10"}),
                ),
            )
            .await;
        assert_eq!(same.status, StatusCode::OK, "{}", same.body);

        let omitted = c.put(&path, &user_body("imm@example.com")).await;
        assert_eq!(omitted.status, StatusCode::OK, "{}", omitted.body);
        assert_eq!(
            omitted.body[ACME]["hiredOn"],
            json!("2020-01-01"),
            "kept: {}",
            omitted.body
        );
        assert_eq!(
            omitted.body[ACME].get("badgeNumber"),
            None,
            "the rest is replaced"
        );
        assert!(
            omitted.body["schemas"]
                .as_array()
                .unwrap()
                .contains(&json!(ACME)),
            "{}",
            omitted.body
        );

        let patched = c
            .patch(
                &path,
                &patch_body(json!([{"op": "replace", "path": format!("{ACME}:hiredOn"), "value": "1999-01-01"}])),
            )
            .await;
        assert_eq!(patched.status, StatusCode::BAD_REQUEST);
        assert_eq!(patched.body["scimType"], json!("mutability"));
        assert_eq!(
            c.get(&path).await.body[ACME]["hiredOn"],
            json!("2020-01-01"),
            "nothing stored changed"
        );
    }
);

const VAULT: &str = "urn:example:vault:2.0:User";
const VAULT_GROUP: &str = "urn:example:vault:2.0:Group";

both_backends!(
    schema_secrets_reach_neither_raw_nor_responses_nor_the_log,
    |backend| async move {
        // Secrets by schema only: none of these names sounds like one.
        let schemas = SchemaDir::with_files(&[
            (
                "vault.json",
                json!({
                    "id": VAULT,
                    "x-roster-extends": {"resourceType": "User"},
                    "attributes": [
                        {"name": "badgeNumber"},
                        {"name": "badgeCode", "mutability": "writeOnly", "returned": "never"},
                        {"name": "recoveryHint", "returned": "never"},
                        {"name": "sites", "type": "complex", "multiValued": true,
                         "subAttributes": [
                            {"name": "name"},
                            {"name": "doorCode", "mutability": "writeOnly"}
                        ]}
                    ]
                })
                .to_string(),
            ),
            (
                "vault-group.json",
                json!({
                    "id": VAULT_GROUP,
                    "x-roster-extends": {"resourceType": "Group"},
                    "attributes": [{"name": "escrowPhrase", "mutability": "writeOnly"}]
                })
                .to_string(),
            ),
        ]);
        let server = start_with_schemas(backend, &schemas).await;
        let c = &server.client;
        let mut body = user_body("vault@example.com");
        body["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", VAULT]);
        body["password"] = json!("Zq-password-1");
        body[VAULT] = json!({"badgeNumber": "B-17",
            "recoveryHint": "Zq-hint-1", "sites": [{"name": "Oslo", "doorCode": "Zq-door-1"}]});
        body[format!("{VAULT}:badgeCode")] = json!("Zq-code-1");
        let created = c.post("/Users", &body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let path = format!("/Users/{}", created.id());
        let patched = c
            .patch(
                &path,
                &patch_body(json!([
                    {"op": "replace", "path": format!("{VAULT}:badgeCode"), "value": "Zq-code-3"},
                    {"op": "add", "path": format!("{VAULT}:sites[name eq \"Oslo\"].doorCode"),
                     "value": "Zq-door-2"},
                    {"op": "replace", "value": {VAULT: {"recoveryHint": "Zq-hint-2"}}}
                ])),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        let mut group = group_body("vaulted", &[]);
        group["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:Group", VAULT_GROUP]);
        group[VAULT_GROUP] = json!({"escrowPhrase": "Zq-escrow-1"});
        let created_group = c.post("/Groups", &group).await;
        assert_eq!(created_group.status, StatusCode::CREATED);
        let bulk = c
            .post(
                "/Bulk",
                &json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                    "Operations": [{"method": "PATCH", "path": path,
                        "data": patch_body(json!([
                            {"op": "replace", "path": format!("{VAULT}:badgeCode"),
                             "value": "Zq-code-4"}]))}]
                }),
            )
            .await;
        assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.body);

        let mut responses = vec![created.body, patched.body, created_group.body];
        let all = format!("badgeCode,recoveryHint,sites.doorCode,{VAULT}");
        for query in [String::new(), format!("?attributes={all}")] {
            let got = c.get(&format!("{path}{query}")).await;
            assert_eq!(
                got.body[VAULT]["badgeNumber"],
                json!("B-17"),
                "{}",
                got.body
            );
            responses.push(got.body);
        }
        let shown = responses.iter().map(Value::to_string).collect::<String>();
        assert!(!shown.contains("Zq-"), "a secret was returned: {shown}");

        let mut logged = String::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let listed = cli_json(&server.db, &["log", "list", "--directory", "main"]);
            let entries = listed["entries"].as_array().cloned().unwrap_or_default();
            if entries.len() >= 6 || Instant::now() > deadline {
                assert_eq!(entries.len(), 6, "{listed}");
                for e in entries {
                    let id = e["id"].to_string();
                    logged.push_str(&cli_json(&server.db, &["log", "show", &id]).to_string());
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(logged.contains("B-17"), "{logged}");
        assert!(
            !logged.contains("Zq-"),
            "a secret reached the log: {logged}"
        );

        let db = server.stop();
        let store = roster::store::Store::open(&db.url).unwrap();
        let mut conn = store.conn().unwrap();
        use diesel::prelude::*;
        use roster::store::schema::directory_groups::dsl as g;
        use roster::store::schema::directory_users::dsl as u;
        let user_raw: String = u::directory_users.select(u::raw).first(&mut *conn).unwrap();
        let group_raw: String = g::directory_groups
            .select(g::raw)
            .first(&mut *conn)
            .unwrap();
        let raw: Value = serde_json::from_str(&user_raw).unwrap();
        assert_eq!(
            raw[VAULT],
            json!({"badgeNumber": "B-17", "sites": [{"name": "Oslo"}]}),
            "{user_raw}"
        );
        assert!(!user_raw.contains("Zq-"), "{user_raw}");
        assert!(!group_raw.contains("Zq-"), "{group_raw}");
    }
);
