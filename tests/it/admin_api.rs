//! The admin API under /api/v1/admin over real HTTP, on both backends: which key opens which
//! routes, allow lists, tenants, directories, SCIM tokens with rotation and overlap,
//! application keys, webhooks and the request log, each route's errors.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::events::app_key;
use crate::support::*;

/// Lets webhook endpoints point at 127.0.0.1 over plain HTTP.
const LOCAL: [(&str, &str); 2] = [
    ("ROSTER_ALLOW_HTTP_WEBHOOKS", "1"),
    ("ROSTER_ALLOW_PRIVATE_WEBHOOK_TARGETS", "1"),
];

fn admin_key(db: &TestDb, extra: &[&str]) -> Value {
    let mut args = vec!["admin-key", "issue"];
    args.extend_from_slice(extra);
    cli_json(db, &args)
}

/// A server with tenant `acme` and directory `main`, and an admin client on it.
async fn start(backend: Backend) -> (TestServer, Api) {
    let server = TestServer::start_with_env(backend, &LOCAL).await;
    let key = admin_key(&server.db, &[])["key"]
        .as_str()
        .expect("key")
        .to_string();
    assert!(key.starts_with("roster_admin_"), "{key}");
    let admin = server.api(&key);
    (server, admin)
}

fn error_code(r: &Response) -> &str {
    r.body["error"]["code"].as_str().unwrap_or_else(|| {
        panic!("{} has no JSON error: {}", r.status, r.body);
    })
}

/// Sends each case and checks its status (and for errors, the JSON error shape).
async fn check(api: &Api, cases: &[(Method, String, Option<Value>, StatusCode)]) -> Vec<Response> {
    let mut answers = Vec::new();
    for (method, path, body, status) in cases {
        let r = api.send(method.clone(), path, body.as_ref()).await;
        assert_eq!(r.status, *status, "{method} {path}: {}", r.body);
        if !status.is_success() {
            error_code(&r);
        }
        answers.push(r);
    }
    answers
}

fn id_of(r: &Response) -> String {
    r.body["id"].as_str().expect("id").to_string()
}

/// `tenant_id` of tenant `acme`.
async fn acme(admin: &Api) -> String {
    let r = admin.get("/admin/tenants").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == json!("acme"))
        .and_then(|t| t["id"].as_str())
        .expect("tenant acme")
        .to_string()
}

/// Whether a SCIM request with `token` is accepted.
async fn scim_status(server: &TestServer, token: &str) -> StatusCode {
    server.client.with_token(token).get("/Users").await.status
}

/// Waits, up to the documented bound and a margin, for `token` to be refused.
async fn refused_soon(server: &TestServer, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let status = scim_status(server, token).await;
        if status == StatusCode::UNAUTHORIZED {
            return;
        }
        assert!(Instant::now() < deadline, "still {status} after 3 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both_backends!(each_key_opens_its_own_routes_only, |backend| async move {
    let (server, admin) = start(backend).await;
    let app = app_key(&server.db, None);
    let scim = server.client.token.clone();
    let admin_key = admin.key.clone();
    let origin = server.origin();
    let http = reqwest::Client::new();
    let routes = ["/api/v1/admin/tenants", "/api/v1/events", "/scim/v2/Users"];
    let revoked = admin_key_revoked(&server.db);
    let (ok, no) = (StatusCode::OK, StatusCode::UNAUTHORIZED);
    let cases = [
        (admin_key.as_str(), [ok, no, no]),
        (app.as_str(), [no, ok, no]),
        (scim.as_str(), [no, no, ok]),
        (revoked.as_str(), [no, no, no]),
        ("roster_admin_0000", [no, no, no]),
        ("", [no, no, no]),
    ];
    for (key, statuses) in cases {
        for (route, status) in routes.iter().zip(statuses) {
            let r = http
                .get(format!("{origin}{route}"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), status, "{route} with {:.16}…", key);
            if route.starts_with("/api") && status == no {
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["error"]["code"], json!("unauthenticated"), "{body}");
            }
        }
    }
});

/// A revoked admin key, by the CLI.
fn admin_key_revoked(db: &TestDb) -> String {
    let issued = admin_key(db, &[]);
    let id = issued["id"].as_str().unwrap();
    cli_json(db, &["admin-key", "revoke", id]);
    let listed = cli_json(db, &["admin-key", "list"]);
    let row = listed["admin_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == json!(id))
        .cloned()
        .unwrap();
    assert!(row["revoked_at"].is_string(), "{row}");
    assert!(
        row.get("key").is_none() && row.get("key_hash").is_none(),
        "{row}"
    );
    issued["key"].as_str().unwrap().to_string()
}

both_backends!(
    allow_lists_admit_their_addresses_only,
    |backend| async move {
        let (server, _) = start(backend).await;
        for (allow, status) in [
            ("127.0.0.1/32,::1/128", StatusCode::OK),
            ("127.0.0.0/8", StatusCode::OK),
            ("10.0.0.0/8", StatusCode::FORBIDDEN),
            ("::1/128", StatusCode::FORBIDDEN),
        ] {
            let issued = admin_key(&server.db, &["--allow", allow]);
            assert!(issued["allow"].is_array(), "{issued}");
            let api = server.api(issued["key"].as_str().unwrap());
            let r = api.get("/admin/tenants").await;
            assert_eq!(r.status, status, "--allow {allow}: {}", r.body);
            if status == StatusCode::FORBIDDEN {
                assert_eq!(error_code(&r), "forbidden");
                assert!(
                    r.body["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("127.0.0.1"),
                    "{}",
                    r.body
                );
            }
        }
        let bad = cli(
            &server.db,
            &["admin-key", "issue", "--allow", "10.0.0.0/33"],
        );
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("CIDR"));
    }
);

both_backends!(tenants_and_directories, |backend| async move {
    let (server, admin) = start(backend).await;
    let (get, post, patch) = (Method::GET, Method::POST, Method::PATCH);
    let acme = acme(&admin).await;
    let created = admin
        .send(
            post.clone(),
            "/admin/tenants",
            Some(&json!({"name": "globex"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let globex = id_of(&created);
    let t = |p: &str| format!("/admin/tenants{p}");
    let d = |p: &str| format!("/admin/directories{p}");
    let new_dir = |tenant: &str, name: &str, kind: &str| {
        Some(json!({"tenant_id": tenant, "name": name, "kind": kind}))
    };
    use StatusCode as S;
    check(
        &admin,
        &[
            (get.clone(), t(&format!("/{globex}")), None, S::OK),
            (get.clone(), t("/no-such-tenant"), None, S::NOT_FOUND),
            // By id only: a name is not an id.
            (get.clone(), t("/globex"), None, S::NOT_FOUND),
            (
                post.clone(),
                t(""),
                Some(json!({"name": "globex"})),
                S::CONFLICT,
            ),
            (
                post.clone(),
                t(""),
                Some(json!({"name": "no spaces"})),
                S::BAD_REQUEST,
            ),
            (post.clone(), t(""), Some(json!({})), S::BAD_REQUEST),
            (
                post.clone(),
                t(""),
                Some(json!({"name": "x", "extra": 1})),
                S::BAD_REQUEST,
            ),
            (Method::DELETE, t(""), None, S::METHOD_NOT_ALLOWED),
            (
                post.clone(),
                d(""),
                new_dir(&acme, "main", "okta"),
                S::CONFLICT,
            ),
            (
                post.clone(),
                d(""),
                new_dir(&acme, "x", "nonesuch"),
                S::BAD_REQUEST,
            ),
            (
                post.clone(),
                d(""),
                Some(json!({"tenant_id": acme, "name": "g", "kind": "google",
                            "google": {"admin": "not-an-email"}})),
                S::BAD_REQUEST,
            ),
            (
                post.clone(),
                d(""),
                new_dir("no-such-tenant", "x", "okta"),
                S::NOT_FOUND,
            ),
            (
                post.clone(),
                d(""),
                Some(json!({"tenant_id": acme, "name": "x", "kind": "okta",
                            "deprovisioning": {"on_delete": "purge"}})),
                S::BAD_REQUEST,
            ),
            (get.clone(), d("/no-such-directory"), None, S::NOT_FOUND),
            (
                get.clone(),
                d("?tenant_id=no-such-tenant"),
                None,
                S::NOT_FOUND,
            ),
            (
                patch.clone(),
                d("/no-such-directory"),
                Some(json!({"name": "y"})),
                S::NOT_FOUND,
            ),
            (Method::PUT, d(""), None, S::METHOD_NOT_ALLOWED),
        ],
    )
    .await;

    let made = admin
        .send(
            post.clone(),
            "/admin/directories",
            Some(
                &json!({"tenant_id": globex, "name": "okta-prod", "kind": "okta",
                         "deprovisioning": {"on_delete": "hard", "retention": "7d"}}),
            ),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let dir = id_of(&made);
    assert_eq!(made.body["kind"], json!("okta"));
    assert_eq!(made.body["tenant_id"], json!(globex));
    assert_eq!(made.body["deprovisioning"]["on_delete"], json!("hard"));
    assert_eq!(made.body["deprovisioning"]["retention"], json!("7d"));
    assert_eq!(
        made.body["deprovisioning"]["on_deactivate"],
        json!("deactivate")
    );
    assert!(
        made.body["scim_base_url"]
            .as_str()
            .unwrap()
            .ends_with("/scim/v2")
    );
    // The first token, shown once, works at once.
    let token = made.body["token"].as_str().expect("first token");
    let c = server.client.with_token(token);
    let r = c.post("/Users", &user_body("ada@globex.example")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let listed = admin
        .get(&format!("/admin/directories?tenant_id={globex}"))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let names: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["okta-prod"]);
    assert!(listed.body["data"][0].get("token").is_none());
    let all = admin.get("/admin/directories").await;
    assert_eq!(
        all.body["data"].as_array().unwrap().len(),
        2,
        "{}",
        all.body
    );
    let one = admin.get(&d(&format!("/{dir}"))).await;
    assert_eq!(one.body["name"], json!("okta-prod"));

    let changed = admin
        .send(
            patch.clone(),
            &d(&format!("/{dir}")),
            Some(&json!({"name": "okta-main", "deprovisioning": {"on_deactivate": "delete"}})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["name"], json!("okta-main"));
    assert_eq!(
        changed.body["deprovisioning"]["on_deactivate"],
        json!("delete")
    );
    assert_eq!(changed.body["deprovisioning"]["on_delete"], json!("hard"));
    // The CLI sees what the API did: one store, one set of commands.
    let cli_listed = cli_json(&server.db, &["directory", "list", "--tenant", "globex"]);
    assert_eq!(cli_listed["directories"][0]["name"], json!("okta-main"));
    // The same name again in the same tenant is a conflict; in another tenant it is not.
    let second = admin
        .send(
            post.clone(),
            "/admin/directories",
            new_dir(&globex, "second", "entra").as_ref(),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    check(
        &admin,
        &[
            (
                patch.clone(),
                d(&format!("/{}", id_of(&second))),
                Some(json!({"name": "okta-main"})),
                S::CONFLICT,
            ),
            (
                patch.clone(),
                d(&format!("/{dir}")),
                Some(json!({"name": "a b"})),
                S::BAD_REQUEST,
            ),
            (
                patch.clone(),
                d(&format!("/{dir}")),
                Some(json!({"deprovisioning": {"retention": "3w"}})),
                S::BAD_REQUEST,
            ),
            (
                post.clone(),
                d(""),
                new_dir(&acme, "okta-main", "okta"),
                S::CREATED,
            ),
        ],
    )
    .await;
});

/// Directory `main`'s id.
async fn main_directory(admin: &Api) -> String {
    let r = admin.get("/admin/directories").await;
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == json!("main"))
        .and_then(|d| d["id"].as_str())
        .expect("directory main")
        .to_string()
}

fn token_row<'a>(listed: &'a Response, id: &str) -> &'a Value {
    listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == json!(id))
        .unwrap_or_else(|| panic!("token {id} not listed: {}", listed.body))
}

both_backends!(tokens_are_issued_listed_and_revoked, |backend| async move {
    let (server, admin) = start(backend).await;
    let dir = main_directory(&admin).await;
    let tokens = format!("/admin/directories/{dir}/tokens");
    let issued = admin.send(Method::POST, &tokens, None).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let (id, secret) = (
        id_of(&issued),
        issued.body["token"].as_str().unwrap().to_string(),
    );
    assert!(secret.starts_with("roster_"));
    assert_eq!(scim_status(&server, &secret).await, StatusCode::OK);

    let listed = admin.get(&tokens).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        2,
        "{}",
        listed.body
    );
    let row = token_row(&listed, &id);
    assert!(secret.starts_with(row["hint"].as_str().unwrap()), "{row}");
    assert_eq!(row["hint"].as_str().unwrap().len(), "roster_".len() + 6);
    assert!(row["created_at"].is_string(), "{row}");
    assert!(row["last_used_at"].is_string(), "used once: {row}");
    assert_eq!(row["state"], json!("live"));
    assert!(
        row.get("token").is_none() && row.get("token_hash").is_none(),
        "{row}"
    );
    assert!(!listed.body.to_string().contains(&secret[7..]));

    // Another directory's path does not reach this token.
    let other = cli_json(
        &server.db,
        &[
            "directory",
            "create",
            "--tenant",
            "acme",
            "--kind",
            "okta",
            "other",
        ],
    );
    let other = other["id"].as_str().unwrap();
    use StatusCode as S;
    check(
        &admin,
        &[
            (
                Method::GET,
                format!("/admin/directories/{other}/tokens/{id}"),
                None,
                S::NOT_FOUND,
            ),
            (
                Method::DELETE,
                format!("/admin/directories/{other}/tokens/{id}"),
                None,
                S::NOT_FOUND,
            ),
            (Method::GET, format!("{tokens}/{id}"), None, S::OK),
            (Method::GET, format!("/admin/tokens/{id}"), None, S::OK),
            (
                Method::GET,
                "/admin/tokens/no-such-token".into(),
                None,
                S::NOT_FOUND,
            ),
            (
                Method::GET,
                "/admin/directories/no-such/tokens".into(),
                None,
                S::NOT_FOUND,
            ),
            (
                Method::POST,
                "/admin/directories/no-such/tokens".into(),
                None,
                S::NOT_FOUND,
            ),
            (Method::PUT, tokens.clone(), None, S::METHOD_NOT_ALLOWED),
            (
                Method::DELETE,
                format!("{tokens}/{id}"),
                None,
                S::NO_CONTENT,
            ),
            (
                Method::DELETE,
                format!("/admin/tokens/{id}"),
                None,
                S::NOT_FOUND,
            ),
        ],
    )
    .await;
    refused_soon(&server, &secret).await;
    let after = admin.get(&format!("/admin/tokens/{id}")).await;
    assert_eq!(after.body["state"], json!("revoked"));
    assert!(after.body["revoked_at"].is_string());
    // The directory's first token was untouched.
    assert_eq!(
        scim_status(&server, &server.client.token).await,
        StatusCode::OK
    );
});

both_backends!(
    rotation_keeps_the_old_token_for_the_overlap,
    |backend| async move {
        let (server, admin) = start(backend).await;
        let dir = main_directory(&admin).await;
        let old_secret = server.client.token.clone();
        assert_eq!(scim_status(&server, &old_secret).await, StatusCode::OK);
        let listed = admin.get(&format!("/admin/directories/{dir}/tokens")).await;
        let old = listed.body["data"][0]["id"].as_str().unwrap().to_string();
        assert!(listed.body["data"][0]["expires_at"].is_null());

        let rotated = admin
            .send(
                Method::POST,
                &format!("/admin/tokens/{old}/rotate"),
                Some(&json!({"overlap": "2s"})),
            )
            .await;
        assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.body);
        let started = Instant::now();
        let new_secret = rotated.body["token"].as_str().unwrap().to_string();
        assert_eq!(rotated.body["directory_id"], json!(dir));
        assert_eq!(rotated.body["previous"]["id"], json!(old));
        assert!(
            rotated.body["previous"]["expires_at"].is_string(),
            "{}",
            rotated.body
        );
        // Both work during the overlap.
        assert_eq!(scim_status(&server, &new_secret).await, StatusCode::OK);
        assert_eq!(scim_status(&server, &old_secret).await, StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the test ran too slowly to tell"
        );
        let listed = admin.get(&format!("/admin/directories/{dir}/tokens")).await;
        let row = token_row(&listed, &old);
        assert_eq!(row["state"], json!("live"));
        assert_eq!(row["expires_at"], rotated.body["previous"]["expires_at"]);
        // After it, the old one is refused at once (the auth cache keeps the expiry); the new
        // one keeps working.
        tokio::time::sleep(Duration::from_secs(2).saturating_sub(started.elapsed())).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            scim_status(&server, &old_secret).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(scim_status(&server, &new_secret).await, StatusCode::OK);
        let listed = admin.get(&format!("/admin/directories/{dir}/tokens")).await;
        assert_eq!(token_row(&listed, &old)["state"], json!("expired"));

        use StatusCode as S;
        let new_id = id_of(&rotated);
        check(
            &admin,
            &[
                // An expired token cannot be rotated again.
                (
                    Method::POST,
                    format!("/admin/tokens/{old}/rotate"),
                    None,
                    S::NOT_FOUND,
                ),
                (
                    Method::POST,
                    "/admin/tokens/no-such/rotate".into(),
                    None,
                    S::NOT_FOUND,
                ),
                (
                    Method::POST,
                    format!("/admin/tokens/{new_id}/rotate"),
                    Some(json!({"overlap": "soon"})),
                    S::BAD_REQUEST,
                ),
                (
                    Method::POST,
                    format!("/admin/tokens/{new_id}/rotate"),
                    Some(json!({"overlap": -5})),
                    S::BAD_REQUEST,
                ),
                (
                    Method::GET,
                    format!("/admin/tokens/{new_id}/rotate"),
                    None,
                    S::METHOD_NOT_ALLOWED,
                ),
            ],
        )
        .await;

        // An overlap of 0 retires the old token at once; the CLI rotates through the same command.
        let zero = admin
            .send(
                Method::POST,
                &format!("/admin/tokens/{new_id}/rotate"),
                Some(&json!({"overlap": "0"})),
            )
            .await;
        assert_eq!(zero.status, StatusCode::CREATED, "{}", zero.body);
        // Like a revocation: refused within the second a live token is trusted for.
        refused_soon(&server, &new_secret).await;
        let third = zero.body["token"].as_str().unwrap();
        assert_eq!(scim_status(&server, third).await, StatusCode::OK);
        let by_cli = cli_json(
            &server.db,
            &["token", "rotate", &id_of(&zero), "--overlap", "1h"],
        );
        assert!(by_cli["previous"]["expires_at"].is_string(), "{by_cli}");
        assert_eq!(scim_status(&server, third).await, StatusCode::OK);
        assert_eq!(
            scim_status(&server, by_cli["token"].as_str().unwrap()).await,
            StatusCode::OK
        );
    }
);

both_backends!(app_keys_and_webhooks, |backend| async move {
    let (server, admin) = start(backend).await;
    let acme = acme(&admin).await;
    let issued = admin
        .send(
            Method::POST,
            "/admin/app-keys",
            Some(&json!({"tenant_id": acme})),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let key = issued.body["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("roster_app_"));
    assert_eq!(issued.body["tenant_id"], json!(acme));
    let app = server.api(&key);
    assert_eq!(app.get("/events").await.status, StatusCode::OK);
    let listed = admin.get("/admin/app-keys").await;
    assert!(
        listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == issued.body["id"] && k.get("key").is_none())
    );
    let id = id_of(&issued);
    use StatusCode as S;
    check(
        &admin,
        &[
            (
                Method::POST,
                "/admin/app-keys".into(),
                Some(json!({"tenant_id": "nope"})),
                S::NOT_FOUND,
            ),
            (
                Method::POST,
                "/admin/app-keys".into(),
                Some(json!({"tenant": "acme"})),
                S::BAD_REQUEST,
            ),
            (Method::POST, "/admin/app-keys".into(), None, S::CREATED),
            (
                Method::GET,
                format!("/admin/app-keys/{id}"),
                None,
                S::METHOD_NOT_ALLOWED,
            ),
            (
                Method::DELETE,
                format!("/admin/app-keys/{id}"),
                None,
                S::NO_CONTENT,
            ),
            (
                Method::DELETE,
                format!("/admin/app-keys/{id}"),
                None,
                S::NOT_FOUND,
            ),
        ],
    )
    .await;
    assert_eq!(app.get("/events").await.status, StatusCode::UNAUTHORIZED);

    // Webhooks: the same commands as /api/v1/webhooks, an admin key acting for every tenant.
    let made = admin
        .send(
            Method::POST,
            "/admin/webhooks",
            Some(&json!({"url": "http://127.0.0.1:9/hook", "types": ["user.created"]})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert!(made.body["secret"].as_str().unwrap().starts_with("whsec_"));
    assert!(
        made.body["tenant_id"].is_null(),
        "a global endpoint: {}",
        made.body
    );
    let hook = id_of(&made);
    let tenant_hook = admin
        .send(
            Method::POST,
            "/admin/webhooks",
            Some(&json!({"url": "http://127.0.0.1:9/acme", "tenant_id": acme})),
        )
        .await;
    assert_eq!(
        tenant_hook.status,
        StatusCode::CREATED,
        "{}",
        tenant_hook.body
    );
    let w = |p: &str| format!("/admin/webhooks{p}");
    check(
        &admin,
        &[
            (Method::GET, w(&format!("/{hook}")), None, S::OK),
            (
                Method::PATCH,
                w(&format!("/{hook}")),
                Some(json!({"enabled": false})),
                S::OK,
            ),
            (
                Method::POST,
                w(&format!("/{hook}/rotate-secret")),
                Some(json!({"overlap": "1h"})),
                S::OK,
            ),
            (Method::GET, w(&format!("/{hook}/deliveries")), None, S::OK),
            (
                Method::POST,
                w(""),
                Some(json!({"url": "ftp://x"})),
                S::BAD_REQUEST,
            ),
            (
                Method::POST,
                w(""),
                Some(json!({"url": "http://127.0.0.1:9/", "tenant_id": "nope"})),
                S::NOT_FOUND,
            ),
            (Method::GET, w("/no-such-hook"), None, S::NOT_FOUND),
            (
                Method::PUT,
                w(&format!("/{hook}")),
                None,
                S::METHOD_NOT_ALLOWED,
            ),
        ],
    )
    .await;
    let all = admin.get("/admin/webhooks").await;
    assert_eq!(
        all.body["data"].as_array().unwrap().len(),
        2,
        "{}",
        all.body
    );
    assert_eq!(
        admin.get(&w(&format!("/{hook}"))).await.body["enabled"],
        json!(false)
    );
    // An application key for acme sees acme's endpoint, not the global one.
    let acme_app = server.api(&app_key(&server.db, Some("acme")));
    assert_eq!(
        acme_app.get(&format!("/webhooks/{hook}")).await.status,
        S::NOT_FOUND
    );
    assert_eq!(
        acme_app
            .get(&format!("/webhooks/{}", id_of(&tenant_hook)))
            .await
            .status,
        S::OK
    );
    check(
        &admin,
        &[
            (Method::DELETE, w(&format!("/{hook}")), None, S::NO_CONTENT),
            (Method::GET, w(&format!("/{hook}")), None, S::NOT_FOUND),
        ],
    )
    .await;
});

both_backends!(the_request_log_reads_like_log_list, |backend| async move {
    let (server, admin) = start(backend).await;
    let dir = main_directory(&admin).await;
    let c = &server.client;
    assert_eq!(
        c.post("/Users", &user_body("rl@example.com")).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        c.get("/Users/no-such-user").await.status,
        StatusCode::NOT_FOUND
    );
    let requests = format!("/admin/directories/{dir}/requests");
    // The log is written in the background.
    let deadline = Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let r = admin.get(&requests).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body["data"].as_array().unwrap().len() >= 2 || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let entries = listed.body["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", listed.body);
    assert_eq!(entries[0]["method"], json!("POST"));
    assert_eq!(entries[0]["status"], json!(201));
    assert_eq!(entries[1]["status"], json!(404));
    let failed = admin.get(&format!("{requests}?status=4xx&since=1h")).await;
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.body);
    let statuses: Vec<&Value> = failed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["status"])
        .collect();
    assert_eq!(statuses, [&json!(404)]);
    let limited = admin.get(&format!("{requests}?limit=1")).await;
    assert_eq!(limited.body["data"][0]["status"], json!(404), "the latest");
    let none = admin
        .get(&format!("{requests}?until=2000-01-01T00:00:00Z"))
        .await;
    assert_eq!(none.body["data"], json!([]));

    let first = entries[0]["id"].as_i64().unwrap();
    let one = admin.get(&format!("{requests}/{first}")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert!(
        one.body["request_body"]
            .as_str()
            .unwrap()
            .contains("rl@example.com")
    );
    let other = cli_json(
        &server.db,
        &[
            "directory",
            "create",
            "--tenant",
            "acme",
            "--kind",
            "okta",
            "other",
        ],
    );
    let other = other["id"].as_str().unwrap();
    use StatusCode as S;
    check(
        &admin,
        &[
            (
                Method::GET,
                format!("/admin/directories/{other}/requests/{first}"),
                None,
                S::NOT_FOUND,
            ),
            (
                Method::GET,
                format!("{requests}/not-a-number"),
                None,
                S::NOT_FOUND,
            ),
            (
                Method::GET,
                format!("{requests}?status=abc"),
                None,
                S::BAD_REQUEST,
            ),
            (
                Method::GET,
                format!("{requests}?since=yesterday"),
                None,
                S::BAD_REQUEST,
            ),
            (
                Method::GET,
                format!("{requests}?limit=0"),
                None,
                S::BAD_REQUEST,
            ),
            (
                Method::GET,
                "/admin/directories/no-such/requests".into(),
                None,
                S::NOT_FOUND,
            ),
            (Method::POST, requests.clone(), None, S::METHOD_NOT_ALLOWED),
        ],
    )
    .await;
});

both_backends!(
    a_disabled_directory_refuses_its_tokens,
    |backend| async move {
        let (server, admin) = start(backend).await;
        let dir = main_directory(&admin).await;
        let token = server.client.token.clone();
        assert_eq!(scim_status(&server, &token).await, StatusCode::OK);
        let app = server.api(&app_key(&server.db, None));
        let snapshot = format!("/directories/{dir}/snapshot");

        let disabled = admin
            .send(
                Method::POST,
                &format!("/admin/directories/{dir}/disable"),
                None,
            )
            .await;
        assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
        let at = disabled.body["disabled_at"].clone();
        assert!(at.is_string(), "{}", disabled.body);
        refused_soon(&server, &token).await;
        // Nothing is deleted: the application still reads it, and its tokens are still listed.
        assert_eq!(app.get(&snapshot).await.status, StatusCode::OK);
        let listed = admin.get(&format!("/admin/directories/{dir}/tokens")).await;
        assert_eq!(listed.body["data"][0]["state"], json!("live"));
        let again = admin
            .send(
                Method::POST,
                &format!("/admin/directories/{dir}/disable"),
                None,
            )
            .await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(
            again.body["disabled_at"], at,
            "disabling twice keeps the first time"
        );
        assert_eq!(
            admin.get(&format!("/admin/directories/{dir}")).await.body["disabled_at"],
            at
        );

        let enabled = admin
            .send(
                Method::POST,
                &format!("/admin/directories/{dir}/enable"),
                None,
            )
            .await;
        assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.body);
        assert!(enabled.body["disabled_at"].is_null());
        assert_eq!(scim_status(&server, &token).await, StatusCode::OK);

        // The CLI runs the same command.
        let by_cli = cli_json(&server.db, &["directory", "disable", "main"]);
        assert!(by_cli["disabled_at"].is_string(), "{by_cli}");
        refused_soon(&server, &token).await;
        cli_json(&server.db, &["directory", "enable", "main"]);
        assert_eq!(scim_status(&server, &token).await, StatusCode::OK);

        use StatusCode as S;
        check(
            &admin,
            &[
                (
                    Method::POST,
                    "/admin/directories/no-such/disable".into(),
                    None,
                    S::NOT_FOUND,
                ),
                (
                    Method::POST,
                    "/admin/directories/no-such/enable".into(),
                    None,
                    S::NOT_FOUND,
                ),
                (
                    Method::GET,
                    format!("/admin/directories/{dir}/disable"),
                    None,
                    S::METHOD_NOT_ALLOWED,
                ),
            ],
        )
        .await;
    }
);

both_backends!(
    a_tenants_admin_key_finds_no_other_tenant,
    |backend| async move {
        let (server, admin) = start(backend).await;
        let post = Method::POST;
        let globex = admin
            .send(
                post.clone(),
                "/admin/tenants",
                Some(&json!({"name": "globex"})),
            )
            .await;
        let globex = id_of(&globex);
        let theirs = admin
            .send(
                post.clone(),
                "/admin/directories",
                Some(&json!({"tenant_id": globex, "name": "g", "kind": "okta"})),
            )
            .await;
        let (dir, token_id) = (
            id_of(&theirs),
            theirs.body["token_id"].as_str().unwrap().to_string(),
        );
        let their_token = theirs.body["token"].as_str().unwrap().to_string();
        let their_key = admin
            .send(
                post.clone(),
                "/admin/app-keys",
                Some(&json!({"tenant_id": globex})),
            )
            .await;
        let their_key = id_of(&their_key);
        let hook = |tenant: Option<&str>| {
            let mut body = json!({"url": "http://127.0.0.1:9/hook"});
            if let Some(t) = tenant {
                body["tenant_id"] = json!(t);
            }
            body
        };
        let their_hook = admin
            .send(post.clone(), "/admin/webhooks", Some(&hook(Some(&globex))))
            .await;
        let global_hook = admin
            .send(post.clone(), "/admin/webhooks", Some(&hook(None)))
            .await;
        let (their_hook, global_hook) = (id_of(&their_hook), id_of(&global_hook));
        let roles = format!("/admin/tenants/{globex}/roles");
        let their_role = admin
            .send(
                post.clone(),
                &roles,
                Some(&json!({"slug": "gx", "name": "Globex"})),
            )
            .await;
        assert_eq!(
            their_role.status,
            StatusCode::CREATED,
            "{}",
            their_role.body
        );
        let their_rule = admin
            .send(
                post.clone(),
                &format!("{roles}/gx/rules"),
                Some(&json!({"match": "name", "value": "Globex staff"})),
            )
            .await;
        let their_rule = id_of(&their_rule);
        let their_link = admin
            .send(
                post.clone(),
                &format!("/admin/directories/{dir}/setup-links"),
                Some(&json!({})),
            )
            .await;
        assert_eq!(
            their_link.status,
            StatusCode::CREATED,
            "{}",
            their_link.body
        );
        let their_link = id_of(&their_link);

        let issued = admin_key(&server.db, &["--tenant", "acme"]);
        let acme_id = acme(&admin).await;
        assert_eq!(issued["tenant_id"], json!(acme_id));
        let mine = server.api(issued["key"].as_str().unwrap());
        use StatusCode as S;
        let nf = S::NOT_FOUND;
        let (get, patch, delete) = (Method::GET, Method::PATCH, Method::DELETE);
        let d = format!("/admin/directories/{dir}");
        check(
            &mine,
            &[
                (get.clone(), format!("/admin/tenants/{globex}"), None, nf),
                (
                    post.clone(),
                    "/admin/tenants".into(),
                    Some(json!({"name": "initech"})),
                    S::FORBIDDEN,
                ),
                (
                    get.clone(),
                    format!("/admin/directories?tenant_id={globex}"),
                    None,
                    nf,
                ),
                (
                    post.clone(),
                    "/admin/directories".into(),
                    Some(json!({"tenant_id": globex, "name": "x", "kind": "okta"})),
                    nf,
                ),
                (get.clone(), d.clone(), None, nf),
                (delete.clone(), d.clone(), None, nf),
                (
                    patch.clone(),
                    d.clone(),
                    Some(json!({"name": "mine-now"})),
                    nf,
                ),
                (post.clone(), format!("{d}/disable"), None, nf),
                (post.clone(), format!("{d}/enable"), None, nf),
                (get.clone(), format!("{d}/tokens"), None, nf),
                (post.clone(), format!("{d}/tokens"), None, nf),
                (get.clone(), format!("{d}/tokens/{token_id}"), None, nf),
                (delete.clone(), format!("{d}/tokens/{token_id}"), None, nf),
                (get.clone(), format!("/admin/tokens/{token_id}"), None, nf),
                (
                    delete.clone(),
                    format!("/admin/tokens/{token_id}"),
                    None,
                    nf,
                ),
                (
                    post.clone(),
                    format!("/admin/tokens/{token_id}/rotate"),
                    None,
                    nf,
                ),
                (get.clone(), format!("{d}/requests"), None, nf),
                (get.clone(), format!("{d}/attributes"), None, nf),
                (
                    post.clone(),
                    format!("{d}/attributes"),
                    Some(json!({"name": "cost", "source": "title"})),
                    nf,
                ),
                (
                    patch.clone(),
                    format!("{d}/attributes/cost"),
                    Some(json!({"source": "title"})),
                    nf,
                ),
                (delete.clone(), format!("{d}/attributes/cost"), None, nf),
                (get.clone(), format!("{d}/google"), None, nf),
                (
                    patch.clone(),
                    format!("{d}/google"),
                    Some(json!({"interval": "1h"})),
                    nf,
                ),
                (post.clone(), format!("{d}/google/test"), None, nf),
                (get.clone(), format!("{d}/setup-links"), None, nf),
                (
                    post.clone(),
                    format!("{d}/setup-links"),
                    Some(json!({})),
                    nf,
                ),
                (
                    delete.clone(),
                    format!("{d}/setup-links/{their_link}"),
                    None,
                    nf,
                ),
                (
                    post.clone(),
                    "/admin/app-keys".into(),
                    Some(json!({"tenant_id": globex})),
                    nf,
                ),
                (
                    delete.clone(),
                    format!("/admin/app-keys/{their_key}"),
                    None,
                    nf,
                ),
                (
                    get.clone(),
                    format!("/admin/webhooks/{their_hook}"),
                    None,
                    nf,
                ),
                (
                    get.clone(),
                    format!("/admin/webhooks/{global_hook}"),
                    None,
                    nf,
                ),
                (
                    delete.clone(),
                    format!("/admin/webhooks/{their_hook}"),
                    None,
                    nf,
                ),
                (
                    post.clone(),
                    "/admin/webhooks".into(),
                    Some(hook(Some(&globex))),
                    nf,
                ),
                (get.clone(), roles.clone(), None, nf),
                (
                    post.clone(),
                    roles.clone(),
                    Some(json!({"slug": "mine", "name": "Mine"})),
                    nf,
                ),
                (get.clone(), format!("{roles}/gx"), None, nf),
                (
                    patch.clone(),
                    format!("{roles}/gx"),
                    Some(json!({"priority": 9})),
                    nf,
                ),
                (delete.clone(), format!("{roles}/gx"), None, nf),
                (get.clone(), format!("{roles}/gx/rules"), None, nf),
                (
                    post.clone(),
                    format!("{roles}/gx/rules"),
                    Some(json!({"match": "name", "value": "x"})),
                    nf,
                ),
                (
                    delete.clone(),
                    format!("{roles}/gx/rules/{their_rule}"),
                    None,
                    nf,
                ),
            ],
        )
        .await;
        // Its own tenant it manages as a global key would.
        let names = |r: &Response, field: &str| -> Vec<String> {
            r.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x[field].as_str().unwrap_or_default().to_string())
                .collect()
        };
        assert_eq!(names(&mine.get("/admin/tenants").await, "name"), ["acme"]);
        assert_eq!(
            names(&mine.get("/admin/directories").await, "name"),
            ["main"]
        );
        assert_eq!(
            names(&mine.get("/admin/webhooks").await, "tenant_id"),
            Vec::<String>::new()
        );
        assert!(names(&mine.get("/admin/app-keys").await, "tenant_id").is_empty());
        let own_key = mine.send(post.clone(), "/admin/app-keys", None).await;
        assert_eq!(own_key.status, S::CREATED, "{}", own_key.body);
        assert_eq!(
            own_key.body["tenant_id"],
            json!(acme_id),
            "never a key of every tenant"
        );
        assert_eq!(
            names(&mine.get("/admin/app-keys").await, "tenant_id"),
            [acme_id.as_str()]
        );
        let own_hook = mine
            .send(post.clone(), "/admin/webhooks", Some(&hook(None)))
            .await;
        assert_eq!(own_hook.status, S::CREATED, "{}", own_hook.body);
        assert_eq!(own_hook.body["tenant_id"], json!(acme_id));
        let main = main_directory(&mine).await;
        assert_eq!(
            mine.get(&format!("/admin/directories/{main}/tokens"))
                .await
                .status,
            S::OK
        );
        // Nothing of globex's was touched.
        let their_roles = admin.get(&roles).await;
        assert_eq!(their_roles.body["data"][0]["priority"], json!(0));
        assert_eq!(
            their_roles.body["data"][0]["rules"][0]["id"],
            json!(their_rule)
        );
        assert_eq!(scim_status(&server, &their_token).await, S::OK);
        assert_eq!(admin.get(&d).await.body["name"], json!("g"));
    }
);
