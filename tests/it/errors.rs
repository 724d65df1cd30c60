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
