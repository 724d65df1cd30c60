//! Bad input gets the right SCIM error, and nothing stored is lost.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::support::*;

both_backends!(bad_requests_get_scim_errors, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let existing = c.post("/Users", &user_body("taken@example.com")).await;
    assert_eq!(existing.status, StatusCode::CREATED);
    let id = existing.id();
    let user_path = format!("/Users/{id}");
    let huge = format!(
        "{{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let cases: Vec<(Method, String, String, u16, Option<&str>)> = vec![
        (Method::POST, "/Users".into(), "{not json".into(), 400, Some("invalidSyntax")),
        (Method::POST, "/Users".into(), json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "x"}).to_string(), 400, Some("invalidValue")),
        (Method::POST, "/Users".into(), json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@b.c", "active": "yes"}).to_string(), 400, Some("invalidValue")),
        (Method::POST, "/Users".into(), json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": 42}).to_string(), 400, Some("invalidValue")),
        (Method::POST, "/Users".into(), user_body("TAKEN@example.com").to_string(), 409, Some("uniqueness")),
        (Method::POST, "/Users".into(), huge, 413, None),
        (Method::PUT, user_path.clone(), json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "taken@example.com", "name": "not an object"}).to_string(), 400, Some("invalidValue")),
        (Method::PATCH, user_path.clone(), json!({"Operations": []}).to_string(), 400, Some("invalidValue")),
        (Method::PATCH, user_path.clone(), patch_body(json!([{"op": "replace", "path": "nosuch", "value": 1}])).to_string(), 400, Some("invalidPath")),
        (Method::PATCH, user_path.clone(), patch_body(json!([{"op": "remove"}])).to_string(), 400, Some("noTarget")),
        (Method::PATCH, user_path.clone(), patch_body(json!([{"op": "replace", "path": "active", "value": "maybe"}])).to_string(), 400, Some("invalidValue")),
        (Method::GET, "/Users/does-not-exist".into(), String::new(), 404, None),
        (Method::PUT, "/Users/does-not-exist".into(), user_body("z@example.com").to_string(), 404, None),
        (Method::GET, "/Users?filter=userName%20eq".into(), String::new(), 400, Some("invalidFilter")),
        (Method::GET, "/Users?filter=nosuch%20eq%20%22x%22".into(), String::new(), 400, Some("invalidFilter")),
        (Method::GET, "/Nowhere".into(), String::new(), 404, None),
        (Method::PUT, "/Users".into(), user_body("m@example.com").to_string(), 405, None),
        (Method::DELETE, "/Groups".into(), String::new(), 405, None),
        (Method::POST, user_path.clone(), user_body("m@example.com").to_string(), 405, None),
        (Method::GET, "/Users/.search".into(), String::new(), 405, None),
    ];
    for (method, path, body, status, scim_type) in cases {
        let r = c.raw(method.clone(), &path, &body).await;
        let label = format!(
            "{method} {path} {}",
            &body.chars().take(80).collect::<String>()
        );
        assert_eq!(r.status.as_u16(), status, "{label}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            Some("application/scim+json"),
            "{label}"
        );
        assert_eq!(
            r.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
            "{label}"
        );
        assert_eq!(r.body["status"], json!(status.to_string()), "{label}");
        assert_eq!(
            r.body["scimType"].as_str(),
            scim_type,
            "{label}: {}",
            r.body
        );
        assert!(
            r.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{label}"
        );
    }
    let after = c.get(&user_path).await;
    assert_eq!(
        after.body["meta"]["version"], existing.body["meta"]["version"],
        "failed writes changed nothing"
    );
    assert_eq!(after.body["name"], existing.body["name"]);
    let list = c.get("/Users").await;
    assert_eq!(list.body["totalResults"], json!(1));
});

both_backends!(bad_and_revoked_tokens_get_401, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    for token in [
        "",
        "nonsense",
        "roster_0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let r = c.with_token(token).get("/Users").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert!(
            r.header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer"))
        );
        assert_eq!(
            r.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
    }
    let issued = cli_json(&server.db, &["token", "issue", "--directory", "main"]);
    let second = issued["token"].as_str().unwrap();
    assert_eq!(
        c.with_token(second).get("/Users").await.status,
        StatusCode::OK
    );
    let revoked = cli(
        &server.db,
        &["token", "revoke", issued["id"].as_str().unwrap()],
    );
    assert!(revoked.status.success());
    // A live token is trusted for a second (`token::RECHECK_AFTER`) without asking the database.
    let revoked_at = std::time::Instant::now();
    loop {
        let status = c.with_token(second).get("/Users").await.status;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            revoked_at.elapsed() < std::time::Duration::from_millis(1500),
            "a revoked token was still accepted {:?} after revocation",
            revoked_at.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        c.get("/Users").await.status,
        StatusCode::OK,
        "other tokens keep working"
    );
});

/// Sends `head` as is over a fresh connection and reads the whole answer, as text.
async fn raw_exchange(base: &str, head: Vec<u8>) -> String {
    let addr = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        stream.write_all(&head).expect("the request is sent");
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .expect("an answer, not a reset connection");
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap()
}

both_backends!(malformed_http_gets_an_answer, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let target = "/scim/v2/Users";
    let auth = format!("Authorization: Bearer {}\r\n", c.token);
    let big = |n: usize| format!("X-Big: {}\r\n", "a".repeat(n));
    // (what is sent, its head less the request line, status, a SCIM error body)
    let cases: Vec<(&str, String, u16, bool)> = vec![
        ("a 100 KB header", big(100 * 1024), 431, true),
        (
            "many medium headers",
            (0..40)
                .map(|i| format!("X-H{i}: {}\r\n", "b".repeat(2000)))
                .collect(),
            431,
            true,
        ),
        ("a header just under the limit", big(60 * 1024), 200, false),
        (
            "a header without a colon",
            "Bad Header\r\n".into(),
            400,
            false,
        ),
    ];
    for (what, headers, status, scim) in cases {
        let head =
            format!("GET {target} HTTP/1.1\r\nHost: x\r\n{auth}{headers}Connection: close\r\n\r\n");
        let answer = raw_exchange(&c.base, head.into_bytes()).await;
        let status_line = answer.lines().next().unwrap_or_default();
        assert!(
            status_line.starts_with(&format!("HTTP/1.1 {status} ")),
            "{what}: {status_line}"
        );
        if scim {
            let (head, body) = answer.split_once("\r\n\r\n").unwrap();
            assert!(
                head.to_ascii_lowercase()
                    .contains("content-type: application/scim+json"),
                "{what}: {head}"
            );
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(
                body["schemas"],
                json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
            );
            assert_eq!(body["status"], json!(status.to_string()), "{what}");
            assert!(
                body["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{what}"
            );
        }
    }
    // actix-http answers a request line it cannot parse itself, before Roster sees it: a 400,
    // with no body.
    let answer = raw_exchange(&c.base, b"GARBAGE\r\n\r\n".to_vec()).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
});
