//! The customer's setup page end to end, on both backends: links made by the CLI and the
//! admin API, the page driven in headless Chromium (keyboard included), the token it reveals
//! used by a real SCIM client, the live status, refusals, tenant isolation, and a Google
//! Workspace directory's credentials checked against the fake Google.

use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::console::{screenshots, sign_in, snap};
use crate::fake_google::{ADMIN, FakeGoogle};
use crate::google_settings::{google_env, seed};
use crate::support::*;

/// `roster --json ARGS` with `ROSTER_PUBLIC_URL` set to the server's origin, as an operator
/// runs it beside the server, and extra environment.
fn roster(server: &TestServer, env: &[(&str, String)], args: &[&str]) -> Value {
    let out = Command::new(roster_bin())
        .arg("--json")
        .args(args)
        .env("ROSTER_DATABASE_URL", &server.db.url)
        .env("ROSTER_PUBLIC_URL", server.origin())
        .env("ROSTER_LOG", "warn")
        .env_remove("ROSTER_CONFIG")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run roster");
    assert!(
        out.status.success(),
        "roster {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// A setup link for `directory` made by the CLI: its URL and id.
fn link(
    server: &TestServer,
    env: &[(&str, String)],
    directory: &str,
    expires: &str,
) -> (String, String) {
    let made = roster(
        server,
        env,
        &["directory", "setup-link", directory, "--expires", expires],
    );
    let url = made["url"].as_str().expect("url").to_string();
    assert!(
        url.starts_with(&format!("{}/setup/roster_setup_", server.origin())),
        "{url}"
    );
    (url, made["id"].as_str().expect("id").to_string())
}

/// GET `url` without a browser: status and body.
async fn fetch(url: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let r = reqwest::get(url).await.expect("the server answers");
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.text().await.unwrap())
}

async fn text_of(c: &fantoccini::Client, id: &str) -> String {
    c.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

async fn value_of(c: &fantoccini::Client, id: &str) -> String {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Waits, up to 20 s, for the element `id` to hold `words`, without reloading the page.
async fn shows(c: &fantoccini::Client, id: &str, words: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = text_of(c, id).await;
        if now.contains(words) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "#{id} never said {words:?}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Presses one key on the keyboard, wherever the focus is (a real key press: on a file input,
/// sending the key to the element would be taken as a file name).
async fn press(c: &fantoccini::Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.expect("press a key");
}

/// The ids focused by pressing Tab from the top of the page until `until` has focus.
async fn tab_to(c: &fantoccini::Client, until: &str) -> Vec<String> {
    c.execute(
        "document.activeElement.blur(); window.scrollTo(0, 0);",
        vec![],
    )
    .await
    .unwrap();
    let mut seen = Vec::new();
    for _ in 0..60 {
        press(c, '\u{e004}').await;
        let id = c
            .execute(
                "return document.activeElement.id || document.activeElement.tagName;",
                vec![],
            )
            .await
            .unwrap();
        let id = id.as_str().unwrap_or_default().to_string();
        seen.push(id.clone());
        if id == until {
            return seen;
        }
    }
    panic!("Tab never reached #{until}: {seen:?}");
}

/// The accessible name a control gets from its `<label for>`.
async fn label_of(c: &fantoccini::Client, id: &str) -> String {
    c.execute(
        "var l = document.querySelector('label[for=\"' + arguments[0] + '\"]'); return l ? l.textContent : '';",
        vec![json!(id)],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_string()
}

both_backends!(setup_page_connects_an_idp, |backend| async move {
    let server = TestServer::start(backend).await;
    let origin = server.origin();
    cli_json(&server.db, &["tenant", "create", "globex"]);
    create_directory(&server.db, "okta", "okta-prod");
    let globex = cli_json(
        &server.db,
        &[
            "directory",
            "create",
            "--tenant",
            "globex",
            "--kind",
            "okta",
            "globex-okta",
        ],
    );
    let (url, link_id) = link(&server, &[], "okta-prod", "7d");

    let (status, headers, body) = fetch(&url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (name, want) in [
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
    ] {
        assert_eq!(headers[name], want, "{name}");
    }
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !body.contains("globex"),
        "another tenant's data on the page"
    );

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&url).await.unwrap();
    // Keyboard only: every control is reached by Tab, in order, and labelled.
    let order = tab_to(c, "reveal-token").await;
    let at = |id: &str| {
        order
            .iter()
            .position(|x| x == id)
            .unwrap_or_else(|| panic!("{id} not reached: {order:?}"))
    };
    assert!(
        at("idp") < at("show-guide") && at("show-guide") < at("scim-base-url"),
        "{order:?}"
    );
    assert!(at("scim-base-url") < at("reveal-token"), "{order:?}");
    for (id, words) in [
        ("idp", "Identity provider"),
        ("scim-base-url", "SCIM base URL"),
    ] {
        assert!(label_of(c, id).await.contains(words), "#{id} unlabelled");
    }

    // Pick Entra, then Okta: each shows its own steps, with this server's SCIM base URL.
    let base_url = format!("{origin}/scim/v2");
    for (idp, words) in [("entra", "Entra"), ("okta", "Okta")] {
        c.find(Locator::Id("idp"))
            .await
            .unwrap()
            .select_by_value(idp)
            .await
            .unwrap();
        let show = c.find(Locator::Id("show-guide")).await.unwrap();
        browser.click_and_wait(show).await;
        let guide = text_of(c, "guide").await;
        assert!(guide.contains(words), "{idp}: {guide}");
        assert!(
            guide.contains(&base_url),
            "{idp}: the guide names the real URL"
        );
    }
    assert_eq!(value_of(c, "scim-base-url").await, base_url);
    assert!(text_of(c, "first-request").await.contains("Waiting"));

    // Reveal with the keyboard: focus the button, press Enter.
    tab_to(c, "reveal-token").await;
    c.execute("window.__rosterOld = true;", vec![])
        .await
        .unwrap();
    press(c, '\u{e007}').await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let token = loop {
        if let Ok(e) = c.find(Locator::Id("scim-token")).await {
            break e.prop("value").await.unwrap().unwrap_or_default();
        }
        assert!(
            Instant::now() < deadline,
            "Enter on the button revealed no token"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(token.starts_with("roster_"), "{token}");

    // The IdP connects with that very token; the page says so without a reload.
    let pushed = server
        .client
        .with_token(&token)
        .post("/Users", &user_body("ada@example.com"))
        .await;
    assert_eq!(pushed.status, StatusCode::CREATED, "{}", pushed.body);
    // Another tenant's IdP at work at the same time never shows on this page.
    let other = server
        .client
        .with_token(globex["token"].as_str().unwrap())
        .post("/Users", &user_body("eve@globex.example"))
        .await;
    assert_eq!(other.status, StatusCode::CREATED);
    shows(c, "first-request", "First request received").await;
    let seen = shows(c, "requests", "201").await;
    snap(&browser, &screenshots(backend), "setup").await;
    assert!(seen.contains("POST") && seen.contains("/Users"), "{seen}");
    let (_, _, status_json) = fetch(&format!("{url}/status")).await;
    let status: Value = serde_json::from_str(&status_json).unwrap();
    assert_eq!(status["requests"].as_array().unwrap().len(), 1, "{status}");
    assert_eq!(status["state"], json!("linked"));
    assert!(!status_json.contains("eve@globex") && !status_json.contains(&token));

    // A second reveal through the same link is refused, in the browser and by a bare POST.
    c.goto(&url).await.unwrap();
    assert!(
        text_of(c, "token-revealed")
            .await
            .contains("ask whoever sent this link")
    );
    assert!(c.find(Locator::Id("reveal-token")).await.is_err());
    let html = fetch(&url).await.2;
    assert!(
        !html.contains("name=\"csrf\""),
        "no reveal form once revealed"
    );
    let http = reqwest::Client::new();
    let (fresh_url, _) = link(&server, &[], "okta-prod", "1h");
    let fresh = fetch(&fresh_url).await.2;
    let fresh_csrf = fresh.split("name=\"csrf\" value=\"").nth(1).unwrap()[..64].to_string();
    let forged = http
        .post(format!("{fresh_url}/token"))
        .form(&[("csrf", "0".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "a form without the link's CSRF token"
    );
    let other_link_csrf = http
        .post(format!("{url}/token"))
        .form(&[("csrf", fresh_csrf.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        other_link_csrf.status(),
        StatusCode::FORBIDDEN,
        "a CSRF token is bound to its link"
    );
    let first = http
        .post(format!("{fresh_url}/token"))
        .form(&[("csrf", fresh_csrf.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let again = http
        .post(format!("{fresh_url}/token"))
        .form(&[("csrf", fresh_csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("already revealed its token")
    );

    // Revoked, expired and unknown links: a refusal page that names no directory.
    roster(
        &server,
        &[],
        &["directory", "setup-link", "revoke", "okta-prod", &link_id],
    );
    let (short_url, _) = link(&server, &[], "okta-prod", "1s");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let unknown = format!("{origin}/setup/roster_setup_{}", "0".repeat(64));
    for (target, status, words) in [
        (url.clone(), StatusCode::GONE, "revoked"),
        (format!("{url}/status"), StatusCode::GONE, "revoked"),
        (short_url.clone(), StatusCode::GONE, "expired"),
        (unknown.clone(), StatusCode::NOT_FOUND, "not valid"),
        (
            format!("{origin}/setup/whatever"),
            StatusCode::NOT_FOUND,
            "not valid",
        ),
    ] {
        let (got, headers, body) = fetch(&target).await;
        assert_eq!(got, status, "{target}: {body}");
        assert!(body.contains(words), "{target}: {body}");
        assert!(!body.contains("okta-prod"), "{target} names the directory");
        assert_eq!(headers["referrer-policy"], "no-referrer");
    }
    c.goto(&url).await.unwrap();
    assert!(text_of(c, "refusal").await.contains("revoked"));
    let listed = roster(
        &server,
        &[],
        &["directory", "setup-link", "list", "okta-prod"],
    );
    let states: Vec<&str> = listed["setup_links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["expired", "live", "revoked"], "{listed}");
    for shown_once in [&url, &fresh_url, &short_url] {
        let secret = shown_once.rsplit('/').next().unwrap();
        assert!(
            !listed.to_string().contains(secret),
            "no secret in listings"
        );
    }
    browser.close().await;
});

both_backends!(setup_links_over_the_admin_api, |backend| async move {
    let server = TestServer::start(backend).await;
    let key = cli_json(&server.db, &["admin-key", "issue"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = server.api(&key);
    cli_json(&server.db, &["tenant", "create", "globex"]);
    let globex_dir = cli_json(
        &server.db,
        &[
            "directory",
            "create",
            "--tenant",
            "globex",
            "--kind",
            "okta",
            "g",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let globex_key = cli_json(&server.db, &["admin-key", "issue", "--tenant", "globex"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    let globex = server.api(&globex_key);
    let main = admin.get("/admin/directories").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == json!("main"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let links = format!("/admin/directories/{main}/setup-links");
    let (post, get, delete) = (Method::POST, Method::GET, Method::DELETE);
    let cases: Vec<(&Api, Method, String, Option<Value>, u16)> = vec![
        (&admin, post.clone(), links.clone(), None, 201),
        (
            &admin,
            post.clone(),
            links.clone(),
            Some(json!({"expires": "24h"})),
            201,
        ),
        (
            &admin,
            post.clone(),
            links.clone(),
            Some(json!({"expires": "0s"})),
            400,
        ),
        (
            &admin,
            post.clone(),
            links.clone(),
            Some(json!({"expires": "91d"})),
            400,
        ),
        (
            &admin,
            post.clone(),
            links.clone(),
            Some(json!({"expires": "soon"})),
            400,
        ),
        (
            &admin,
            post.clone(),
            links.clone(),
            Some(json!({"nonsense": 1})),
            400,
        ),
        (
            &admin,
            post.clone(),
            "/admin/directories/nope/setup-links".into(),
            None,
            404,
        ),
        (&globex, post.clone(), links.clone(), None, 404),
        (&globex, get.clone(), links.clone(), None, 404),
        (&admin, get.clone(), links.clone(), None, 200),
        (&admin, delete.clone(), format!("{links}/nope"), None, 404),
        (&admin, Method::PUT, links.clone(), None, 405),
    ];
    let mut answers = Vec::new();
    for (api, method, path, body, status) in cases {
        let r = api.send(method.clone(), &path, body.as_ref()).await;
        assert_eq!(
            r.status.as_u16(),
            status,
            "{method} {path} {body:?}: {}",
            r.body
        );
        answers.push(r);
    }
    let made = &answers[0].body;
    let url = made["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/setup/roster_setup_", server.origin())),
        "{made}"
    );
    assert_eq!(made["state"], json!("live"));
    assert!(made.get("secret_hash").is_none(), "{made}");
    let id = made["id"].as_str().unwrap();
    let listed = &answers[9].body["data"];
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert!(
        !listed.to_string().contains(url),
        "a URL is shown once: {listed}"
    );
    let day = &answers[1].body;
    assert!(
        day["expires_at"].as_str() < made["expires_at"].as_str(),
        "{day} {made}"
    );

    // Revoking: not through another tenant's key or another directory, then for real.
    for (api, path) in [
        (&globex, format!("{links}/{id}")),
        (
            &admin,
            format!("/admin/directories/{globex_dir}/setup-links/{id}"),
        ),
    ] {
        let r = api.send(delete.clone(), &path, None).await;
        assert_eq!(r.status.as_u16(), 404, "{path}: {}", r.body);
    }
    assert_eq!(fetch(url).await.0, StatusCode::OK);
    let revoked = admin.send(delete, &format!("{links}/{id}"), None).await;
    assert_eq!(revoked.status.as_u16(), 200, "{}", revoked.body);
    assert_eq!(revoked.body["state"], json!("revoked"));
    assert_eq!(fetch(url).await.0, StatusCode::GONE);
});

both_backends!(google_setup_checks_the_credentials, |backend| async move {
    let fake = FakeGoogle::start();
    seed(&fake);
    let env = google_env(&fake);
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = TestServer::start_with_env(backend, &env_refs).await;
    roster(
        &server,
        &env,
        &[
            "directory",
            "create",
            "--tenant",
            "acme",
            "--kind",
            "google",
            "gw",
        ],
    );
    let (url, _) = link(&server, &env, "gw", "7d");
    let dir = std::env::temp_dir().join(format!("roster-gsetup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_path = fake.key_file(&dir);
    let not_a_key = dir.join("notes.json");
    std::fs::write(
        &not_a_key,
        "{\"type\": \"authorized_user\", \"client_id\": \"x\"}",
    )
    .unwrap();

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&url).await.unwrap();
    assert!(
        text_of(c, "google-status")
            .await
            .contains("awaiting_credentials")
    );
    assert!(
        c.find(Locator::Id("reveal-token")).await.is_err(),
        "Google pulls: no token"
    );
    let order = tab_to(c, "check-google").await;
    for id in [
        "key-file",
        "service-account-key",
        "admin-email",
        "customer",
        "domain",
    ] {
        assert!(
            order.contains(&id.to_string()),
            "{id} not reached: {order:?}"
        );
        assert!(!label_of(c, id).await.is_empty(), "#{id} unlabelled");
    }

    // Each attempt: a file, an admin; what the page says.
    let cases = [
        (
            not_a_key.clone(),
            ADMIN,
            "google-problem",
            "not a Google service-account key",
        ),
        (
            key_path.clone(),
            "intern@example.com",
            "google-problem",
            "did not let the service account act as intern@example.com",
        ),
        (
            key_path.clone(),
            ADMIN,
            "google-ok",
            "Credentials check passed",
        ),
    ];
    for (file, admin, id, words) in cases {
        c.find(Locator::Id("key-file"))
            .await
            .unwrap()
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while value_of(c, "service-account-key").await.is_empty() {
            assert!(
                Instant::now() < deadline,
                "the file was not read into the form"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let admin_field = c.find(Locator::Id("admin-email")).await.unwrap();
        admin_field.clear().await.unwrap();
        admin_field.send_keys(admin).await.unwrap();
        let submit = c.find(Locator::Id("check-google")).await.unwrap();
        browser.click_and_wait(submit).await;
        let said = text_of(c, id).await;
        assert!(said.contains(words), "{admin}: {said}");
        if admin != ADMIN {
            // New credentials sync at once; the next attempt waits for this one's verdict, as
            // an admin reading the page would.
            shows(c, "google-status", "invalid_credentials").await;
        }
    }
    assert!(text_of(c, "google-checks").await.contains("ok"));
    // The server's scheduler syncs at once with the stored credentials; the page follows.
    shows(c, "google-status", "ok").await;
    shows(c, "first-request", "First request received").await;
    std::fs::remove_dir_all(&dir).unwrap();
    browser.close().await;
});

both_backends!(
    the_console_makes_and_revokes_setup_links,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let origin = server.origin();
        let key = cli_json(&server.db, &["admin-key", "issue"])["key"]
            .as_str()
            .unwrap()
            .to_string();
        let main = cli_json(&server.db, &["directory", "list"])["directories"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let page = format!("{origin}/admin/directories/{main}");
        let browser = Browser::start().await;
        let c = &browser.client;
        sign_in(&browser, &origin, &key).await;
        c.goto(&page).await.unwrap();
        assert!(
            label_of(c, "setup-link-expires")
                .await
                .contains("Works for")
        );
        c.find(Locator::Id("setup-link-expires"))
            .await
            .unwrap()
            .select_by_value("24h")
            .await
            .unwrap();
        let make = c.find(Locator::Id("create-setup-link")).await.unwrap();
        browser.click_and_wait(make).await;
        let url = value_of(c, "new-setup-link").await;
        assert!(
            url.starts_with(&format!("{origin}/setup/roster_setup_")),
            "{url}"
        );
        assert_eq!(fetch(&url).await.0, StatusCode::OK);

        c.goto(&page).await.unwrap();
        let row = c
            .find(Locator::Css("#setup-link-list tbody tr[data-setup-link]"))
            .await
            .unwrap();
        let listed = row.text().await.unwrap();
        assert!(
            listed.contains("live") && !listed.contains(&url[url.len() - 20..]),
            "{listed}"
        );
        let revoke = row
            .find(Locator::Css("button[aria-label^='Revoke setup link']"))
            .await
            .unwrap();
        browser.click_and_wait(revoke).await;
        let after = c
            .find(Locator::Css("#setup-link-list tbody tr[data-setup-link]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(after.contains("revoked"), "{after}");
        assert_eq!(fetch(&url).await.0, StatusCode::GONE);
        browser.close().await;
    }
);
