//! `GET /api/v1/openapi.json`: the document is valid OpenAPI 3.1 (against the OpenAPI
//! Initiative's JSON Schema of 3.1, `$id` .../oas/3.1/schema/2022-10-07, Apache-2.0, vendored
//! in `tests/fixtures/openapi-3.1-schema.json` as openapi-spec-validator ships it so that the
//! test needs no network), documents exactly the routes
//! `api::routes` registers, and real answers on both backends match its response schemas,
//! read strictly: a field the server sends that the schema does not name fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::receiver::Receiver;
use crate::support::*;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The files that register `/api/v1` routes, with the prefix their paths are under.
const REGISTRATIONS: [(&str, &str); 2] = [("mod.rs", "/api/v1"), ("admin/mod.rs", "/api/v1/admin")];

/// Every (method, path) the registration code serves: each `resource("PATH")` and the
/// `web::METHOD()` routes that follow it, up to the next resource.
fn registered() -> BTreeSet<(String, String)> {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut found = BTreeSet::new();
    for (file, prefix) in REGISTRATIONS {
        let text = std::fs::read_to_string(api.join(file)).expect("read the registration");
        // A path given to `route` directly would be read as a method of the resource before.
        assert!(
            !text.contains(".route(\""),
            "{file}: register each path as a resource(\"...\") so this scan reads it"
        );
        let mut marks: Vec<(usize, Option<String>)> = text
            .match_indices("resource(\"")
            .map(|(at, m)| {
                let rest = &text[at + m.len()..];
                (at, Some(rest[..rest.find('"').unwrap()].to_string()))
            })
            .collect();
        for method in METHODS {
            let route = format!("web::{method}()");
            marks.extend(
                text.match_indices(&route)
                    .map(|(at, _)| (at, Some(format!("#{method}")))),
            );
        }
        marks.sort();
        let mut current: Option<String> = None;
        for (_, mark) in marks {
            let mark = mark.unwrap();
            match mark.strip_prefix('#') {
                Some(method) => {
                    let path = current.as_ref().expect("a route after its resource");
                    found.insert((method.to_string(), format!("{prefix}{path}")));
                }
                None => current = Some(mark),
            }
        }
    }
    // A route registered anywhere else would escape the comparison.
    for entry in walk(&api) {
        let relative = entry
            .strip_prefix(&api)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if REGISTRATIONS.iter().any(|(f, _)| *f == relative) {
            continue;
        }
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(
            !text.contains("web::resource(") && !text.contains("web::scope("),
            "{relative} registers routes: add it to REGISTRATIONS in tests/it/openapi.rs"
        );
    }
    found
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                found.insert((method.to_string(), path.clone()));
            }
        }
    }
    found
}

#[test]
fn every_registered_route_is_documented_and_no_other() {
    let doc = serde_json::to_value(roster::api::openapi::document()).unwrap();
    let (served, described) = (registered(), documented(&doc));
    assert!(served.len() > 40, "the registration scan found {served:?}");
    let missing: Vec<_> = served.difference(&described).collect();
    let extra: Vec<_> = described.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes without #[utoipa::path] in the document (see api::routes, 'Adding a route'): \
         {missing:?}"
    );
    assert!(extra.is_empty(), "documented but not registered: {extra:?}");
}

/// The document's schemas, with every `allOf` (serde `flatten`) merged into one object and
/// every object closed to properties it does not name.
fn strict_components(doc: &Value) -> Value {
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut strict = serde_json::Map::new();
    for name in schemas.keys() {
        let mut merged = merged(schemas, &schemas[name]);
        close(&mut merged);
        strict.insert(name.clone(), merged);
    }
    json!({"schemas": strict})
}

fn merged(schemas: &serde_json::Map<String, Value>, schema: &Value) -> Value {
    let Some(parts) = schema.get("allOf").and_then(Value::as_array) else {
        return schema.clone();
    };
    let mut out = json!({"type": "object", "properties": {}, "required": []});
    for part in parts {
        let part = match part.get("$ref").and_then(Value::as_str) {
            Some(r) => merged(
                schemas,
                &schemas[r.trim_start_matches("#/components/schemas/")],
            ),
            None => part.clone(),
        };
        for (k, v) in part["properties"].as_object().expect("an object in allOf") {
            out["properties"][k] = v.clone();
        }
        if let Some(required) = part["required"].as_array() {
            out["required"]
                .as_array_mut()
                .unwrap()
                .extend(required.clone());
        }
    }
    out
}

fn close(schema: &mut Value) {
    if let Value::Object(map) = schema {
        if map.contains_key("properties") {
            map.entry("additionalProperties").or_insert(json!(false));
        }
        map.values_mut().for_each(close);
    } else if let Value::Array(items) = schema {
        items.iter_mut().for_each(close);
    }
}

/// Checks one answer against the schema the document gives for its route, status and media
/// type.
struct Checker {
    doc: Value,
    components: Value,
}

impl Checker {
    fn schema(&self, template: &str, method: &Method, status: StatusCode, media: &str) -> Value {
        let op = &self.doc["paths"][template][method.as_str().to_lowercase()];
        assert!(op.is_object(), "{method} {template} is not documented");
        let mut response = &op["responses"][status.as_str()];
        assert!(
            response.is_object(),
            "{method} {template} answered {status}, which the document does not list"
        );
        if let Some(r) = response["$ref"].as_str() {
            let name = r.trim_start_matches("#/components/responses/");
            response = &self.doc["components"]["responses"][name];
        }
        let schema = &response["content"][media]["schema"];
        assert!(
            schema.is_object(),
            "{method} {template} {status} has no {media} schema"
        );
        let mut root = schema.clone();
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        root["components"] = self.components.clone();
        root
    }

    fn check(&self, template: &str, method: &Method, r: &Response) {
        if r.status == StatusCode::NO_CONTENT {
            let op = &self.doc["paths"][template][method.as_str().to_lowercase()];
            assert!(
                op["responses"]["204"].is_object(),
                "{method} {template}: 204"
            );
            return;
        }
        let ndjson = r.header("content-type") == Some("application/x-ndjson");
        let media = if ndjson {
            "application/x-ndjson"
        } else {
            "application/json"
        };
        let schema = self.schema(template, method, r.status, media);
        let validator = jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("{method} {template}: the schema does not compile: {e}"));
        let instances: Vec<Value> = if ndjson {
            let text = r.body.as_str().expect("NDJSON text");
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        } else {
            vec![r.body.clone()]
        };
        if let Some(Value::Object(first)) = instances.first() {
            let mut unnamed = first.clone();
            unnamed.insert("unnamed_field".into(), json!(1));
            assert!(
                !validator.is_valid(&Value::Object(unnamed)),
                "{method} {template}: the strict schema takes a field it does not name"
            );
        }
        for instance in &instances {
            let errors: Vec<String> = validator
                .iter_errors(instance)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{method} {template} {}: the answer does not match the document: {errors:#?}\n{instance:#}",
                r.status
            );
        }
    }
}

/// Which key a case sends.
#[derive(Clone, Copy)]
enum Key {
    App,
    Admin,
}

/// One request of the table: the key it sends, its method, its route as documented under
/// `/api/v1`, the path it asks for, its body, and the status it must answer.
type Case = (Key, &'static str, &'static str, String, Option<Value>, u16);

const LOCAL: [(&str, &str); 2] = [
    ("ROSTER_ALLOW_HTTP_WEBHOOKS", "1"),
    ("ROSTER_ALLOW_PRIVATE_WEBHOOK_TARGETS", "1"),
];

/// The document as a client fetches it: no key.
async fn fetch(server: &TestServer) -> Value {
    let r = reqwest::get(format!("{}/api/v1/openapi.json", server.origin()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "served without a key");
    let media = r.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(media, "application/json");
    r.json().await.unwrap()
}

/// Valid OpenAPI 3.1, each schema valid JSON Schema with its references resolved, unique
/// operation ids, and each route's security as `auth.rs` decides it.
fn check_document(doc: &Value, components: &Value) {
    let meta: Value = serde_json::from_str(include_str!("../fixtures/openapi-3.1-schema.json"))
        .expect("the vendored OpenAPI 3.1 schema");
    let oas = jsonschema::validator_for(&meta).expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = oas.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "not valid OpenAPI 3.1: {errors:#?}");
    assert_eq!(doc["openapi"], json!("3.1.0"));
    assert_eq!(doc["info"]["version"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(doc["servers"], json!([{"url": "/"}]));
    // The OpenAPI schema leaves Schema Objects unchecked.
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        jsonschema::meta::validate(schema)
            .unwrap_or_else(|e| panic!("schema {name} is not valid JSON Schema: {e}"));
    }
    let mut ids = BTreeMap::new();
    for (path, method, op) in operations(doc) {
        let id = op["operationId"].as_str().expect("an operationId");
        let again = ids.insert(id.to_string(), format!("{method} {path}"));
        assert!(
            again.is_none(),
            "operationId {id} twice: {again:?}, {method} {path}"
        );
        let want = match path {
            "/api/v1/openapi.json" => Value::Null,
            p if p.starts_with("/api/v1/admin/") => json!([{"admin_key": []}]),
            _ => json!([{"app_key": []}]),
        };
        assert_eq!(op["security"], want, "{method} {path}");
        let bodies = op["responses"].as_object().unwrap().values();
        let contents = bodies
            .chain([&op["requestBody"]])
            .filter_map(|r| r["content"].as_object())
            .flat_map(|c| c.values());
        for content in contents {
            let mut root = content["schema"].clone();
            root["components"] = components.clone();
            jsonschema::validator_for(&root)
                .unwrap_or_else(|e| panic!("{method} {path}: a schema does not compile: {e}"));
        }
    }
}

fn operations(doc: &Value) -> Vec<(&str, &str, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            all.push((path.as_str(), method.as_str(), op));
        }
    }
    all
}

/// Each documented operation is served, and without a key asks for one (the document itself
/// answers).
async fn probe(server: &TestServer, doc: &Value) {
    let open = server.api("");
    for (path, method, _) in operations(doc) {
        let concrete = path.replace("{entry_id}", "1").replace(['{', '}'], "");
        let relative = concrete.strip_prefix("/api/v1").unwrap();
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = open.send(method.clone(), relative, None).await;
        let expected = if path == "/api/v1/openapi.json" {
            200
        } else {
            401
        };
        assert_eq!(r.status.as_u16(), expected, "{method} {path}: {}", r.body);
    }
}

/// The ids a table of requests needs: a user in a group (then updated), an application key
/// and a webhook endpoint of tenant `acme`, a SCIM token and a request log entry.
struct Seeded {
    admin: Api,
    app: Api,
    tenant: String,
    directory: String,
    user: String,
    group: String,
    token: String,
    hook: String,
    request: Value,
}

async fn seed(server: &TestServer, receiver: &Receiver) -> Seeded {
    let admin_key = cli_json(&server.db, &["admin-key", "issue"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = server.api(&admin_key);
    let text = |v: &Value| v.as_str().expect("an id").to_string();
    let tenant = text(&admin.get("/admin/tenants").await.body["data"][0]["id"]);
    let scim = &server.client;
    let user = scim
        .post("/Users", &user_body("pat@example.com"))
        .await
        .id();
    let members = group_body("Engineering", &[&user]);
    let group = scim.post("/Groups", &members).await.id();
    let title = json!([{"op": "replace", "path": "title", "value": "Engineer"}]);
    let changed = scim
        .patch(&format!("/Users/{user}"), &patch_body(title))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let new_key = json!({"tenant_id": tenant});
    let key = admin
        .send(Method::POST, "/admin/app-keys", Some(&new_key))
        .await;
    let app = server.api(key.body["key"].as_str().unwrap());
    let directory = text(&app.get("/directories").await.body["data"][0]["id"]);
    let url = json!({"url": receiver.url()});
    let hook = text(&app.send(Method::POST, "/webhooks", Some(&url)).await.body["id"]);
    let tokens = admin
        .get(&format!("/admin/directories/{directory}/tokens"))
        .await;
    let token = text(&tokens.body["data"][0]["id"]);
    // The request log is written behind the answers; wait for the first entry.
    let mut request = Value::Null;
    for _ in 0..50 {
        let r = admin
            .get(&format!("/admin/directories/{directory}/requests"))
            .await;
        request = r.body["data"][0]["id"].clone();
        if !request.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(request.is_number(), "no request log entry");
    Seeded {
        admin,
        app,
        tenant,
        directory,
        user,
        group,
        token,
        hook,
        request,
    }
}

both_backends!(
    document_is_valid_and_answers_match_it,
    |backend| async move {
        let server = TestServer::start_with_env(backend, &LOCAL).await;
        let doc = fetch(&server).await;
        let checker = Checker {
            components: strict_components(&doc),
            doc,
        };
        check_document(&checker.doc, &checker.components);
        probe(&server, &checker.doc).await;

        let receiver = Receiver::start();
        let s = seed(&server, &receiver).await;
        let (d, u, g, t, w, r) = (
            &s.directory,
            &s.user,
            &s.group,
            &s.token,
            &s.hook,
            &s.request,
        );
        let tenant = &s.tenant;
        use Key::{Admin, App};
        let (get, post, patch, delete) = ("GET", "POST", "PATCH", "DELETE");
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            (App, get, "/events", "/events?limit=100".into(), None, 200),
            (App, get, "/events", "/events?limit=5000".into(), None, 400),
            (App, get, "/events", "/events?after=nope".into(), None, 400),
            (App, get, "/directories", "/directories".into(), None, 200),
            (App, get, "/directories/{id}", format!("/directories/{d}"), None, 200),
            (App, get, "/directories/{id}", "/directories/nope".into(), None, 404),
            (App, get, "/directories/{id}/users", format!("/directories/{d}/users?group={g}"), None, 200),
            (App, get, "/directories/{id}/users", format!("/directories/{d}/users?stat=active"), None, 400),
            (App, get, "/directories/{id}/groups", format!("/directories/{d}/groups"), None, 200),
            (App, get, "/directories/{id}/snapshot", format!("/directories/{d}/snapshot"), None, 200),
            (App, get, "/users", "/users?email=pat%40example.com".into(), None, 200),
            (App, get, "/users/{id}", format!("/users/{u}"), None, 200),
            (App, get, "/users/{id}", "/users/nope".into(), None, 404),
            (App, get, "/users/{id}/groups", format!("/users/{u}/groups"), None, 200),
            (App, get, "/groups/{id}", format!("/groups/{g}"), None, 200),
            (App, get, "/groups/{id}/users", format!("/groups/{g}/users"), None, 200),
            (App, get, "/webhooks", "/webhooks".into(), None, 200),
            (App, get, "/webhooks/{id}", format!("/webhooks/{w}"), None, 200),
            (App, patch, "/webhooks/{id}", format!("/webhooks/{w}"), Some(json!({"types": ["user.created"]})), 200),
            (App, post, "/webhooks", "/webhooks".into(), Some(json!({"url": "ftp://example.com"})), 400),
            (App, post, "/webhooks/{id}/test", format!("/webhooks/{w}/test"), None, 200),
            (App, post, "/webhooks/{id}/replay", format!("/webhooks/{w}/replay"), Some(json!({"from": "0"})), 200),
            (App, get, "/webhooks/{id}/deliveries", format!("/webhooks/{w}/deliveries"), None, 200),
            (App, post, "/webhooks/{id}/rotate-secret", format!("/webhooks/{w}/rotate-secret"), None, 200),
            (Admin, get, "/admin/webhooks", "/admin/webhooks".into(), None, 200),
            (App, delete, "/webhooks/{id}", format!("/webhooks/{w}"), None, 204),
            (Admin, get, "/admin/tenants", "/admin/tenants".into(), None, 200),
            (Admin, post, "/admin/tenants", "/admin/tenants".into(), Some(json!({"name": "globex"})), 201),
            (Admin, post, "/admin/tenants", "/admin/tenants".into(), Some(json!({"name": "acme"})), 409),
            (Admin, get, "/admin/tenants/{id}", format!("/admin/tenants/{tenant}"), None, 200),
            (Admin, get, "/admin/directories", "/admin/directories".into(), None, 200),
            (Admin, post, "/admin/directories", "/admin/directories".into(), Some(json!({"tenant_id": tenant, "name": "okta-main", "kind": "okta"})), 201),
            (Admin, post, "/admin/directories", "/admin/directories".into(), Some(json!({"tenant_id": tenant, "name": "okta-main", "kind": "okta"})), 409),
            (Admin, post, "/admin/directories", "/admin/directories".into(), Some(json!({"tenant_id": tenant, "name": "x", "kind": "nope"})), 400),
            (Admin, get, "/admin/directories/{id}", format!("/admin/directories/{d}"), None, 200),
            (Admin, patch, "/admin/directories/{id}", format!("/admin/directories/{d}"), Some(json!({"deprovisioning": {"retention": "7d"}})), 200),
            (Admin, post, "/admin/directories/{id}/disable", format!("/admin/directories/{d}/disable"), None, 200),
            (Admin, post, "/admin/directories/{id}/enable", format!("/admin/directories/{d}/enable"), None, 200),
            (Admin, get, "/admin/directories/{id}/tokens", format!("/admin/directories/{d}/tokens"), None, 200),
            (Admin, post, "/admin/directories/{id}/tokens", format!("/admin/directories/{d}/tokens"), None, 201),
            (Admin, get, "/admin/directories/{id}/tokens/{token_id}", format!("/admin/directories/{d}/tokens/{t}"), None, 200),
            (Admin, get, "/admin/tokens/{id}", format!("/admin/tokens/{t}"), None, 200),
            (Admin, post, "/admin/tokens/{id}/rotate", format!("/admin/tokens/{t}/rotate"), Some(json!({"overlap": "1h"})), 201),
            (Admin, get, "/admin/directories/{id}/requests", format!("/admin/directories/{d}/requests"), None, 200),
            (Admin, get, "/admin/directories/{id}/requests/{entry_id}", format!("/admin/directories/{d}/requests/{r}"), None, 200),
            (Admin, get, "/admin/app-keys", "/admin/app-keys".into(), None, 200),
            (Admin, delete, "/admin/tokens/{id}", format!("/admin/tokens/{t}"), None, 204),
            (Admin, delete, "/admin/tokens/{id}", format!("/admin/tokens/{t}"), None, 404),
            (App, get, "/admin/tenants", "/admin/tenants".into(), None, 401),
            (Admin, get, "/events", "/events".into(), None, 401),
        ];
        for (key, method, route, path, body, status) in cases {
            let api = match key {
                App => &s.app,
                Admin => &s.admin,
            };
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let r = api.send(method.clone(), &path, body.as_ref()).await;
            assert_eq!(r.status.as_u16(), status, "{method} {path}: {}", r.body);
            checker.check(&format!("/api/v1{route}"), &method, &r);
        }

        // Last, as the cases above use `directory`: a deletion answers 202.
        let new = json!({"tenant_id": tenant, "name": "doomed", "kind": "generic"});
        let doomed = s
            .admin
            .send(Method::POST, "/admin/directories", Some(&new))
            .await;
        let path = format!("/admin/directories/{}", doomed.body["id"].as_str().unwrap());
        let r = s.admin.send(Method::DELETE, &path, None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        checker.check("/api/v1/admin/directories/{id}", &Method::DELETE, &r);
    }
);
