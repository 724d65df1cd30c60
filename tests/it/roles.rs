//! Roles derived from groups, on both backends: rules by group id, IdP id and name, renames,
//! `user.roles_changed` events, deprovisioning, random and concurrent changes checked against
//! the rules computed here, and a recompute of many users in the background.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::events::app_key;
use crate::read_api::read_all;
use crate::support::*;

/// The server, an admin client, an application client, and the ids of tenant `acme` and of
/// directory `main`.
struct Setup {
    server: TestServer,
    admin: Api,
    app: Api,
    tenant: String,
    directory: String,
}

async fn setup(backend: Backend) -> Setup {
    let server = TestServer::start(backend).await;
    let admin_key = cli_json(&server.db, &["admin-key", "issue"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = server.api(&admin_key);
    let app = server.api(&app_key(&server.db, None));
    let tenant = cli_json(&server.db, &["tenant", "list"])["tenants"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let directory = cli_json(&server.db, &["directory", "list"])["directories"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    Setup {
        server,
        admin,
        app,
        tenant,
        directory,
    }
}

impl Setup {
    fn roles_path(&self, rest: &str) -> String {
        format!("/admin/tenants/{}/roles{rest}", self.tenant)
    }

    async fn admin_send(&self, method: Method, rest: &str, body: Value) -> Response {
        self.admin
            .send(method, &self.roles_path(rest), Some(&body))
            .await
    }

    async fn role(&self, slug: &str, priority: i64, default: bool) {
        let r = self
            .admin_send(
                Method::POST,
                "",
                json!({"slug": slug, "name": slug.to_uppercase(), "priority": priority,
                       "default": default}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }

    async fn rule(&self, slug: &str, how: &str, value: &str) -> Response {
        self.admin_send(
            Method::POST,
            &format!("/{slug}/rules"),
            json!({"match": how, "value": value}),
        )
        .await
    }

    /// Waits for the tenant's recompute to be done; its progress.
    async fn settled(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let listed = self.admin.get(&self.roles_path("")).await;
            assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
            let p = listed.body["recompute"].clone();
            if p.is_null() || p["state"] == "done" {
                return p;
            }
            assert!(Instant::now() < deadline, "recompute never finished: {p}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn user(&self, id: &str) -> Value {
        let r = self.app.get(&format!("/users/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }

    async fn slugs(&self, id: &str) -> Vec<String> {
        slugs(&self.user(id).await)
    }

    /// The `user.roles_changed` events so far.
    async fn role_events(&self) -> Vec<Value> {
        crate::events::read_all(&self.app, None, "&types=user.roles_changed")
            .await
            .0
    }
}

fn slugs(record: &Value) -> Vec<String> {
    let roles: Vec<String> = record["roles"]
        .as_array()
        .unwrap_or_else(|| panic!("no roles in {record}"))
        .iter()
        .map(|r| r["slug"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        record["role"],
        roles.first().map_or(Value::Null, |s| json!({"slug": s})),
        "role is the first of roles: {record}"
    );
    roles
}

fn slugs_of(roles: &Value) -> Vec<String> {
    roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap().to_string())
        .collect()
}

async fn add_members(c: &Client, group: &str, users: &[&str]) -> StatusCode {
    let members: Vec<Value> = users.iter().map(|u| json!({"value": u})).collect();
    c.patch(
        &format!("/Groups/{group}"),
        &patch_body(json!([{"op": "add", "path": "members", "value": members}])),
    )
    .await
    .status
}

/// Entra's shape: a member the group lacks is no error.
async fn remove_member(c: &Client, group: &str, user: &str) -> StatusCode {
    c.patch(
        &format!("/Groups/{group}"),
        &patch_body(json!([{"op": "remove", "path": "members", "value": [{"value": user}]}])),
    )
    .await
    .status
}

async fn rename(c: &Client, group: &str, name: &str) -> StatusCode {
    c.patch(
        &format!("/Groups/{group}"),
        &patch_body(json!([{"op": "replace", "path": "displayName", "value": name}])),
    )
    .await
    .status
}

async fn new_group(c: &Client, name: &str, external_id: &str, members: &[&str]) -> String {
    let mut body = group_body(name, members);
    body["externalId"] = json!(external_id);
    let r = c.post("/Groups", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.id()
}

both_backends!(
    rules_follow_groups_and_announce_changes,
    |backend| async move {
        let s = setup(backend).await;
        let c = &s.server.client;
        s.role("member", 0, true).await;
        s.role("admin", 100, false).await;
        s.role("eng", 50, false).await;
        s.role("sales", 10, false).await;
        s.settled().await;

        let a = c.post("/Users", &user_body("a@example.com")).await.id();
        let b = c.post("/Users", &user_body("b@example.com")).await.id();
        let cc = c.post("/Users", &user_body("c@example.com")).await.id();
        // A new user holds the default role from its creation on.
        assert_eq!(s.slugs(&a).await, ["member"]);

        let admins = new_group(c, "Admins", "okta-admins", &[&a]).await;
        let eng = new_group(c, "Engineering", "ext-eng", &[]).await;
        let sales = new_group(c, "Sales Team", "ext-sales", &[&cc]).await;
        let misc = new_group(c, "Misc", "ext-misc", &[]).await;
        // A rule by id, by IdP id, and by name (case-insensitive); each change of rules is
        // recomputed in the background.
        for (role, how, value) in [
            ("admin", "group_id", admins.as_str()),
            ("eng", "idp_id", "ext-eng"),
            ("sales", "name", "sales team"),
        ] {
            let r = s.rule(role, how, value).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        s.settled().await;
        assert_eq!(s.slugs(&a).await, ["admin"]);
        assert_eq!(s.slugs(&cc).await, ["sales"]);

        // Membership changes are recomputed in the same write: the answer is the new state.
        let before = s.role_events().await.len();
        assert_eq!(
            add_members(c, &eng, &[&b, &a]).await,
            StatusCode::NO_CONTENT
        );
        assert_eq!(s.slugs(&b).await, ["eng"]);
        assert_eq!(s.slugs(&a).await, ["admin", "eng"]);
        let events = s.role_events().await;
        assert_eq!(events.len(), before + 2, "{events:#?}");
        let of = |id: &str| {
            events[before..]
                .iter()
                .find(|e| e["data"]["id"] == json!(id))
                .cloned()
                .unwrap_or_else(|| panic!("no event for {id}"))
        };
        let (eb, ea) = (of(&b), of(&a));
        assert_eq!(eb["changed"], json!(["role", "roles"]));
        assert_eq!(slugs_of(&eb["previous"]["roles"]), ["member"]);
        assert_eq!(eb["previous"]["role"], json!({"slug": "member"}));
        assert_eq!(slugs(&eb["data"]), ["eng"]);
        // a's top role stays admin: only `roles` changed.
        assert_eq!(ea["changed"], json!(["roles"]));
        assert_eq!(slugs_of(&ea["previous"]["roles"]), ["admin"]);

        // A change that leaves roles as they were writes no event.
        let before = s.role_events().await.len();
        assert_eq!(add_members(c, &misc, &[&b]).await, StatusCode::NO_CONTENT);
        assert_eq!(remove_member(c, &misc, &b).await, StatusCode::NO_CONTENT);
        assert_eq!(s.role_events().await.len(), before);

        // A rule by name follows renames, both ways.
        assert_eq!(rename(c, &sales, "Sales").await, StatusCode::NO_CONTENT);
        assert_eq!(s.slugs(&cc).await, ["member"]);
        assert_eq!(
            rename(c, &sales, "SALES TEAM").await,
            StatusCode::NO_CONTENT
        );
        assert_eq!(s.slugs(&cc).await, ["sales"]);
        // A rule by IdP id follows the externalId, not the name.
        assert_eq!(rename(c, &eng, "Platform").await, StatusCode::NO_CONTENT);
        assert_eq!(s.slugs(&b).await, ["eng"]);

        assert_eq!(remove_member(c, &eng, &b).await, StatusCode::NO_CONTENT);
        assert_eq!(s.slugs(&b).await, ["member"]);
        let last = s.role_events().await.pop().unwrap();
        assert_eq!(slugs_of(&last["previous"]["roles"]), ["eng"]);

        // Deleting a group takes its roles from its members.
        assert_eq!(
            c.delete(&format!("/Groups/{admins}")).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(s.slugs(&a).await, ["eng"]);

        // Deprovisioning: a deleted user holds no role, announced before user.deleted.
        assert_eq!(
            c.delete(&format!("/Users/{a}")).await.status,
            StatusCode::NO_CONTENT
        );
        let (all, _) = crate::events::read_all(&s.app, None, "").await;
        let tail: Vec<&str> = all
            .iter()
            .filter(|e| e["data"]["id"] == json!(a) || e["data"]["user"]["id"] == json!(a))
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            tail[tail.len() - 3..],
            ["group.user_removed", "user.roles_changed", "user.deleted"]
        );
        let deleted = all.last().unwrap();
        assert_eq!(deleted["data"]["roles"], json!([]));
        assert_eq!(deleted["data"]["role"], Value::Null);

        // Deleting a role gives its users their other roles or the default, in the background.
        let r = s
            .admin
            .send(Method::DELETE, &s.roles_path("/sales"), None)
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        s.settled().await;
        assert_eq!(s.slugs(&cc).await, ["member"]);
        // A new default is everyone's who has no other role.
        let r = s
            .admin_send(Method::PATCH, "/eng", json!({"default": true}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        s.settled().await;
        assert_eq!(s.slugs(&cc).await, ["eng"]);
        assert_eq!(s.slugs(&b).await, ["eng"]);
        let listed = s.admin.get(&s.roles_path("")).await;
        let defaults: Vec<&Value> = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["default"] == json!(true))
            .map(|r| &r["slug"])
            .collect();
        assert_eq!(defaults, [&json!("eng")]);
    }
);

both_backends!(admin_routes_answer_errors_as_json, |backend| async move {
    let s = setup(backend).await;
    s.role("member", 0, true).await;
    use StatusCode as S;
    let cases = [
        (
            Method::POST,
            "",
            json!({"slug": "member", "name": "again"}),
            S::CONFLICT,
        ),
        (
            Method::POST,
            "",
            json!({"slug": "Bad Slug", "name": "x"}),
            S::BAD_REQUEST,
        ),
        (
            Method::POST,
            "",
            json!({"slug": "x", "name": ""}),
            S::BAD_REQUEST,
        ),
        (
            Method::POST,
            "",
            json!({"slug": "x", "name": "x", "colour": 1}),
            S::BAD_REQUEST,
        ),
        (Method::PATCH, "/nope", json!({"name": "x"}), S::NOT_FOUND),
        (
            Method::POST,
            "/member/rules",
            json!({"match": "email", "value": "x"}),
            S::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/member/rules",
            json!({"match": "name", "value": ""}),
            S::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/nope/rules",
            json!({"match": "name", "value": "x"}),
            S::NOT_FOUND,
        ),
        (
            Method::DELETE,
            "/member/rules/nope",
            json!({}),
            S::NOT_FOUND,
        ),
    ];
    for (method, rest, body, status) in cases {
        let r = s.admin_send(method.clone(), rest, body.clone()).await;
        assert_eq!(r.status, status, "{method} {rest} {body}: {}", r.body);
        assert!(r.body["error"]["code"].is_string(), "{}", r.body);
    }
    let r = s.rule("member", "name", "Staff").await;
    assert_eq!(r.status, StatusCode::CREATED);
    let again = s.rule("member", "name", "STAFF").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let listed = s.admin.get(&s.roles_path("/member/rules")).await;
    assert_eq!(listed.body["data"][0]["value"], json!("Staff"));
    // The CLI reaches the same commands.
    let cli_listed = cli_json(&s.server.db, &["role", "list", "--tenant", "acme"]);
    assert_eq!(cli_listed["data"][0]["slug"], json!("member"));
    assert_eq!(cli_listed["data"][0]["rules"][0]["value"], json!("Staff"));
});

/// A role book as the admin API lists it: (slug, priority, default) and rules (slug, match,
/// value).
struct Book {
    roles: Vec<(String, i64, bool)>,
    rules: Vec<(String, String, String)>,
}

struct GroupState {
    id: String,
    external_id: Option<String>,
    name: String,
    members: BTreeSet<String>,
}

/// What the rules say a live user holds, computed here from what the server reports of its
/// groups and rules.
fn expected(book: &Book, groups: &[GroupState], user: &str) -> Vec<String> {
    let mine: Vec<&GroupState> = groups.iter().filter(|g| g.members.contains(user)).collect();
    let hits = |how: &str, value: &str, g: &GroupState| match how {
        "group_id" => g.id == value,
        "idp_id" => g.external_id.as_deref() == Some(value),
        "name" => g.name.to_lowercase() == value.to_lowercase(),
        other => panic!("unknown match {other}"),
    };
    let held: BTreeSet<&str> = book
        .rules
        .iter()
        .filter(|(_, how, value)| mine.iter().any(|g| hits(how, value, g)))
        .map(|(slug, _, _)| slug.as_str())
        .collect();
    let mut roles: Vec<&(String, i64, bool)> = book
        .roles
        .iter()
        .filter(|(slug, _, _)| held.contains(slug.as_str()))
        .collect();
    if roles.is_empty() {
        roles.extend(book.roles.iter().filter(|(_, _, default)| *default));
    }
    roles.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    roles.into_iter().map(|r| r.0.clone()).collect()
}

impl Setup {
    async fn book(&self) -> Book {
        let listed = self.admin.get(&self.roles_path("")).await;
        let mut book = Book {
            roles: Vec::new(),
            rules: Vec::new(),
        };
        for r in listed.body["data"].as_array().unwrap() {
            let slug = r["slug"].as_str().unwrap().to_string();
            book.roles.push((
                slug.clone(),
                r["priority"].as_i64().unwrap(),
                r["default"].as_bool().unwrap(),
            ));
            for rule in r["rules"].as_array().unwrap() {
                book.rules.push((
                    slug.clone(),
                    rule["match"].as_str().unwrap().to_string(),
                    rule["value"].as_str().unwrap().to_string(),
                ));
            }
        }
        book
    }

    async fn groups(&self) -> Vec<GroupState> {
        let r = self.server.client.get("/Groups?count=1000").await;
        r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| GroupState {
                id: g["id"].as_str().unwrap().to_string(),
                external_id: g["externalId"].as_str().map(str::to_string),
                name: g["displayName"].as_str().unwrap().to_string(),
                members: g["members"]
                    .as_array()
                    .map(|m| {
                        m.iter()
                            .map(|x| x["value"].as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Every live user's materialized roles equal what the rules say; the number checked.
    async fn check_every_user(&self) -> usize {
        self.settled().await;
        let (book, groups) = (self.book().await, self.groups().await);
        let users = read_all(
            &self.app,
            &format!("/directories/{}/users", self.directory),
            1000,
        )
        .await;
        for u in &users {
            let id = u["id"].as_str().unwrap();
            assert_eq!(slugs(u), expected(&book, &groups, id), "user {id}: {u}");
        }
        users.len()
    }
}

const NAMES: [&str; 6] = ["Admins", "Engineering", "Sales", "Support", "Ops", "admins"];
const SLUGS: [&str; 4] = ["member", "admin", "eng", "ops"];

/// One random change of membership, names, rules or priorities.
async fn random_change(
    rng: &mut StdRng,
    s_admin: &Api,
    tenant: &str,
    c: &Client,
    users: &[String],
    groups: &[String],
    memberships_only: bool,
) {
    let user = &users[rng.random_range(0..users.len())];
    let group = &groups[rng.random_range(0..groups.len())];
    let roles = |rest: String| format!("/admin/tenants/{tenant}/roles{rest}");
    let pick = if memberships_only {
        rng.random_range(0..2)
    } else {
        rng.random_range(0..7)
    };
    match pick {
        0 => {
            let status = add_members(c, group, &[user]).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
        }
        1 => {
            let status = remove_member(c, group, user).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
        }
        2 => {
            let name = NAMES[rng.random_range(0..NAMES.len())];
            assert_eq!(rename(c, group, name).await, StatusCode::NO_CONTENT);
        }
        3 | 4 => {
            let slug = SLUGS[rng.random_range(1..SLUGS.len())];
            let (how, value) = match rng.random_range(0..3) {
                0 => ("group_id", group.clone()),
                1 => (
                    "idp_id",
                    format!("ext-{}", rng.random_range(0..groups.len())),
                ),
                _ => ("name", NAMES[rng.random_range(0..NAMES.len())].to_string()),
            };
            let r = s_admin
                .send(
                    Method::POST,
                    &roles(format!("/{slug}/rules")),
                    Some(&json!({"match": how, "value": value})),
                )
                .await;
            assert!(
                r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT,
                "{}",
                r.body
            );
        }
        5 => {
            let slug = SLUGS[rng.random_range(1..SLUGS.len())];
            let listed = s_admin.get(&roles(format!("/{slug}/rules"))).await;
            let rules = listed.body["data"].as_array().unwrap().clone();
            if !rules.is_empty() {
                let id = rules[rng.random_range(0..rules.len())]["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let r = s_admin
                    .send(Method::DELETE, &roles(format!("/{slug}/rules/{id}")), None)
                    .await;
                // Another client may have deleted it first.
                assert!(
                    r.status == StatusCode::NO_CONTENT || r.status == StatusCode::NOT_FOUND,
                    "{}",
                    r.body
                );
            }
        }
        _ => {
            let slug = SLUGS[rng.random_range(0..SLUGS.len())];
            let r = s_admin
                .send(
                    Method::PATCH,
                    &roles(format!("/{slug}")),
                    Some(&json!({"priority": rng.random_range(-5..5)})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    }
}

both_backends!(
    random_and_concurrent_changes_agree_with_rules,
    |backend| async move {
        let s = setup(backend).await;
        let c = s.server.client.clone();
        for (i, slug) in SLUGS.iter().enumerate() {
            s.role(slug, i as i64, i == 0).await;
        }
        let mut users = Vec::new();
        for i in 0..24 {
            users.push(
                c.post("/Users", &user_body(&format!("u{i}@example.com")))
                    .await
                    .id(),
            );
        }
        let mut groups = Vec::new();
        for i in 0..8 {
            groups.push(new_group(&c, NAMES[i % NAMES.len()], &format!("ext-{i}"), &[]).await);
        }
        let mut rng = StdRng::seed_from_u64(21);
        for _ in 0..300 {
            random_change(&mut rng, &s.admin, &s.tenant, &c, &users, &groups, false).await;
        }
        assert_eq!(s.check_every_user().await, users.len());
        assert!(
            !s.role_events().await.is_empty(),
            "the random changes moved some roles"
        );

        // Several clients change memberships at once, while rules change too.
        let mut tasks = Vec::new();
        for client in 0..6u64 {
            let (c, admin, tenant) = (c.clone(), s.admin.clone(), s.tenant.clone());
            let (users, groups) = (users.clone(), groups.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(100 + client);
                for _ in 0..40 {
                    // One client in three also changes names and rules.
                    let memberships_only = client % 3 != 0;
                    random_change(
                        &mut rng,
                        &admin,
                        &tenant,
                        &c,
                        &users,
                        &groups,
                        memberships_only,
                    )
                    .await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("a client's changes");
        }
        assert_eq!(s.check_every_user().await, users.len());
    }
);

/// A Bulk request creating `n` users named from `from` on.
fn bulk_users(from: usize, n: usize) -> Value {
    let ops: Vec<Value> = (from..from + n)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                   "data": user_body(&format!("bulk{i}@example.com"))})
        })
        .collect();
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
}

both_backends!(
    a_rule_over_many_users_runs_in_the_background,
    |backend| async move {
        const USERS: usize = 5_000;
        let s = setup(backend).await;
        let c = &s.server.client;
        s.role("member", 0, true).await;
        s.role("staff", 10, false).await;
        for from in (0..USERS).step_by(1000) {
            let r = c.post("/Bulk", &bulk_users(from, 1000)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let users = read_all(&s.app, &format!("/directories/{}/users", s.directory), 1000).await;
        assert_eq!(users.len(), USERS);
        let ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
        let everyone = new_group(c, "Everyone", "ext-everyone", &ids).await;

        let started = Instant::now();
        let r = s.rule("staff", "group_id", &everyone).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        // SCIM writes keep being answered while the recompute runs.
        let (mut writes, mut slowest, mut seen_running) = (0, Duration::ZERO, false);
        loop {
            let t = Instant::now();
            let made = c
                .post("/Users", &user_body(&format!("during{writes}@example.com")))
                .await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
            slowest = slowest.max(t.elapsed());
            writes += 1;
            let p = s.admin.get(&s.roles_path("")).await.body["recompute"].clone();
            if p["state"] == "done" {
                break;
            }
            seen_running |= p["done"].as_i64().unwrap() < p["total"].as_i64().unwrap();
            assert!(started.elapsed() < Duration::from_secs(300), "{p}");
        }
        let p = s.settled().await;
        assert!(p["done"].as_i64().unwrap() >= USERS as i64, "{p}");
        assert!(p["changed"].as_i64().unwrap() >= USERS as i64, "{p}");
        println!(
            "{backend:?}: recomputed {} users ({} changed) in {} ms, {writes} SCIM writes answered \
         meanwhile (slowest {} ms; progress seen running: {seen_running})",
            p["done"],
            p["changed"],
            p["elapsed_ms"],
            slowest.as_millis()
        );
        let after = read_all(&s.app, &format!("/directories/{}/users", s.directory), 1000).await;
        for u in &after {
            let want: &[&str] = if u["username"].as_str().unwrap().starts_with("bulk") {
                &["staff"]
            } else {
                &["member"]
            };
            assert_eq!(slugs(u), want, "{u}");
        }
    }
);

both_backends!(
    a_recompute_left_pending_is_run_by_the_next_server,
    |backend| async move {
        const USERS: usize = 1_200;
        let s = setup(backend).await;
        let c = &s.server.client;
        s.role("member", 0, true).await;
        s.role("staff", 10, false).await;
        s.settled().await;
        for from in (0..USERS).step_by(600) {
            let r = c.post("/Bulk", &bulk_users(from, 600)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let users = read_all(&s.app, &format!("/directories/{}/users", s.directory), 1000).await;
        let ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
        new_group(c, "Staff", "ext-staff", &ids).await;

        // The rule is added while no server runs: its recompute waits in the database.
        let Setup {
            server,
            admin,
            app,
            tenant,
            directory,
        } = s;
        let token = server.client.token.clone();
        let db = server.stop();
        let rule = cli_json(
            &db,
            &[
                "role", "rule", "add", "--tenant", "acme", "staff", "--match", "name", "staff",
            ],
        );
        assert_eq!(rule["match"], json!("name"));
        let pending = cli_json(&db, &["role", "list", "--tenant", "acme"]);
        assert_eq!(pending["recompute"]["state"], json!("running"), "{pending}");
        assert_eq!(pending["recompute"]["done"], json!(0));

        let server = TestServer::start_on(db, token, &[]).await;
        let s = Setup {
            admin: server.api(&admin.key),
            app: server.api(&app.key),
            server,
            tenant,
            directory,
        };
        let p = s.settled().await;
        assert_eq!(p["changed"], json!(USERS), "{p}");
        let after = read_all(&s.app, &format!("/directories/{}/users", s.directory), 1000).await;
        assert!(after.iter().all(|u| slugs(u) == ["staff"]));
    }
);
