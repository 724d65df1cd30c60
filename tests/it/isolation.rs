//! A token of one directory can neither see nor change another directory's data, and an
//! application key of one tenant finds nothing of another's on any `/api/v1` route.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::events::app_key;
use crate::support::*;
use crate::users::urlencode;

/// `roster directory create --tenant TENANT --kind okta NAME`, with its token.
fn create_directory_in(db: &TestDb, tenant: &str, name: &str) -> Value {
    cli_json(
        db,
        &[
            "directory",
            "create",
            "--tenant",
            tenant,
            "--kind",
            "okta",
            name,
        ],
    )
}

both_backends!(directories_are_isolated, |backend| async move {
    let server = TestServer::start(backend).await;
    let a = &server.client;
    cli_json(&server.db, &["tenant", "create", "globex"]);
    let other = cli_json(
        &server.db,
        &[
            "directory",
            "create",
            "--tenant",
            "globex",
            "--kind",
            "okta",
            "okta-main",
        ],
    );
    let b = a.with_token(other["token"].as_str().unwrap());

    let user = a
        .post("/Users", &user_body("shared@example.com"))
        .await
        .id();
    let group = a
        .post("/Groups", &group_body("A-team", &[&user]))
        .await
        .id();

    // The same userName is free in another directory.
    let b_user = b.post("/Users", &user_body("shared@example.com")).await;
    assert_eq!(b_user.status, StatusCode::CREATED);

    for path in [format!("/Users/{user}"), format!("/Groups/{group}")] {
        assert_eq!(b.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            b.delete(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        let patched = b
            .patch(
                &path,
                &patch_body(json!([{"op": "replace", "path": "displayName", "value": "pwned"}])),
            )
            .await;
        assert_eq!(patched.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        b.put(&format!("/Users/{user}"), &user_body("x@example.com"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = b
        .get(&format!(
            "/Users?filter={}",
            urlencode(r#"userName eq "shared@example.com""#)
        ))
        .await;
    assert_eq!(listed.body["totalResults"], json!(1));
    assert_eq!(listed.body["Resources"][0]["id"], b_user.body["id"]);
    assert_eq!(b.get("/Groups").await.body["totalResults"], json!(0));
    // B cannot pull A's user into its own group.
    let stolen = b.post("/Groups", &group_body("B-team", &[&user])).await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);

    let a_user = a.get(&format!("/Users/{user}")).await;
    assert_eq!(a_user.status, StatusCode::OK);
    assert_eq!(a_user.body["displayName"], json!("Babs Jensen"));
    assert_eq!(a.get("/Users").await.body["totalResults"], json!(1));
});

both_backends!(
    an_application_key_reads_only_its_tenants_data,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let a = &server.client;
        let user = a
            .post("/Users", &user_body("shared@example.com"))
            .await
            .id();
        let group = a
            .post("/Groups", &group_body("A-team", &[&user]))
            .await
            .id();
        let hook = cli_json(
            &server.db,
            &[
                "webhook",
                "create",
                "--url",
                "https://hooks.example.com/acme",
                "--tenant",
                "acme",
            ],
        )["id"]
            .as_str()
            .unwrap()
            .to_string();
        cli_json(&server.db, &["tenant", "create", "globex"]);
        let theirs = create_directory_in(&server.db, "globex", "gx");
        a.with_token(theirs["token"].as_str().unwrap())
            .post("/Users", &user_body("shared@example.com"))
            .await;
        let everyone = server.api(&app_key(&server.db, None));
        let tenant = cli_json(&server.db, &["tenant", "list"])["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == json!("acme"))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let dir = everyone.get(&format!("/users/{user}")).await.body["directory_id"]
            .as_str()
            .unwrap()
            .to_string();
        let globex = server.api(&app_key(&server.db, Some("globex")));

        let get = Method::GET;
        let routes: Vec<(Method, String, Option<Value>)> = vec![
            (get.clone(), format!("/directories/{dir}"), None),
            (get.clone(), format!("/directories/{dir}/users"), None),
            (get.clone(), format!("/directories/{dir}/groups"), None),
            (get.clone(), format!("/directories/{dir}/snapshot"), None),
            (
                get.clone(),
                format!("/directories?tenant_id={tenant}"),
                None,
            ),
            (get.clone(), format!("/users/{user}"), None),
            (get.clone(), format!("/users/{user}/groups"), None),
            (
                get.clone(),
                format!("/users?email=shared%40example.com&tenant_id={tenant}"),
                None,
            ),
            (get.clone(), format!("/groups/{group}"), None),
            (get.clone(), format!("/groups/{group}/users"), None),
            (get.clone(), format!("/events?directory_id={dir}"), None),
            (get.clone(), format!("/events?tenant_id={tenant}"), None),
            (get.clone(), format!("/webhooks/{hook}"), None),
            (get.clone(), format!("/webhooks/{hook}/deliveries"), None),
            (
                Method::PATCH,
                format!("/webhooks/{hook}"),
                Some(json!({"enabled": false})),
            ),
            (
                Method::POST,
                format!("/webhooks/{hook}/rotate-secret"),
                Some(json!({})),
            ),
            (
                Method::POST,
                format!("/webhooks/{hook}/test"),
                Some(json!({})),
            ),
            (
                Method::POST,
                format!("/webhooks/{hook}/replay"),
                Some(json!({"from": "0"})),
            ),
            (Method::DELETE, format!("/webhooks/{hook}"), None),
        ];
        for (method, path, body) in &routes {
            let r = globex.send(method.clone(), path, body.as_ref()).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{method} {path}: {}",
                r.body
            );
            assert_eq!(
                r.body["error"]["code"],
                json!("not_found"),
                "{method} {path}"
            );
        }
        // What tenant B's lists show holds none of A's records.
        for path in [
            "/directories".to_string(),
            "/users?email=shared%40example.com".to_string(),
            "/webhooks".to_string(),
        ] {
            let r = globex.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            let text = r.body.to_string();
            for a_id in [&dir, &user, &hook] {
                assert!(!text.contains(a_id.as_str()), "{path} shows {a_id}");
            }
        }
        for (method, path, _) in routes.iter().filter(|(m, _, _)| m == Method::GET) {
            let r = everyone.get(path).await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "the global key: {method} {path}: {}",
                r.body
            );
        }
        let both = everyone.get("/users?email=shared%40example.com").await;
        assert_eq!(both.body["data"].as_array().unwrap().len(), 2);
    }
);
