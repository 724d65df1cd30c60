//! The admin console under /admin, in headless Chromium and over plain HTTP, on both
//! backends: signing in (and being refused), no page or form without a session and its CSRF
//! token, making a directory and a token, a user pushed over SCIM appearing, the live events
//! page, rotating a token, paging a group of 2,500 members, and a tenant's key that sees its
//! tenant only. With ROSTER_CONSOLE_SCREENSHOTS=DIR set, the SQLite run saves the main pages
//! as PNGs there at laptop and phone size (scripts/console-screenshots.sh).

use std::time::{Duration, Instant};

use fantoccini::Locator;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;

fn admin_key(db: &TestDb, extra: &[&str]) -> String {
    let mut args = vec!["admin-key", "issue"];
    args.extend_from_slice(extra);
    cli_json(db, &args)["key"]
        .as_str()
        .expect("key")
        .to_string()
}

/// A plain HTTP client of the console that follows no redirects, to see them.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The value a response's `Set-Cookie` gives cookie `name`.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

/// The first `name="csrf"` value of a page.
fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..at + 64].to_string()
}

/// Signs in over HTTP with `key`: the session cookie, and the CSRF token of its forms.
async fn sign_in_http(origin: &str, key: &str) -> Result<(String, String), StatusCode> {
    let client = http();
    let form = client
        .get(format!("{origin}/admin/sign-in"))
        .send()
        .await
        .unwrap();
    let pre = set_cookie(&form, "roster_sign_in").expect("sign-in cookie");
    let csrf = csrf_in(&form.text().await.unwrap());
    let r = client
        .post(format!("{origin}/admin/sign-in"))
        .header(COOKIE, format!("roster_sign_in={pre}"))
        .form(&[("csrf", csrf.as_str()), ("key", key)])
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::SEE_OTHER {
        return Err(r.status());
    }
    let cookie = set_cookie(&r, "roster_session").expect("session cookie");
    let page = client
        .get(format!("{origin}/admin/tenants"))
        .header(COOKIE, format!("roster_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = csrf_in(&page.text().await.unwrap());
    Ok((cookie, csrf))
}

both_backends!(
    no_page_or_form_without_a_session_and_its_csrf_token,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let origin = server.origin();
        let key = admin_key(&server.db, &[]);
        let directory = create_directory(&server.db, "okta", "other")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let client = http();

        // Without a session every page and form sends the browser to sign in.
        let pages = [
            "/admin",
            "/admin/tenants",
            "/admin/directories",
            &format!("/admin/directories/{directory}"),
            &format!("/admin/directories/{directory}/users"),
            &format!("/admin/directories/{directory}/requests/export"),
            "/admin/events",
            "/admin/events/poll?after=0",
            "/admin/webhooks",
            "/admin/no-such-page",
        ];
        for path in pages {
            let r = client.get(format!("{origin}{path}")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "GET {path}");
            assert_eq!(r.headers()[LOCATION], "/admin/sign-in", "GET {path}");
        }
        let r = client
            .post(format!("{origin}/admin/tenants"))
            .form(&[("name", "sneaky")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        // A wrong key, a key of another kind, and a revoked key are refused alike.
        let issued = cli_json(&server.db, &["admin-key", "issue"]);
        let revoked = issued["key"].as_str().unwrap().to_string();
        let revoked_id = issued["id"].as_str().unwrap().to_string();
        cli_json(&server.db, &["admin-key", "revoke", &revoked_id]);
        // The right key with its last digit changed.
        let last = if key.ends_with('0') { '1' } else { '0' };
        let wrong = format!("{}{last}", &key[..key.len() - 1]);
        for refused in [
            wrong.as_str(),
            server.client.token.as_str(),
            revoked.as_str(),
            "",
        ] {
            assert_eq!(
                sign_in_http(&origin, refused).await,
                Err(StatusCode::UNAUTHORIZED),
                "{refused}"
            );
        }

        // Signed in: a form without the session's CSRF token, or with another's, is refused.
        let (cookie, csrf) = sign_in_http(&origin, &key).await.expect("signed in");
        let (_, other_csrf) = sign_in_http(&origin, &key).await.expect("signed in again");
        let post = |form: Vec<(&'static str, String)>| {
            client
                .post(format!("{origin}/admin/tenants"))
                .header(COOKIE, format!("roster_session={cookie}"))
                .form(&form)
                .send()
        };
        let cases = [
            (vec![("name", "t1".to_string())], StatusCode::FORBIDDEN),
            (
                vec![("name", "t2".to_string()), ("csrf", other_csrf.clone())],
                StatusCode::FORBIDDEN,
            ),
            (
                vec![("name", "t3".to_string()), ("csrf", String::new())],
                StatusCode::FORBIDDEN,
            ),
            (
                vec![("name", "t4".to_string()), ("csrf", csrf.clone())],
                StatusCode::SEE_OTHER,
            ),
        ];
        for (form, status) in cases {
            assert_eq!(
                post(form.clone()).await.unwrap().status(),
                status,
                "{form:?}"
            );
        }
        let tenants = cli_json(&server.db, &["tenant", "list"]).to_string();
        assert!(
            tenants.contains("t4") && !tenants.contains("\"t1\""),
            "{tenants}"
        );

        // The session cookie is kept from scripts and other sites.
        let form = client
            .get(format!("{origin}/admin/sign-in"))
            .send()
            .await
            .unwrap();
        let header = form.headers()[SET_COOKIE].to_str().unwrap().to_string();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
            assert!(header.contains(attribute), "{header}");
        }

        // Signing out ends the session on the server, not only in the browser.
        let r = client
            .post(format!("{origin}/admin/sign-out"))
            .header(COOKIE, format!("roster_session={cookie}"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = client
            .get(format!("{origin}/admin/tenants"))
            .header(COOKIE, format!("roster_session={cookie}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
);

both_backends!(
    a_revoked_admin_key_ends_its_sessions,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let origin = server.origin();
        let issued = cli_json(&server.db, &["admin-key", "issue"]);
        let key = issued["key"].as_str().unwrap();
        let (cookie, _) = sign_in_http(&origin, key).await.expect("signed in");
        cli_json(
            &server.db,
            &["admin-key", "revoke", issued["id"].as_str().unwrap()],
        );
        let r = http()
            .get(format!("{origin}/admin/tenants"))
            .header(COOKIE, format!("roster_session={cookie}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
);

/// Where screenshots go, for the SQLite run only (one set is enough).
pub fn screenshots(backend: Backend) -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("ROSTER_CONSOLE_SCREENSHOTS")?;
    (backend == Backend::Sqlite).then(|| std::path::PathBuf::from(dir))
}

/// Saves the current page as `NAME.png` at laptop size and `NAME-phone.png` at phone size.
pub async fn snap(browser: &Browser, dir: &Option<std::path::PathBuf>, name: &str) {
    let Some(dir) = dir else { return };
    std::fs::create_dir_all(dir).unwrap();
    let c = &browser.client;
    for (suffix, (w, h)) in [("", (1280, 860)), ("-phone", (390, 844))] {
        c.set_window_size(w, h).await.unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}{suffix}.png")), png).unwrap();
    }
    c.set_window_size(1280, 860).await.unwrap();
}

pub async fn sign_in(browser: &Browser, origin: &str, key: &str) {
    let c = &browser.client;
    c.goto(&format!("{origin}/admin/sign-in")).await.unwrap();
    c.find(Locator::Id("key"))
        .await
        .unwrap()
        .send_keys(key)
        .await
        .unwrap();
    let submit = c.find(Locator::Css("button[type=submit]")).await.unwrap();
    browser.click_and_wait(submit).await;
}

async fn text_of(browser: &Browser, css: &str) -> String {
    browser
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn path_now(browser: &Browser) -> String {
    browser
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .to_string()
}

/// Waits up to 10 s for `css` to show `text`.
async fn wait_for_text(browser: &Browser, css: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let shown = text_of(browser, css).await;
        if shown.contains(text) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never showed {text}: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `count` users made over SCIM /Bulk; their ids.
async fn many_users(scim: &Client, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(1000) {
        let ops: Vec<Value> = chunk
            .iter()
            .map(|i| {
                json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                       "data": user_body(&format!("member{i:05}@example.com"))})
            })
            .collect();
        let r = scim
            .post(
                "/Bulk",
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                        "Operations": ops}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for op in r.body["Operations"].as_array().unwrap() {
            assert_eq!(op["status"], json!("201"), "{op}");
            let location = op["location"].as_str().unwrap();
            ids.push(location.rsplit('/').next().unwrap().to_string());
        }
    }
    ids
}

both_backends!(
    an_operator_makes_a_directory_and_watches_it_fill,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let origin = server.origin();
        let key = admin_key(&server.db, &[]);
        let shots = screenshots(backend);
        let browser = Browser::start().await;
        let c = &browser.client;

        // Nothing but the sign-in page without a session; a wrong key is refused.
        c.goto(&format!("{origin}/admin/directories"))
            .await
            .unwrap();
        assert_eq!(path_now(&browser).await, "/admin/sign-in");
        snap(&browser, &shots, "sign-in").await;
        sign_in(&browser, &origin, "roster_admin_0000").await;
        assert!(text_of(&browser, "#refused").await.contains("refused"));
        sign_in(&browser, &origin, &key).await;
        assert_eq!(path_now(&browser).await, "/admin/tenants");
        assert!(text_of(&browser, "main").await.contains("acme"));
        snap(&browser, &shots, "tenants").await;

        // A new directory; its first token is shown once.
        c.goto(&format!("{origin}/admin/directories"))
            .await
            .unwrap();
        c.find(Locator::Id("directory-name"))
            .await
            .unwrap()
            .send_keys("okta-prod")
            .await
            .unwrap();
        c.find(Locator::Id("directory-kind"))
            .await
            .unwrap()
            .select_by_value("okta")
            .await
            .unwrap();
        let create = c.find(Locator::Css("section form button")).await.unwrap();
        browser.click_and_wait(create).await;
        let first = c
            .find(Locator::Id("new-token"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .expect("a token");
        assert!(first.starts_with("roster_"), "{first}");
        let directory_page = c
            .find(Locator::Css(".crumbs a"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .expect("the directory's link");

        // Another token from the directory's page.
        c.goto(&format!("{origin}{directory_page}")).await.unwrap();
        let issue = c.find(Locator::Id("issue-token")).await.unwrap();
        browser.click_and_wait(issue).await;
        let token = c
            .find(Locator::Id("new-token"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .expect("a token");
        assert_ne!(token, first);
        // Shown once: the directory's page lists prefixes only.
        c.goto(&format!("{origin}{directory_page}")).await.unwrap();
        let listed = text_of(&browser, "#token-list").await;
        assert!(
            !listed.contains(&token) && listed.contains(&token[..13]),
            "{listed}"
        );

        // A user pushed over SCIM appears live on the events page, then on the users page.
        c.goto(&format!("{origin}/admin/events")).await.unwrap();
        let scim = server.client.with_token(&token);
        let pushed = scim.post("/Users", &user_body("ada@example.com")).await;
        assert_eq!(pushed.status, StatusCode::CREATED, "{}", pushed.body);
        wait_for_text(&browser, "#events tbody", "ada@example.com").await;
        snap(&browser, &shots, "events").await;
        c.goto(&format!("{origin}{directory_page}/users"))
            .await
            .unwrap();
        assert!(
            text_of(&browser, "table.people")
                .await
                .contains("ada@example.com")
        );
        c.find(Locator::Id("q"))
            .await
            .unwrap()
            .send_keys("ADA@example.com")
            .await
            .unwrap();
        let search = c
            .find(Locator::Css("form[role=search] button"))
            .await
            .unwrap();
        browser.click_and_wait(search).await;
        assert!(
            text_of(&browser, "table.people")
                .await
                .contains("ada@example.com")
        );
        snap(&browser, &shots, "users").await;

        // Rotating a token: a new one at once, the old one for the overlap.
        c.goto(&format!("{origin}{directory_page}")).await.unwrap();
        let row = c
            .find(Locator::XPath(&format!(
                "//tr[td/code[starts-with(., '{}')]]",
                &token[..13]
            )))
            .await
            .unwrap();
        row.find(Locator::Css("select"))
            .await
            .unwrap()
            .select_by_value("1h")
            .await
            .unwrap();
        let rotate = row
            .find(Locator::XPath(".//button[text()='Rotate']"))
            .await
            .unwrap();
        browser.click_and_wait(rotate).await;
        let rotated = c
            .find(Locator::Id("new-token"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .expect("a token");
        assert!(
            text_of(&browser, "#rotation-note")
                .await
                .contains("works until")
        );
        for t in [&rotated, &token] {
            let r = server.client.with_token(t).get("/Users").await;
            assert_eq!(r.status, StatusCode::OK, "{t}");
        }

        // A group of 2,500 members pages to its end, 100 at a time.
        let ids = many_users(&scim, 2_500).await;
        let members: Vec<&str> = ids.iter().map(String::as_str).collect();
        let group = scim
            .post("/Groups", &group_body("everyone", &members))
            .await;
        assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
        c.goto(&format!("{origin}{directory_page}/groups/{}", group.id()))
            .await
            .unwrap();
        snap(&browser, &shots, "group").await;
        let (mut seen, mut pages) = (std::collections::HashSet::new(), 0);
        loop {
            pages += 1;
            for cell in c
                .find_all(Locator::Css("table.people tbody tr td:first-child"))
                .await
                .unwrap()
            {
                seen.insert(cell.text().await.unwrap());
            }
            match c.find(Locator::Id("next")).await {
                Ok(next) => browser.click_and_wait(next).await,
                Err(_) => break,
            }
        }
        assert_eq!(seen.len(), 2_500, "members seen over {pages} pages");
        assert_eq!(pages, 25);

        // The directories page counts them.
        c.goto(&format!("{origin}/admin/directories"))
            .await
            .unwrap();
        let listed = text_of(&browser, "#directories").await;
        assert!(
            listed.contains("okta-prod") && listed.contains("2501"),
            "{listed}"
        );
        snap(&browser, &shots, "directories").await;
        c.goto(&format!("{origin}{directory_page}")).await.unwrap();
        snap(&browser, &shots, "directory").await;
        // The request log is written in batches: its newest entries may take a moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            c.goto(&format!("{origin}{directory_page}/requests"))
                .await
                .unwrap();
            let log = text_of(&browser, "main table").await;
            if log.contains("POST /Bulk") || log.contains("POST /scim/v2/Bulk") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the request log shows no Bulk: {log}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        snap(&browser, &shots, "requests").await;
        browser.close().await;
    }
);

both_backends!(
    a_tenants_admin_key_sees_its_tenant_only,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let origin = server.origin();
        cli_json(&server.db, &["tenant", "create", "beta"]);
        cli_json(
            &server.db,
            &[
                "directory",
                "create",
                "--tenant",
                "beta",
                "--kind",
                "entra",
                "beta-entra",
            ],
        );
        let main_id = cli_json(&server.db, &["directory", "list", "--tenant", "acme"])["directories"]
        [0]["id"]
        .as_str()
        .expect("acme's directory")
        .to_string();
        let key = admin_key(&server.db, &["--tenant", "beta"]);
        let browser = Browser::start().await;
        let c = &browser.client;
        sign_in(&browser, &origin, &key).await;
        let tenants = text_of(&browser, "main").await;
        assert!(
            tenants.contains("beta") && !tenants.contains("acme"),
            "{tenants}"
        );
        c.goto(&format!("{origin}/admin/directories"))
            .await
            .unwrap();
        let listed = text_of(&browser, "#directories").await;
        assert!(
            listed.contains("beta-entra") && !listed.contains("main"),
            "{listed}"
        );
        // acme's directory is not found, exactly like one that does not exist.
        for path in [
            format!("/admin/directories/{main_id}"),
            format!("/admin/directories/{main_id}/users"),
            "/admin/directories/nonexistent".to_string(),
        ] {
            c.goto(&format!("{origin}{path}")).await.unwrap();
            assert!(text_of(&browser, "h1").await.contains("404"), "{path}");
        }
        browser.close().await;
    }
);

both_backends!(
    the_request_log_exports_for_replay_by_status,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let origin = server.origin();
        let key = admin_key(&server.db, &[]);
        let directory = cli_json(&server.db, &["directory", "list", "--tenant", "acme"])
        ["directories"][0]["id"]
        .as_str()
        .expect("acme's directory")
        .to_string();
        let created = server
            .client
            .post("/Users", &user_body("ada@example.com"))
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let taken = server
            .client
            .post("/Users", &user_body("ada@example.com"))
            .await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
        let (cookie, _) = sign_in_http(&origin, &key).await.expect("signed in");
        let export = |status: &'static str| {
            http()
                .get(format!(
                    "{origin}/admin/directories/{directory}/requests/export?status={status}"
                ))
                .header(COOKIE, format!("roster_session={cookie}"))
                .send()
        };
        // The request log is written in batches: wait for both entries.
        let deadline = Instant::now() + Duration::from_secs(10);
        let all = loop {
            let r = export("").await.unwrap();
            if r.status() == StatusCode::OK {
                let disposition = r.headers()["content-disposition"].to_str().unwrap();
                assert!(disposition.starts_with("attachment"), "{disposition}");
                let sequence: Value = r.json().await.unwrap();
                if sequence["steps"].as_array().map_or(0, Vec::len) == 2 {
                    break sequence;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the export never held both requests"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let expected: Vec<&Value> = all["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["expect"]["status"])
            .collect();
        assert_eq!(expected, [&json!(201), &json!(409)]);
        assert_eq!(all["kind"], json!("generic"));
        let failed: Value = export("4xx").await.unwrap().json().await.unwrap();
        let steps = failed["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 1, "{failed}");
        assert_eq!(steps[0]["expect"]["status"], json!(409));
        assert_eq!(
            export("5xx").await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "nothing to export"
        );
    }
);

both_backends!(
    a_failed_webhook_delivery_is_retried_from_its_page,
    |backend| async move {
        let receiver = crate::receiver::Receiver::start();
        receiver.set_status(500);
        let server = TestServer::start_with_env(
            backend,
            &[
                ("ROSTER_ALLOW_HTTP_WEBHOOKS", "1"),
                ("ROSTER_ALLOW_PRIVATE_WEBHOOK_TARGETS", "1"),
            ],
        )
        .await;
        let origin = server.origin();
        let key = admin_key(&server.db, &[]);
        let made = server
            .api(&key)
            .send(
                reqwest::Method::POST,
                "/admin/webhooks",
                Some(&json!({"url": receiver.url(), "types": ["user.created"]})),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
        let endpoint = made.body["id"].as_str().unwrap().to_string();
        let pushed = server
            .client
            .post("/Users", &user_body("ada@example.com"))
            .await;
        assert_eq!(pushed.status, StatusCode::CREATED);
        let (cookie, csrf) = sign_in_http(&origin, &key).await.expect("signed in");
        let page = |query: &'static str| {
            http()
                .get(format!("{origin}/admin/webhooks/{endpoint}{query}"))
                .header(COOKIE, format!("roster_session={cookie}"))
                .send()
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let cursor = loop {
            let html = page("?failed=true").await.unwrap().text().await.unwrap();
            if let Some(at) = html.find("name=\"cursor\" value=\"") {
                let rest = &html[at + 21..];
                break rest[..rest.find('"').unwrap()].to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no failed delivery shown: {html}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        receiver.set_status(200);
        let retried = http()
            .post(format!("{origin}/admin/webhooks/{endpoint}/retry"))
            .header(COOKIE, format!("roster_session={cookie}"))
            .form(&[("csrf", csrf.as_str()), ("cursor", cursor.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(retried.status(), StatusCode::OK);
        let html = retried.text().await.unwrap();
        assert!(html.contains("sent again and delivered"), "{html}");
        let delivered = receiver.accepted();
        assert!(
            delivered
                .iter()
                .any(|r| r.json()["type"] == json!("user.created")),
            "the receiver accepted no user.created"
        );
        let html = page("").await.unwrap().text().await.unwrap();
        assert!(html.contains("succeeded"), "{html}");
    }
);

// A directory's page shows what shapes its users' records beyond the IdP's data: the tenant's
// roles with the groups that grant them, and the directory's custom attributes.
both_backends!(
    a_directory_page_shows_its_roles_and_custom_attributes,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let origin = server.origin();
        let key = admin_key(&server.db, &[]);
        let directory = create_directory(&server.db, "okta", "people")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let browser = Browser::start().await;
        sign_in(&browser, &origin, &key).await;
        let page = format!("{origin}/admin/directories/{directory}");
        browser.client.goto(&page).await.unwrap();
        assert!(
            text_of(&browser, "section[aria-labelledby=roles]")
                .await
                .contains("No roles")
        );
        assert!(
            text_of(&browser, "section[aria-labelledby=attributes]")
                .await
                .contains("None")
        );

        for args in [
            &[
                "role",
                "create",
                "--tenant",
                "acme",
                "admin",
                "--name",
                "Administrator",
                "--priority",
                "10",
            ][..],
            &[
                "role",
                "rule",
                "add",
                "--tenant",
                "acme",
                "admin",
                "--match",
                "name",
                "Platform Ünit",
            ],
            &[
                "directory",
                "attribute",
                "add",
                &directory,
                "cost_center",
                "--source",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
            ],
        ] {
            cli_json(&server.db, args);
        }
        browser.client.goto(&page).await.unwrap();
        let roles = text_of(&browser, "section[aria-labelledby=roles]").await;
        for shown in ["admin", "Administrator", "10", "name: Platform Ünit"] {
            assert!(roles.contains(shown), "{shown} in {roles}");
        }
        let attributes = text_of(&browser, "section[aria-labelledby=attributes]").await;
        for shown in ["cost_center", "scim", "enterprise:2.0:User:costCenter"] {
            assert!(attributes.contains(shown), "{shown} in {attributes}");
        }
        let roles_section = browser
            .client
            .find(Locator::Css("section[aria-labelledby=roles]"))
            .await
            .unwrap();
        browser
            .client
            .execute(
                "arguments[0].scrollIntoView()",
                vec![serde_json::to_value(&roles_section).unwrap()],
            )
            .await
            .unwrap();
        snap(&browser, &screenshots(backend), "directory-roles").await;
        browser.close().await;
    }
);
