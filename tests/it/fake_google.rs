//! A fake of the Google endpoints the puller uses, speaking their wire format: the OAuth token
//! endpoint (checks the service-account JWT's RS256 signature and claims), the Directory API
//! lists with paging, `users.get`, `users.watch`, `channels.stop`, and injectable faults.
//! Used in-process by the integration tests and, through `examples/fake_google.rs`, by the
//! benchmark.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

/// Test-only RSA key pair (tests/fixtures/google-test-key*.pem); never a real credential.
pub const TEST_PRIVATE_KEY: &str = include_str!("../fixtures/google-test-key.pem");
pub const TEST_PUBLIC_KEY: &str = include_str!("../fixtures/google-test-key.pub.pem");
pub const CLIENT_EMAIL: &str = "roster-sync@test-project.iam.gserviceaccount.com";
pub const ADMIN: &str = "admin@example.com";
pub const CUSTOMER: &str = "C01234567";
const SCOPES: [&str; 3] = [
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
];

/// A fault to answer instead of the real response.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Requests whose path starts with this (after the host) are affected.
    pub path: String,
    /// Only this page of a list (1-based), or any request when `None`.
    pub page: Option<usize>,
    pub status: u16,
    pub reason: String,
    /// How many matching requests fail before the fault is spent.
    pub times: usize,
}

#[derive(Default)]
pub struct State {
    pub users: BTreeMap<String, Value>,
    pub groups: BTreeMap<String, Value>,
    /// Group id → its members as Google lists them.
    pub members: HashMap<String, Vec<Value>>,
    pub faults: Vec<Fault>,
    /// Whether the admin has granted domain-wide delegation to the service account.
    pub delegated: bool,
    /// Path prefixes answering 403 "Not Authorized" (a scope not delegated).
    pub forbidden: Vec<String>,
    tokens: HashSet<String>,
    /// Every request as "METHOD path?query", in order.
    pub requests: Vec<String>,
    pub token_requests: usize,
    /// Bodies of users.watch and channels.stop calls.
    pub watches: Vec<Value>,
    pub stops: Vec<Value>,
    pub token_url: String,
    /// Extra latency per Directory API request.
    pub delay: Duration,
    /// Directory API listings (users, groups, members) being answered now, and the most
    /// there ever were at once: two syncs of one directory overlapping show up as 2.
    listing_now: usize,
    pub listings_at_once: usize,
}

#[derive(Clone)]
pub struct FakeGoogle {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

fn envelope(status: u16, reason: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(json!({
        "error": {
            "code": status,
            "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}]
        }
    }))
}

fn query(req: &HttpRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

impl FakeGoogle {
    /// Starts the fake on 127.0.0.1 (port 0 picks a free one) in a thread of its own.
    pub fn start() -> FakeGoogle {
        Self::start_on("127.0.0.1:0")
    }

    pub fn start_on(addr: &str) -> FakeGoogle {
        let listener = TcpListener::bind(addr).expect("bind fake Google");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            delegated: true,
            token_url: format!("{url}/token"),
            ..State::default()
        }));
        let shared = web::Data::new(state.clone());
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || {
                    App::new()
                        .app_data(shared.clone())
                        .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                        .default_service(web::to(handle))
                })
                .workers(2)
                // A process signal belongs to whoever runs the fake: as a benchmark process it
                // must die on SIGTERM, not drain and leave its parked main thread running.
                .disable_signals()
                .listen(listener)
                .expect("listen")
                .run()
                .await
            })
        });
        FakeGoogle { url, state }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Writes a service-account key file in Google's JSON format whose `token_uri` is the fake.
    pub fn key_file(&self, dir: &Path) -> PathBuf {
        let path = dir.join("service-account.json");
        let key = json!({
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": "0123456789abcdef",
            "private_key": TEST_PRIVATE_KEY,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": format!("{}/token", self.url),
        });
        std::fs::write(&path, key.to_string()).unwrap();
        path
    }

    pub fn put_user(&self, user: Value) {
        let id = user["id"].as_str().unwrap().to_string();
        self.with(|s| s.users.insert(id, user));
    }

    pub fn put_group(&self, group: Value, members: Vec<Value>) {
        let id = group["id"].as_str().unwrap().to_string();
        self.with(|s| {
            s.groups.insert(id.clone(), group);
            s.members.insert(id, members);
        });
    }

    pub fn fail(&self, path: &str, page: Option<usize>, status: u16, reason: &str, times: usize) {
        self.with(|s| {
            s.faults.push(Fault {
                path: path.to_string(),
                page,
                status,
                reason: reason.to_string(),
                times,
            })
        });
    }

    /// `n` users `u{i}@example.com` and `g` groups, user i in group i mod g.
    pub fn populate(&self, n: usize, g: usize) {
        self.with(|s| {
            let mut members: Vec<Vec<Value>> = vec![Vec::new(); g];
            for i in 0..n {
                let id = format!("{:09}", i + 1);
                let u = user(&id, &format!("u{i}@example.com"), "User", &format!("N{i}"));
                s.users.insert(id.clone(), u);
                if g > 0 {
                    members[i % g].push(member(&id, "USER"));
                }
            }
            for (j, list) in members.into_iter().enumerate() {
                let id = format!("g{j:06}");
                let email = format!("group{j}@example.com");
                s.groups
                    .insert(id.clone(), group(&id, &email, &format!("Group {j}")));
                s.members.insert(id, list);
            }
        });
    }
}

/// A Google `User` as users.list returns it.
pub fn user(id: &str, email: &str, given: &str, family: &str) -> Value {
    json!({
        "kind": "admin#directory#user",
        "id": id,
        "etag": format!("\"etag-{id}\""),
        "primaryEmail": email,
        "name": {"givenName": given, "familyName": family, "fullName": format!("{given} {family}")},
        "isAdmin": false,
        "suspended": false,
        "archived": false,
        "orgUnitPath": "/",
        "customerId": CUSTOMER,
        "creationTime": "2026-01-01T00:00:00.000Z",
        "lastLoginTime": "2026-01-02T00:00:00.000Z",
        "emails": [{"address": email, "primary": true}],
    })
}

pub fn group(id: &str, email: &str, name: &str) -> Value {
    json!({
        "kind": "admin#directory#group",
        "id": id,
        "etag": format!("\"etag-{id}\""),
        "email": email,
        "name": name,
        "description": "",
        "directMembersCount": "0",
        "adminCreated": true,
    })
}

/// A `Member`: `kind` is USER, GROUP or CUSTOMER.
pub fn member(id: &str, kind: &str) -> Value {
    json!({"kind": "admin#directory#member", "id": id, "role": "MEMBER", "type": kind, "status": "ACTIVE"})
}

fn fault(s: &mut State, path: &str, page: usize) -> Option<HttpResponse> {
    let f = s
        .faults
        .iter_mut()
        .find(|f| f.times > 0 && path.starts_with(&f.path) && f.page.is_none_or(|p| p == page))?;
    f.times -= 1;
    let (status, reason) = (f.status, f.reason.clone());
    let mut resp = envelope(status, &reason, "injected fault");
    if status == 429 {
        resp.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from_static("0"),
        );
    }
    Some(resp)
}

/// One page of `items` from `pageToken` (an offset), at most `maxResults` (≤ `cap`). Only the
/// page is cloned, so listing a large directory stays linear.
fn page<'a>(
    items: impl Iterator<Item = &'a Value>,
    q: &HashMap<String, String>,
    cap: usize,
    kind: &str,
    field: &str,
) -> Result<Value, Box<HttpResponse>> {
    let max: usize = q
        .get("maxResults")
        .map(|m| m.parse().unwrap_or(0))
        .unwrap_or(100);
    if max == 0 || max > cap {
        return Err(Box::new(envelope(
            400,
            "invalid",
            "Invalid value for maxResults",
        )));
    }
    let start: usize = q
        .get("pageToken")
        .map(|t| t.parse().unwrap_or(0))
        .unwrap_or(0);
    let mut rest = items.skip(start);
    let chunk: Vec<Value> = rest.by_ref().take(max).cloned().collect();
    let mut body = json!({"kind": kind, "etag": "\"list\""});
    let end = start + chunk.len();
    body[field] = Value::Array(chunk);
    if rest.next().is_some() {
        body["nextPageToken"] = json!(end.to_string());
    }
    Ok(body)
}

fn page_number(q: &HashMap<String, String>) -> usize {
    let max: usize = q
        .get("maxResults")
        .and_then(|m| m.parse().ok())
        .unwrap_or(100)
        .max(1);
    let start: usize = q.get("pageToken").and_then(|t| t.parse().ok()).unwrap_or(0);
    start / max + 1
}

fn token(s: &mut State, body: &[u8]) -> HttpResponse {
    s.token_requests += 1;
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return HttpResponse::BadRequest().json(json!({"error": "unsupported_grant_type"}));
    }
    let Some(assertion) = form.get("assertion") else {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_request"}));
    };
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[s.token_url.as_str()]);
    v.set_issuer(&[CLIENT_EMAIL]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let key = DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes()).unwrap();
    let claims = match jsonwebtoken::decode::<Value>(assertion, &key, &v) {
        Ok(d) => d.claims,
        Err(e) => {
            return HttpResponse::BadRequest().json(
                json!({"error": "invalid_grant", "error_description": format!("Invalid JWT: {e}")}),
            );
        }
    };
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    if lifetime > 3600 || lifetime <= 0 {
        return HttpResponse::BadRequest().json(
            json!({"error": "invalid_grant", "error_description": "Invalid JWT: exp too far"}),
        );
    }
    let scopes: HashSet<&str> = claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .collect();
    let all_scopes = SCOPES.iter().all(|sc| scopes.contains(sc));
    if claims["sub"] != json!(ADMIN) || !s.delegated || !all_scopes {
        return HttpResponse::Unauthorized().json(json!({
            "error": "unauthorized_client",
            "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."
        }));
    }
    let token = format!("ya29.fake-{}", uuid::Uuid::new_v4().simple());
    s.tokens.insert(token.clone());
    HttpResponse::Ok()
        .json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}))
}

fn in_scope(q: &HashMap<String, String>, email: &str) -> Result<(), Box<HttpResponse>> {
    match (q.get("customer"), q.get("domain")) {
        (Some(c), _) if c == "my_customer" || c == CUSTOMER => Ok(()),
        (Some(_), _) => Err(Box::new(envelope(
            404,
            "notFound",
            "Resource Not Found: customer",
        ))),
        (None, Some(d)) if email.ends_with(&format!("@{d}")) => Ok(()),
        (None, Some(_)) => Err(Box::new(envelope(404, "notFound", "Domain not found."))),
        (None, None) => Err(Box::new(envelope(400, "badRequest", "Bad Request"))),
    }
}

fn derived(s: &State, group: &str, out: &mut Vec<Value>, seen: &mut HashSet<String>) {
    for m in s.members.get(group).into_iter().flatten() {
        let id = m["id"].as_str().unwrap_or_default().to_string();
        if m["type"] == json!("GROUP") {
            if seen.insert(format!("g:{id}")) {
                derived(s, &id, out, seen);
            }
        } else if seen.insert(id) {
            out.push(m.clone());
        }
    }
}

fn find_key<'a>(
    map: &'a BTreeMap<String, Value>,
    key: &str,
    email_field: &str,
) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.values().find(|v| {
            v[email_field]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(key))
        })
    })
}

fn is_listing(req: &HttpRequest) -> bool {
    let Some(rest) = req.path().strip_prefix("/admin/directory/v1/") else {
        return false;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    req.method() == actix_web::http::Method::GET
        && matches!(
            segments.as_slice(),
            ["users"] | ["groups"] | ["groups", _, "members"]
        )
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let listing = is_listing(&req);
    if listing {
        let mut s = state.lock().unwrap();
        s.listing_now += 1;
        s.listings_at_once = s.listings_at_once.max(s.listing_now);
    }
    let resp = answer(req, body, state.clone()).await;
    if listing {
        state.lock().unwrap().listing_now -= 1;
    }
    resp
}

async fn answer(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let delay = state.lock().unwrap().delay;
    if !delay.is_zero() && req.path() != "/token" {
        actix_web::rt::time::sleep(delay).await;
    }
    let mut s = state.lock().unwrap();
    let path = req.path().to_string();
    let q = query(&req);
    s.requests
        .push(format!("{} {}?{}", req.method(), path, req.query_string()));
    if path == "/token" && req.method() == actix_web::http::Method::POST {
        return token(&mut s, &body);
    }
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !s.tokens.contains(bearer) {
        return envelope(401, "authError", "Invalid Credentials");
    }
    if let Some(resp) = fault(&mut s, &path, page_number(&q)) {
        return resp;
    }
    let rest = path
        .strip_prefix("/admin/directory/v1/")
        .unwrap_or_default()
        .to_string();
    if s.forbidden.iter().any(|f| rest.starts_with(f.as_str())) {
        return envelope(
            403,
            "forbidden",
            "Not Authorized to access this resource/api",
        );
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let method = req.method().clone();
    let result = match (method.as_str(), segments.as_slice()) {
        ("GET", ["users"]) => {
            if !q.contains_key("customer") && !q.contains_key("domain") {
                return envelope(400, "badRequest", "Bad Request");
            }
            let items = s
                .users
                .values()
                .filter(|u| in_scope(&q, u["primaryEmail"].as_str().unwrap_or_default()).is_ok());
            page(items, &q, 500, "admin#directory#users", "users")
        }
        ("POST", ["users", "watch"]) => {
            let channel: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let ttl: i64 = channel["params"]["ttl"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(3600);
            let expiration = chrono::Utc::now().timestamp_millis() + ttl * 1000;
            s.watches.push(channel.clone());
            Ok(json!({
                "kind": "api#channel",
                "id": channel["id"],
                "resourceId": format!("res-{}", s.watches.len()),
                "resourceUri": "https://admin.googleapis.com/admin/directory/v1/users?alt=json",
                "token": channel["token"],
                "expiration": expiration.to_string(),
            }))
        }
        ("GET", ["users", key]) => match find_key(&s.users, key, "primaryEmail") {
            Some(u) => Ok(u.clone()),
            None => Err(Box::new(envelope(
                404,
                "notFound",
                "Resource Not Found: userKey",
            ))),
        },
        ("GET", ["groups"]) => {
            if !q.contains_key("customer") && !q.contains_key("domain") {
                return envelope(400, "badRequest", "Bad Request");
            }
            let items = s
                .groups
                .values()
                .filter(|g| in_scope(&q, g["email"].as_str().unwrap_or_default()).is_ok());
            page(items, &q, 200, "admin#directory#groups", "groups")
        }
        ("GET", ["groups", key]) => match find_key(&s.groups, key, "email") {
            Some(g) => Ok(g.clone()),
            None => Err(Box::new(envelope(
                404,
                "notFound",
                "Resource Not Found: groupKey",
            ))),
        },
        ("GET", ["groups", key, "members"]) => {
            let Some(id) = find_key(&s.groups, key, "email")
                .and_then(|g| g["id"].as_str())
                .map(str::to_string)
            else {
                return envelope(404, "notFound", "Resource Not Found: groupKey");
            };
            let items = if q.get("includeDerivedMembership").map(String::as_str) == Some("true") {
                let mut out = Vec::new();
                derived(&s, &id, &mut out, &mut HashSet::new());
                out
            } else {
                s.members.get(&id).cloned().unwrap_or_default()
            };
            page(items.iter(), &q, 200, "admin#directory#members", "members")
        }
        _ if path == "/admin/directory_v1/channels/stop"
            && method == actix_web::http::Method::POST =>
        {
            s.stops
                .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            return HttpResponse::NoContent().finish();
        }
        _ => Err(Box::new(envelope(404, "notFound", "Not Found"))),
    };
    match result {
        Ok(body) => HttpResponse::Ok().json(body),
        Err(resp) => *resp,
    }
}
