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
    /// Users `generated_user(0..n)` listed before `users`, made as each page is served: a
    /// million materialised users would cost the fake gigabytes and the benchmark its time.
    pub generated_users: usize,
    /// The longest channel lifetime granted, in seconds, whatever a watch asks for: Google
    /// decides a channel's expiry, and may grant less than the `ttl` asked.
    pub channel_ttl_cap: Option<i64>,
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

    /// A Workspace of the given shape: see `Shape`. Group j's members are a deterministic
    /// spread over the users; every `external_every`-th group also holds outsiders.
    pub fn populate_shape(&self, shape: &Shape) {
        self.with(|s| {
            s.generated_users = shape.users;
            let mut external = 0;
            for j in 0..shape.groups {
                let id = format!("g{j:06}");
                let domain = DOMAINS[j % DOMAINS.len()];
                let name = format!("{} Ω-team {j}", GIVEN[j % GIVEN.len()]);
                let mut g = group(&id, &format!("group{j}@{domain}"), &name);
                g["description"] = json!(format!("Team {j} — generated"));
                let size = group_size(j, shape);
                g["directMembersCount"] = json!(size.to_string());
                s.groups.insert(id.clone(), g);
                let mut list = Vec::with_capacity(size + 4);
                if shape.users > 0 {
                    let n = shape.users;
                    let start = mix(j as u64 + 7) as usize % n;
                    let mut step = (mix(j as u64 + 11) as usize % n).max(1);
                    while gcd(step, n) != 1 {
                        step += 1;
                    }
                    for k in 0..size {
                        let role = match k {
                            0 => "OWNER",
                            1 | 2 => "MANAGER",
                            _ => "MEMBER",
                        };
                        list.push(generated_member((start + k * step) % n, role));
                    }
                }
                if shape.nested_every > 0 && j % shape.nested_every == 0 {
                    for child in [j + 1, j + 7] {
                        if child < shape.groups {
                            let mut m = member(&format!("g{child:06}"), "GROUP");
                            m["email"] =
                                json!(format!("group{child}@{}", DOMAINS[child % DOMAINS.len()]));
                            list.push(m);
                        }
                    }
                }
                if shape.external_every > 0 && j % shape.external_every == 0 {
                    for _ in 0..1 + j % 3 {
                        list.push(external_member(external));
                        external += 1;
                    }
                }
                // Google's member order is its own: owners are not always first.
                let turn = j % list.len().max(1);
                list.rotate_left(turn);
                s.members.insert(id, list);
            }
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

/// The shape of a generated Workspace. A uniform directory (every group the same size, no
/// nesting, plain records) hides costs a real one has, so the benchmark uses this one.
#[derive(Debug, Clone)]
pub struct Shape {
    pub users: usize,
    pub groups: usize,
    /// The largest group's size; the j-th largest has about `max_group / (j + 1)` members.
    pub max_group: usize,
    /// Every n-th group holds two later groups as members (nesting without cycles).
    pub nested_every: usize,
    /// Every n-th group holds members from outside the Workspace's domains.
    pub external_every: usize,
}

impl Shape {
    pub fn realistic(users: usize, groups: usize) -> Shape {
        Shape {
            users,
            groups,
            max_group: 5000,
            nested_every: 10,
            external_every: 25,
        }
    }
}

/// The Workspace's domains; users and groups are spread over them.
pub const DOMAINS: [&str; 3] = ["example.com", "example.org", "eu.example.com"];
/// Where external members' addresses live: no Workspace domain.
pub const EXTERNAL_DOMAINS: [&str; 3] = ["gmail.com", "partner.example.net", "contractor.example"];
const GIVEN: [&str; 8] = [
    "Zoë", "Łukasz", "Søren", "José", "Ōtani", "Ævar", "Nguyễn", "Ada",
];
const FAMILY: [&str; 8] = [
    "Müller",
    "Ødegård",
    "García",
    "O'Brien",
    "李",
    "Kowalczyk",
    "\u{200B}",
    "Łęcka",
];
const DEPARTMENTS: [&str; 6] = ["R&D", "Sales", "Support", "Finance", "Legal", "Operations"];

/// A deterministic mix of `i` (splitmix64): the same shape gives the same directory.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The i-th generated user: Unicode names over several domains, organizations, an employee
/// id, a manager, phones, aliases and two custom schemas; a few suspended or archived.
pub fn generated_user(i: usize, users: usize) -> Value {
    let id = format!("{:09}", i + 1);
    let h = mix(i as u64);
    let domain = DOMAINS[i % DOMAINS.len()];
    let email = format!("u{i}@{domain}");
    let given = GIVEN[(h % 8) as usize];
    let family = FAMILY[((h >> 8) % 8) as usize];
    let mut u = user(&id, &email, given, family);
    u["suspended"] = json!(h.is_multiple_of(50));
    u["archived"] = json!(h.is_multiple_of(211));
    u["orgUnitPath"] = json!(format!("/{}", DEPARTMENTS[(h >> 16) as usize % 6]));
    u["organizations"] = json!([{
        "title": format!("Engineer {}", (h >> 20) % 7),
        "department": DEPARTMENTS[(h >> 16) as usize % 6],
        "costCenter": format!("CC-{}", (h >> 24) % 40),
        "name": "Example Ltd",
        "primary": true,
        "customType": "",
    }]);
    u["externalIds"] = json!([{"type": "organization", "value": format!("E-{}", i + 1)}]);
    if i > 0 {
        let manager = (h as usize >> 3) % i.min(users);
        let m_domain = DOMAINS[manager % DOMAINS.len()];
        u["relations"] = json!([{"type": "manager", "value": format!("u{manager}@{m_domain}")}]);
    }
    u["phones"] = json!([{"type": "work", "value": format!("+44 20 7946 {:04}", i % 10000)}]);
    if h.is_multiple_of(5) {
        u["aliases"] = json!([format!("alias{i}@{domain}")]);
        u["nonEditableAliases"] = json!([format!("u{i}@{domain}.test-google-a.com")]);
    }
    u["customSchemas"] = json!({
        "HR": {"badge": format!("{}", 10_000 + i), "level": (h >> 32) % 9, "startDate": "2024-03-01"},
        "Access": {"clearance": [{"value": "internal"}, {"value": format!("zone-{}", (h >> 40) % 4)}]},
    });
    u["thumbnailPhotoEtag"] = json!(format!("\"photo-{}\"", h % 1000));
    u
}

/// The j-th generated group's size: heavy-tailed, at least 3, at most the directory.
pub fn group_size(j: usize, shape: &Shape) -> usize {
    (shape.max_group / (j + 1)).max(3).min(shape.users)
}

/// An external member of a group: an address in no Workspace domain, typed `USER` as Google
/// lists it. Some carry an id (a consumer Google account), some none.
pub fn external_member(k: usize) -> Value {
    let email = format!("guest{k}@{}", EXTERNAL_DOMAINS[k % EXTERNAL_DOMAINS.len()]);
    let mut m = json!({
        "kind": "admin#directory#member",
        "etag": format!("\"etag-x{k}\""),
        "email": email,
        "role": "MEMBER",
        "type": "USER",
    });
    if k % 3 != 2 {
        m["id"] = json!(format!("{}", 200_000_000_000_000_000_000u128 + k as u128));
        m["status"] = json!("ACTIVE");
    }
    m
}

/// A `Member` of a generated user, with the fields Google adds.
fn generated_member(i: usize, role: &str) -> Value {
    let domain = DOMAINS[i % DOMAINS.len()];
    json!({
        "kind": "admin#directory#member",
        "etag": format!("\"etag-m{i}\""),
        "id": format!("{:09}", i + 1),
        "email": format!("u{i}@{domain}"),
        "role": role,
        "type": "USER",
        "status": "ACTIVE",
        "delivery_settings": "ALL_MAIL",
    })
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

/// A users.list page over the generated users, then the stored ones. With a `customer` the
/// page is found by index, so serving a million users stays linear; a `domain` filters.
fn generated_page(s: &State, q: &HashMap<String, String>) -> Result<Value, Box<HttpResponse>> {
    let n = s.generated_users;
    if q.contains_key("domain") {
        let all: Vec<Value> = (0..n)
            .map(|i| generated_user(i, n))
            .chain(s.users.values().cloned())
            .filter(|u| in_scope(q, u["primaryEmail"].as_str().unwrap_or_default()).is_ok())
            .collect();
        return page(all.iter(), q, 500, "admin#directory#users", "users");
    }
    in_scope(q, "")?;
    let max: usize = q
        .get("maxResults")
        .map(|m| m.parse().unwrap_or(0))
        .unwrap_or(100);
    if max == 0 || max > 500 {
        return Err(Box::new(envelope(
            400,
            "invalid",
            "Invalid value for maxResults",
        )));
    }
    let start: usize = q.get("pageToken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let mut items: Vec<Value> = (start.min(n)..(start + max).min(n))
        .map(|i| generated_user(i, n))
        .collect();
    let rest = max - items.len();
    items.extend(
        s.users
            .values()
            .skip(start.saturating_sub(n))
            .take(rest)
            .cloned(),
    );
    let next = start + items.len();
    let mut body = json!({"kind": "admin#directory#users", "etag": "\"list\"", "users": items});
    if next < n + s.users.len() {
        body["nextPageToken"] = json!(next.to_string());
    }
    Ok(body)
}

/// A generated user by id or primary email.
fn generated_key(s: &State, key: &str) -> Option<Value> {
    let n = s.generated_users;
    let index = match key.strip_prefix('u').and_then(|k| k.split_once('@')) {
        Some((i, _)) => i.parse::<usize>().ok()?,
        None => key.parse::<usize>().ok()?.checked_sub(1)?,
    };
    (index < n)
        .then(|| generated_user(index, n))
        .filter(|u| u["id"] == json!(key) || u["primaryEmail"] == json!(key))
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
            if s.generated_users > 0 {
                generated_page(&s, &q)
            } else {
                let items = s.users.values().filter(|u| {
                    in_scope(&q, u["primaryEmail"].as_str().unwrap_or_default()).is_ok()
                });
                page(items, &q, 500, "admin#directory#users", "users")
            }
        }
        ("POST", ["users", "watch"]) => {
            let channel: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let ttl: i64 = channel["params"]["ttl"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(3600);
            let granted = s.channel_ttl_cap.map_or(ttl, |cap| ttl.min(cap));
            let expiration = chrono::Utc::now().timestamp_millis() + granted * 1000;
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
        ("GET", ["users", key]) => match find_key(&s.users, key, "primaryEmail")
            .cloned()
            .or_else(|| generated_key(&s, key))
        {
            Some(u) => Ok(u),
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
