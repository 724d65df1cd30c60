//! A token of one directory can neither see nor change another directory's data.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::support::*;
use crate::users::urlencode;

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
