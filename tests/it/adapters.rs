//! The directory's kind picks its IdP adapter: tolerance for one IdP never loosens another.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::support::*;

both_backends!(
    entra_string_booleans_and_204_only_for_entra,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let generic = &server.client;
        let dir = cli_json(
            &server.db,
            &[
                "directory",
                "create",
                "--tenant",
                "acme",
                "--kind",
                "entra",
                "azure",
            ],
        );
        let entra = generic.with_token(dir["token"].as_str().unwrap());

        let mut body = user_body("emp1@example.com");
        body["active"] = json!("True");
        let refused = generic.post("/Users", &body).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "the generic directory stays RFC-strict"
        );
        assert_eq!(refused.body["scimType"], json!("invalidValue"));

        let created = entra.post("/Users", &body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["active"], json!(true));
        let path = format!("/Users/{}", created.id());
        let patched = entra
            .patch(
                &path,
                &patch_body(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            )
            .await;
        assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.body);
        assert_eq!(entra.get(&path).await.body["active"], json!(false));

        // The generic directory's user PATCH still answers with the resource.
        let own = generic
            .post("/Users", &user_body("g@example.com"))
            .await
            .id();
        let r = generic
            .patch(
                &format!("/Users/{own}"),
                &patch_body(json!([{"op": "replace", "path": "title", "value": "x"}])),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
);

both_backends!(
    lower_case_endpoints_and_trailing_slashes,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let id = c.post("/users", &user_body("lc@example.com")).await.id();
        assert_eq!(c.get(&format!("/users/{id}")).await.status, StatusCode::OK);
        let listed = c
            .get("/Users/?filter=userName%20eq%20%22lc@example.com%22")
            .await;
        assert_eq!(listed.status, StatusCode::OK);
        assert_eq!(listed.body["totalResults"], json!(1));
        assert_eq!(c.get("/groups").await.status, StatusCode::OK);
    }
);
